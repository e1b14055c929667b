"""A grant ARM shows but Key Vault's data plane doesn't honour yet.

New access policies and role assignments take seconds to minutes to reach Key Vault's data
plane (terraform-provider-azurerm issues 4569, 9114 and 19926: the first apply fails with 403,
the second succeeds unchanged; Microsoft documents RBAC changes taking up to ten minutes). A 403
for want of a grant, while ARM already shows the grant, is therefore a wait, not a refusal: the
key create and read (resources/key_vault_key.py) and drift's listing of a key vault's keys
(audit.py) tell the two apart here.
"""

from __future__ import annotations

from providers.azurerm.ids import parse_resource_id, same_id
from providers.azurerm.resources.base import not_found_is_none, wire
from providers.base import ProviderError
from providers.roles import find_role, grants_action


def refused_for_want_of_grant(exc: ProviderError) -> bool:
    """A 403 for want of a grant (an access policy or a role), not for the key vault's firewall
    (ForbiddenByFirewall), which no wait clears."""
    code = (exc.code or "").lower()
    return exc.status == 403 and ("forbiddenbypolicy" in code or "forbiddenbyrbac" in code)


def caller_granted(clients, key_vault_id: str, action: str, permission: str) -> bool:
    """Whether ARM shows the identity running vaultform allowed ``action`` on keys in the key vault:
    an access policy with the key ``permission`` (or All), or on an RBAC key vault a role held at
    or above it that allows the data action (a role whose definition isn't known counts)."""
    from providers.azurerm.role_facts import roles_on_key_vault  # it reads through resources.base

    caller = clients.caller().object_id
    rid = parse_resource_id(key_vault_id, expect="Microsoft.KeyVault/vaults")
    vault = not_found_is_none(lambda: clients.keyvault_mgmt().vaults.get(rid.resource_group, rid.name))
    if vault is None or not caller:
        return False
    props = wire(vault).get("properties") or {}
    if props.get("enableRbacAuthorization"):
        held = roles_on_key_vault(clients, key_vault_id, caller)
        return any((role := find_role(h.name)) is None or grants_action(role, action) for h in held)
    for entry in props.get("accessPolicies") or []:
        if not same_id(entry.get("objectId"), caller):
            continue
        keys = {str(p).lower() for p in ((entry.get("permissions") or {}).get("keys") or [])}
        if keys & {permission, "all"}:
            return True
    return False


def waiting_message(key_vault_name: str, doing: str, what: str, code: str) -> str:
    return (
        f"waiting for key vault {key_vault_name}'s grant to the identity running vaultform to take "
        f"effect: it allows {doing} keys, but Key Vault still refuses {what} ({code}). "
        "New access policies and role assignments take seconds to minutes to arrive."
    )

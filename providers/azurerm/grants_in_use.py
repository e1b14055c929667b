"""Grants another configuration's vault decrypts with, taken away by this plan (rule R7 across
configurations).

R7 judges the grants of the vaults this configuration manages. A key vault is often shared: a
platform team's configuration manages its access while each workload's configuration manages its
own Recovery Services vault. Narrowing or deleting there the access policy (or role assignment)
of a vault's encryption identity makes that vault's next backup, and every restore, fail with
UserErrorCMKMissingMangedIdentityPermissionOnKeyVault - and nothing in this configuration names
the vault. So when a plan takes CMK permissions away from a principal on a key vault, it reads the
subscription's Recovery Services vaults (as ``audit`` does: the list, then each vault for its
identity and encryption) and refuses to cut off one whose encryption uses a key in that key vault
through that principal. Vaults this plan manages are left to R7 itself, and one it creates where
a vault stands already to ``taken_names``. A plan that takes nothing away reads nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from providers.azurerm.audit import encryption_principal, recovery_vaults
from providers.azurerm.ids import InvalidIdError, parse_key_id, parse_resource_id, same_id
from providers.azurerm.planned_ids import planned_id
from providers.azurerm.resources.base import Context, dig
from providers.base import PlannedInstance, ProviderError
from providers.roles import grants_cmk, missing_cmk_key_permissions
from reconciler.diagnostics import Diagnostic, error, warning

ACCESS_POLICY = "azurerm_key_vault_access_policy"
KEY_VAULT = "azurerm_key_vault"
ROLE_ASSIGNMENT = "azurerm_role_assignment"
RSV = "azurerm_recovery_services_vault"
GONE = frozenset({"delete", "replace"})


@dataclass(frozen=True)
class Loss:
    """CMK permissions ``principal`` loses on ``key_vault_id`` through ``address``."""

    address: str
    key_vault_id: str
    principal: str
    how: str  # "loses WrapKey, UnwrapKey" / "is deleted"
    # deleted and made again by this plan (a delete-first replacement): lost for the gap only
    transient: bool = False
    assignment_id: str = ""  # a role assignment's id: other roles the principal holds may cover it


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _perms(values: dict[str, Any] | None) -> list[str]:
    got = (values or {}).get("key_permissions")
    return [str(p) for p in got] if isinstance(got, list) else []


def _policy_loss(inst: PlannedInstance) -> Loss | None:
    before = inst.before or {}
    principal, kv = _text(before.get("object_id")), _text(before.get("key_vault_id"))
    if not principal or not kv or missing_cmk_key_permissions(_perms(before)):
        return None  # it granted no CMK use before
    after = inst.after or {}
    if inst.action == "replace":
        if inst.create_before_destroy:
            return None  # the new grant is made first
        again = same_id(_text(after.get("object_id")), principal) and not missing_cmk_key_permissions(
            _perms(after)
        )
        how = "is replaced, deleted first" if again else "is replaced by one that doesn't grant it"
        return Loss(str(inst.address), kv, principal, how, transient=again)
    if inst.action in GONE:
        return Loss(str(inst.address), kv, principal, "is deleted")
    if inst.action == "update" and same_id(_text(after.get("object_id")), principal):
        missing = missing_cmk_key_permissions(_perms(after))
        if missing and isinstance(after.get("key_permissions"), list):
            return Loss(str(inst.address), kv, principal, f"loses {', '.join(missing)}")
    return None


def _inline_losses(inst: PlannedInstance) -> list[Loss]:
    before = inst.before or {}
    kv = _text(before.get("id"))
    entries = before.get("access_policy")
    if not kv or not isinstance(entries, list):
        return []
    after_entries = (inst.after or {}).get("access_policy") if inst.action == "update" else []
    if not isinstance(after_entries, list):
        return []  # not known until apply: nothing to judge yet
    kept = {_text(e.get("object_id")).lower(): _perms(e) for e in after_entries if isinstance(e, dict)}
    out = []
    for entry in entries:
        if not isinstance(entry, dict) or missing_cmk_key_permissions(_perms(entry)):
            continue
        principal = _text(entry.get("object_id"))
        if inst.action in GONE:
            continue  # a key vault deleted or replaced: R11 and soft delete speak for it
        if principal.lower() not in kept:
            out.append(Loss(str(inst.address), kv, principal, "loses its access_policy entry"))
        elif missing := missing_cmk_key_permissions(kept[principal.lower()]):
            out.append(Loss(str(inst.address), kv, principal, f"loses {', '.join(missing)}"))
    return out


def _role_loss(inst: PlannedInstance) -> Loss | None:
    before = inst.before or {}
    if inst.action not in GONE:
        return None
    role = _text(before.get("role_definition_name")) or _text(before.get("role_definition_id"))
    scope, principal = _text(before.get("scope")), _text(before.get("principal_id"))
    if not scope or not principal or not grants_cmk(role):
        return None
    assignment = _text(before.get("id"))
    if inst.action == "replace":
        if inst.create_before_destroy:
            return None
        after = inst.after or {}
        again_role = _text(after.get("role_definition_name")) or _text(after.get("role_definition_id"))
        again = same_id(_text(after.get("principal_id")), principal) and grants_cmk(again_role)
        how = "is replaced, deleted first" if again else "is replaced by one that doesn't grant it"
        return Loss(str(inst.address), scope, principal, how, transient=again, assignment_id=assignment)
    return Loss(str(inst.address), scope, principal, "is deleted", assignment_id=assignment)


def losses(instances: Iterable[PlannedInstance]) -> list[Loss]:
    out: list[Loss] = []
    for inst in instances:
        if inst.type_name == ACCESS_POLICY and inst.action in GONE | {"update"}:
            found = _policy_loss(inst)
            out.extend([found] if found else [])
        elif inst.type_name == KEY_VAULT and inst.action == "update":
            out.extend(_inline_losses(inst))
        elif inst.type_name == ROLE_ASSIGNMENT:
            found = _role_loss(inst)
            out.extend([found] if found else [])
    return out


def _key_vault_name_of(key_uri: str) -> str:
    try:
        return parse_key_id(key_uri).vault_name.lower()
    except InvalidIdError:
        return ""


def _named_key_vault(scope: str) -> str:
    """The key vault a grant's scope names (the key vault, or one of its keys); "" for a scope above."""
    try:
        rid = parse_resource_id(scope)
    except (InvalidIdError, ValueError):
        return ""
    vaults = [n for t, n in zip(rid.types, rid.names) if t.lower() == "vaults"]
    return vaults[0].lower() if "microsoft.keyvault" == rid.provider.lower() and vaults else ""


def grants_other_vaults_use(ctx: Context, instances: Iterable[PlannedInstance]) -> list[Diagnostic]:
    instances = list(instances)
    lost = losses(instances)
    if not lost:
        return []
    managed = {
        _text((i.before or {}).get("id")).lower() for i in instances if i.type_name == RSV and i.before
    }
    # a vault this plan creates where one stands already: taken_names refuses that create
    managed |= {
        (planned_id(ctx, RSV, {k: v for k, v in (i.after or {}).items() if isinstance(v, str)}) or "").lower()
        for i in instances
        if i.type_name == RSV and i.action == "create"
    }
    try:
        vaults = recovery_vaults(ctx.clients)
    except ProviderError:
        return []  # can't look: the owning configuration's drift and audit still see it
    out = []
    for body in vaults:
        key_uri = _text(dig(body, "properties.encryption.keyVaultProperties.keyUri"))
        if not key_uri or _text(body.get("id")).lower() in managed:
            continue
        principal = encryption_principal(body)
        if not principal:
            continue
        for loss in lost:
            kv_name = _named_key_vault(loss.key_vault_id)
            if (
                not kv_name
                or not same_id(loss.principal, principal)
                or kv_name != _key_vault_name_of(key_uri)
            ):
                continue
            if loss.assignment_id and _still_granted(ctx, loss, body):
                continue
            out.append(_refusal(loss, body, key_uri))
    return out


def _still_granted(ctx: Context, loss: Loss, body: dict[str, Any]) -> bool:
    """Whether the principal keeps a role that grants CMK use on the vault's key vault besides the
    assignment this plan deletes (one at the resource group, say)."""
    from providers.azurerm.role_facts import roles_on_key_vault

    kv_id = loss.key_vault_id.split("/keys/")[0]
    try:
        held = roles_on_key_vault(ctx.clients, kv_id, loss.principal)
    except ProviderError:
        return False
    return any(r.grants_cmk and not same_id(r.assignment_id, loss.assignment_id) for r in held)


def _refusal(loss: Loss, body: dict[str, Any], key_uri: str) -> Diagnostic:
    name, vault_id = _text(body.get("name")), _text(body.get("id"))
    if loss.transient:
        return warning(
            "R7",
            f"{loss.address} leaves Recovery Services vault {name} without key access for a while",
            f"Principal {loss.principal} is the encryption identity of Recovery Services vault {name} "
            f"({vault_id}), which this configuration doesn't manage and which encrypts its backups with "
            f"{key_uri}. Its grant {loss.how}: until the new one reaches Key Vault (seconds to minutes), "
            "that vault's backups and restores fail. Apply outside the vault's backup window, or give "
            "the identity another grant that covers the key vault first (a role at the resource group) "
            "and remove it once this apply is done.",
            address=loss.address,
        )
    return error(
        "R7",
        f"{loss.address} takes away the key access of Recovery Services vault {name}",
        f"Principal {loss.principal} is the encryption identity of Recovery Services vault {name} "
        f"({vault_id}), which this configuration doesn't manage and which encrypts its backups with "
        f"{key_uri}. Here its grant {loss.how}: the vault's next backup and every restore would fail "
        "(UserErrorCMKMissingMangedIdentityPermissionOnKeyVault) until the grant is back. Keep Get, "
        f"List, WrapKey and UnwrapKey for {loss.principal}, or move vault {name} to another key first "
        "(in the configuration that manages it).",
        address=loss.address,
    )

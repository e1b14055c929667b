"""The id a create would give an object, known before the create is sent.

ARM ids are made of the subscription, resource group, type and name, so the id of
an object about to be created is known in advance. The engine records that id with
its intent to create (a pending operation) before the request goes out; after a
crash the next run reads the id to learn whether the create happened, instead of
creating a second object. Role assignments are the one type whose name is chosen
by the caller at create time: when the configuration leaves ``name`` out, the name
is derived from what the assignment grants (scope, role, principal), so a retried
create asks for the very same assignment.

Every function here is pure except for key vault keys, whose id carries the vault's
data-plane URI, read from ARM.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from providers.azurerm.ids import (
    InvalidIdError,
    ResourceId,
    parse_resource_id,
    resource_group_id,
    resource_id,
)
from providers.azurerm.resources.backup_policy_vm import policy_id as backup_policy_id
from providers.azurerm.resources.backup_protected_vm import VM_TYPE, item_id
from providers.azurerm.resources.base import Context, call, dig, known, wire
from providers.azurerm.resources.key_vault_access_policy import policy_id as access_policy_id
from providers.base import NotFoundError

ROLE_ASSIGNMENT = "azurerm_role_assignment"
ROLE_ASSIGNMENT_MARKER = "/providers/Microsoft.Authorization/roleAssignments/"

# a fixed namespace: the same grant always gets the same assignment name
_ROLE_ASSIGNMENT_NAMESPACE = uuid.UUID("6f1c2a9e-0b57-4e3d-9a41-7c55d0e8b2f3")


def role_assignment_name(planned: Mapping[str, Any]) -> str | None:
    """The assignment's GUID: the configured one, else one derived from the grant."""
    if known(planned.get("name")):
        return str(planned["name"])
    role = (
        planned.get("role_definition_id")
        if known(planned.get("role_definition_id"))
        else planned.get("role_definition_name")
    )
    parts = (planned.get("scope"), role, planned.get("principal_id"))
    texts = [p for p in parts if isinstance(p, str) and known(p)]
    if len(texts) != len(parts):
        return None
    text = "|".join(p.rstrip("/").lower() for p in texts)
    return str(uuid.uuid5(_ROLE_ASSIGNMENT_NAMESPACE, text))


def _arm(provider: str, type_: str) -> Callable[[Context, Mapping[str, Any]], str]:
    def make(ctx: Context, planned: Mapping[str, Any]) -> str:
        return resource_id(
            ctx.subscription_id, planned["resource_group_name"], provider, type_, planned["name"]
        )

    return make


def _resource_group(ctx: Context, planned: Mapping[str, Any]) -> str:
    return resource_group_id(ctx.subscription_id, planned["name"])


def _access_policy(ctx: Context, planned: Mapping[str, Any]) -> str:
    app = str(planned["application_id"]) if known(planned.get("application_id")) else ""
    return access_policy_id(planned["key_vault_id"], planned["object_id"], app)


def _role_assignment(ctx: Context, planned: Mapping[str, Any]) -> str | None:
    name = role_assignment_name(planned)
    if name is None:
        return None
    return planned["scope"].rstrip("/") + ROLE_ASSIGNMENT_MARKER + name


def _backup_policy(ctx: Context, planned: Mapping[str, Any]) -> str:
    return str(
        backup_policy_id(ctx, planned["resource_group_name"], planned["recovery_vault_name"], planned["name"])
    )


def _protected_vm(ctx: Context, planned: Mapping[str, Any]) -> str:
    vm = parse_resource_id(planned["source_vm_id"], expect=VM_TYPE)
    return str(item_id(ctx, planned["resource_group_name"], planned["recovery_vault_name"], vm))


def _key(ctx: Context, planned: Mapping[str, Any]) -> str | None:
    rid: ResourceId = parse_resource_id(planned["key_vault_id"], expect="Microsoft.KeyVault/vaults")
    vault = call(lambda: ctx.clients.keyvault_mgmt().vaults.get(rid.resource_group, rid.name))
    uri = dig(wire(vault), "properties.vaultUri")
    if not uri:
        return None
    return f"{uri.rstrip('/')}/keys/{planned['name']}"


PLANNED_IDS: dict[str, Callable[[Context, Mapping[str, Any]], str | None]] = {
    "azurerm_resource_group": _resource_group,
    "azurerm_user_assigned_identity": _arm("Microsoft.ManagedIdentity", "userAssignedIdentities"),
    "azurerm_key_vault": _arm("Microsoft.KeyVault", "vaults"),
    "azurerm_recovery_services_vault": _arm("Microsoft.RecoveryServices", "vaults"),
    "azurerm_disk_encryption_set": _arm("Microsoft.Compute", "diskEncryptionSets"),
    "azurerm_key_vault_access_policy": _access_policy,
    ROLE_ASSIGNMENT: _role_assignment,
    "azurerm_backup_policy_vm": _backup_policy,
    "azurerm_backup_protected_vm": _protected_vm,
    "azurerm_key_vault_key": _key,
}


def planned_id(ctx: Context, type_name: str, planned: Mapping[str, Any]) -> str | None:
    """The id ``create`` would give ``planned``; None when it can't be known in advance
    (an unknown type, or a value the id is made of is missing or not yet known)."""
    make = PLANNED_IDS.get(type_name)
    if make is None:
        return None
    try:
        got = make(ctx, planned)
    except (KeyError, TypeError, AttributeError, InvalidIdError, NotFoundError):
        return None
    return got if isinstance(got, str) and got else None

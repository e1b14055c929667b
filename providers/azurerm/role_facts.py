"""The roles an identity holds on a key vault in Azure, wherever they were assigned.

A key vault that authorizes with Azure RBAC shows nobody's access in its own body (unlike its
access policies), and a role may come from another configuration, the portal, or a scope above
the key vault (its resource group, the subscription). Azure lists them for one principal at the
key vault's scope: "Use $filter=principalId eq {id} to return all role assignments at, above or
below the scope for the specified principal" (Microsoft Learn, REST API reference, Role
Assignments - List For Scope). Those at or above the key vault apply to its keys, and so do those
scoped to the key itself. A built-in Key Vault role is judged from ``providers.roles``; any other
role's definition is read (custom roles grant data actions too), its dataActions less its
notDataActions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any

from providers.azurerm.ids import same_id
from providers.azurerm.resources.base import dig, not_found_is_none, wire
from providers.roles import CMK_DATA_ACTIONS, find_role, grants_cmk, is_least_privilege_for_cmk


@dataclass(frozen=True)
class HeldRole:
    """One role the identity holds on the key vault: its name, and whether it lets the identity
    read, wrap and unwrap with a key (None: its definition couldn't be read)."""

    name: str
    grants_cmk: bool | None
    least_privilege: bool = False
    assignment_id: str = ""  # the role assignment that gives it (a plan may be deleting it)


def _covers(patterns: list[Any], action: str) -> bool:
    return any(isinstance(p, str) and fnmatchcase(action.lower(), p.lower()) for p in patterns)


# role definition GUID -> what it grants: a role is defined under one GUID at every scope, so one
# read serves every assignment of it in this process (an audit meets the same roles vault after vault)
_definitions: dict[str, HeldRole] = {}


def _judged(clients: Any, definition_id: str) -> HeldRole:
    known = find_role(definition_id)
    if known is not None:
        return HeldRole(known.name, grants_cmk(known), is_least_privilege_for_cmk(known))
    guid = definition_id.rstrip("/").rsplit("/", 1)[-1].lower()
    if guid not in _definitions:
        _definitions[guid] = _read_definition(clients, definition_id)
    return _definitions[guid]


def _read_definition(clients: Any, definition_id: str) -> HeldRole:
    found = not_found_is_none(lambda: clients.authorization().role_definitions.get_by_id(definition_id))
    if found is None:
        return HeldRole(definition_id.rsplit("/", 1)[-1], None)
    body = wire(found)
    name = dig(body, "properties.roleName") or definition_id.rsplit("/", 1)[-1]
    allowed: list[Any] = []
    denied: list[Any] = []
    for permission in dig(body, "properties.permissions") or []:
        allowed.extend(permission.get("dataActions") or [])
        denied.extend(permission.get("notDataActions") or [])
    grants = all(_covers(allowed, a) and not _covers(denied, a) for a in CMK_DATA_ACTIONS)
    return HeldRole(str(name), grants)


def roles_on_key_vault(
    clients: Any, key_vault_id: str, principal_id: str, key_name: str | None = None
) -> tuple[HeldRole, ...]:
    """The roles ``principal_id`` holds at ``key_vault_id``, a scope above it, or the key
    ``key_name`` itself (Key Vault takes role assignments scoped to one key)."""
    escaped = principal_id.replace("'", "''")
    listed = (
        not_found_is_none(
            lambda: list(
                clients.authorization().role_assignments.list_for_scope(
                    key_vault_id, filter=f"principalId eq '{escaped}'"
                )
            )
        )
        or []
    )
    target = key_vault_id.rstrip("/").lower()
    key_scope = f"{target}/keys/{key_name.lower()}" if key_name else None
    held = []
    for assignment in listed:
        props = wire(assignment).get("properties") or {}
        scope = str(props.get("scope") or "").rstrip("/").lower()
        if not scope or not (target == scope or target.startswith(scope + "/") or scope == key_scope):
            continue  # another key of the key vault, or elsewhere
        if not same_id(props.get("principalId"), principal_id):
            continue
        role = _judged(clients, str(props.get("roleDefinitionId") or ""))
        held.append(replace(role, assignment_id=str(wire(assignment).get("id") or "")))
    return tuple(held)

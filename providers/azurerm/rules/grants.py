"""Who may use the keys of which key vault: access policies and role assignments as one list.

A ``Grant`` is one permission statement found in the plan: a standalone
``azurerm_key_vault_access_policy``, an inline ``access_policy`` block of an
``azurerm_key_vault`` (planned, or as refresh saw it), or an ``azurerm_role_assignment``
whose scope covers a key vault. Deleted grants are left out: after apply they are gone.

A key vault holds one access-policy list, and both its planned ``access_policy`` (a
computed attribute that carries the list over) and what refresh read include the
entries of standalone policies. For a (tenant, object id) that a standalone
``azurerm_key_vault_access_policy`` of the plan states, that resource decides: its
planned permissions count, or nothing when it is deleted; the key vault's list
entries for the same principal do not.

Roles come from ``providers.roles`` (the built-in Key Vault roles as data).

Key Vault honours one authorization model at a time: access policies when
``rbac_authorization_enabled`` is false (the default), Azure RBAC role assignments when
it is true. ``applies_to`` encodes that.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from providers.roles import (
    CMK_KEY_PERMISSIONS,
    LEAST_PRIVILEGE_CMK_ROLE,
    BuiltInRole,
    find_role,
    grants_action,
    grants_cmk,
    is_least_privilege_for_cmk,
)
from reconciler.values import UNKNOWN

from .model import Action, Node, PlanIndex, TypeName, unique
from .refs import blocks, known_str

CMK_PERMISSIONS = CMK_KEY_PERMISSIONS
CREATE_KEY_PERMISSIONS = ("Create",)
LEAST_PRIVILEGE_ROLE = LEAST_PRIVILEGE_CMK_ROLE.name


KEY_CREATE_ACTION = "Microsoft.KeyVault/vaults/keys/create/action"


def role_named(name: Any, definition_id: Any) -> BuiltInRole | None | Any:
    """The built-in Key Vault role of an assignment; None for other roles; UNKNOWN when unknown."""
    text = known_str(name) or known_str(definition_id)
    if text:
        return find_role(text)
    return UNKNOWN if UNKNOWN in (name, definition_id) else None


def role_grants_cmk(role: BuiltInRole | None) -> bool:
    return role is not None and grants_cmk(role)


def role_is_least_privilege(role: BuiltInRole | None) -> bool:
    return role is not None and is_least_privilege_for_cmk(role)


def role_creates_keys(role: BuiltInRole | None) -> bool:
    return role is not None and grants_action(role, KEY_CREATE_ACTION)


class GrantKind(enum.Enum):
    ACCESS_POLICY = "access policy"
    INLINE_POLICY = "inline access_policy"
    REFRESHED_POLICY = "access policy found at refresh"
    ROLE_ASSIGNMENT = "role assignment"

    @property
    def is_policy(self) -> bool:
        return self is not GrantKind.ROLE_ASSIGNMENT


@dataclass(frozen=True)
class Grant:
    kind: GrantKind
    holder: Node  # the node whose attributes state the grant
    principal_attr: str  # where the principal is written ("object_id", "access_policy")
    principal_value: Any  # object id (str, UNKNOWN)
    key_vaults: tuple[str, ...]  # addresses of the key vaults it covers
    permissions: frozenset[str] | Any  # lower-case key permissions (policies), UNKNOWN
    role: BuiltInRole | None | Any  # role assignments

    @property
    def node_id(self) -> str | None:
        """The graph node that must finish for the grant to exist (None: exists already)."""
        return None if self.kind is GrantKind.REFRESHED_POLICY else self.holder.address

    @property
    def standalone(self) -> bool:
        return self.kind in (GrantKind.ACCESS_POLICY, GrantKind.ROLE_ASSIGNMENT)

    def has_all(self, wanted: tuple[str, ...]) -> bool | None:
        """True/False when decidable, None when permissions or role are unknown."""
        if self.kind.is_policy:
            if self.permissions is UNKNOWN:
                return None
            return all(p.lower() in self.permissions for p in wanted)
        if self.role is UNKNOWN:
            return None
        if wanted == CMK_PERMISSIONS:
            return role_grants_cmk(self.role)
        if wanted == CREATE_KEY_PERMISSIONS:
            return role_creates_keys(self.role)
        return False

    def missing(self, wanted: tuple[str, ...]) -> tuple[str, ...]:
        if not self.kind.is_policy or self.permissions is UNKNOWN:
            return ()
        return tuple(p for p in wanted if p.lower() not in self.permissions)


def _permissions(value: Any) -> frozenset[str] | Any:
    if value is UNKNOWN:
        return UNKNOWN
    if not isinstance(value, (list, tuple, set, frozenset)):
        return frozenset()
    if any(v is UNKNOWN for v in value):
        return UNKNOWN
    return frozenset(v.lower() for v in value if isinstance(v, str))


def _scope_key_vaults(index: PlanIndex, node: Node) -> list[Node]:
    """Key vaults a role assignment's scope covers (the vault, a key in it, or a group/subscription)."""
    found = [n for n, _ in index.targets(node, ("scope",), TypeName.KEY_VAULT)]
    for key, _ in index.targets(node, ("scope",), TypeName.KEY):
        found += [n for n, _ in index.targets(key, ("key_vault_id",), TypeName.KEY_VAULT)]
    for rg, _ in index.targets(node, ("scope",), TypeName.RESOURCE_GROUP):
        for kv in index.of_type(TypeName.KEY_VAULT):
            by_ref = any(
                t.address == rg.address
                for t, _ in index.targets(kv, ("resource_group_name",), TypeName.RESOURCE_GROUP)
            )
            if by_ref or _same(kv.value("resource_group_name"), rg.value("name")):
                found.append(kv)
    scope = known_str(node.value("scope"))
    if scope:
        s = scope.rstrip("/").lower()
        for kv in index.of_type(TypeName.KEY_VAULT):
            kv_id = known_str(kv.value("id"))
            if kv_id and (
                kv_id.lower() == s or kv_id.lower().startswith(s + "/") or s.startswith(kv_id.lower() + "/")
            ):
                found.append(kv)
    return unique(found)


def _same(a: Any, b: Any) -> bool:
    a, b = known_str(a), known_str(b)
    return bool(a and b and a.lower() == b.lower())


def _policy_key_vaults(index: PlanIndex, node: Node) -> list[Node]:
    found = [n for n, _ in index.targets(node, ("key_vault_id",), TypeName.KEY_VAULT)]
    found += index.by_id_value(node.value("key_vault_id"), TypeName.KEY_VAULT)
    return unique(found)


def grant_key_vaults(index: PlanIndex, node: Node) -> list[Node]:
    """The key vaults an access policy or role assignment node covers (whatever its action)."""
    if node.type_name == TypeName.ROLE_ASSIGNMENT.value:
        return _scope_key_vaults(index, node)
    return _policy_key_vaults(index, node)


def _principal_keys(node: Node) -> set[tuple[str | None, str]]:
    """(tenant, object id) pairs a standalone access policy states, planned or as it is now (lower-case)."""
    out: set[tuple[str | None, str]] = set()
    for src in (node.after, node.inst.before, node.inst.refreshed):
        if not src:
            continue
        obj = known_str(src.get("object_id"))
        if obj:
            tenant = known_str(src.get("tenant_id"))
            out.add((tenant.lower() if tenant else None, obj.lower()))
    return out


def _standalone_policies(index: PlanIndex) -> dict[str, set[tuple[str | None, str]]]:
    """Key vault address -> (tenant, object id) pairs that a standalone access policy of the plan owns.

    Key Vault keeps one access-policy list per vault, and refresh reads the standalone
    policies back into it. The standalone resource is what the plan decides for that
    principal, whatever its action: updated, its planned permissions count; deleted,
    nothing counts; so the key vault's list entry for the same principal (carried over in
    its planned ``access_policy``, or read at refresh) must not.
    """
    out: dict[str, set[tuple[str | None, str]]] = {}
    for node in index.of_type(TypeName.ACCESS_POLICY, data=False):
        keys = _principal_keys(node)
        for kv in _policy_key_vaults(index, node):
            out.setdefault(kv.address, set()).update(keys)
    return out


def _owned(owned: set[tuple[str | None, str]], tenant: Any, object_id: str) -> bool:
    t = known_str(tenant)
    t = t.lower() if t else None
    return any(obj == object_id.lower() and (t is None or ot is None or ot == t) for ot, obj in owned)


def _standalone_grants(index: PlanIndex, keep: Callable[[Node], bool], now: bool) -> list[Grant]:
    """The access policy and role assignment resources ``keep`` selects, as planned (``now``: as
    they are now, for those the plan deletes)."""
    out: list[Grant] = []
    for node in index.of_type(TypeName.ACCESS_POLICY, data=False):
        if keep(node):
            read = node.value if now else node.planned
            kvs = tuple(n.address for n in _policy_key_vaults(index, node))
            permissions = _permissions(read("key_permissions"))
            out.append(
                Grant(GrantKind.ACCESS_POLICY, node, "object_id", read("object_id"), kvs, permissions, None)
            )
    for node in index.of_type(TypeName.ROLE_ASSIGNMENT, data=False):
        if keep(node):
            read = node.value if now else node.planned
            kvs = tuple(n.address for n in _scope_key_vaults(index, node))
            role = role_named(read("role_definition_name"), read("role_definition_id"))
            out.append(
                Grant(
                    GrantKind.ROLE_ASSIGNMENT,
                    node,
                    "principal_id",
                    read("principal_id"),
                    kvs,
                    frozenset(),
                    role,
                )
            )
    return out


def collect_grants(index: PlanIndex) -> list[Grant]:
    """Every grant that exists once the plan is applied."""
    out = _standalone_grants(index, lambda node: node.action.exists_after, now=False)
    standalone = _standalone_policies(index)
    for kv in index.of_type(TypeName.KEY_VAULT):
        if not kv.action.exists_after:
            continue
        owned = standalone.get(kv.address, set())
        planned = blocks(kv.after, "access_policy")
        for entry in planned:
            if entry is UNKNOWN:
                out.append(
                    Grant(GrantKind.INLINE_POLICY, kv, "access_policy", UNKNOWN, (kv.address,), UNKNOWN, None)
                )
                continue
            if known_str(entry.get("object_id")) and _owned(
                owned, entry.get("tenant_id"), entry["object_id"]
            ):
                continue
            out.append(
                Grant(
                    GrantKind.INLINE_POLICY,
                    kv,
                    "access_policy",
                    entry.get("object_id"),
                    (kv.address,),
                    _permissions(entry.get("key_permissions")),
                    None,
                )
            )
        if kv.action is Action.REPLACE or kv.is_data:
            continue
        for entry in blocks(kv.inst.refreshed, "access_policy"):
            if entry is UNKNOWN or not known_str(entry.get("object_id")):
                continue
            if _owned(owned, entry.get("tenant_id"), entry["object_id"]):
                continue
            out.append(
                Grant(
                    GrantKind.REFRESHED_POLICY,
                    kv,
                    "",
                    entry.get("object_id"),
                    (kv.address,),
                    _permissions(entry.get("key_permissions")),
                    None,
                )
            )
    return out


RBAC_NAMES = ("rbac_authorization_enabled", "enable_rbac_authorization")  # azurerm's name, its former one


def rbac_setting(values: dict[str, Any] | None, before: dict[str, Any] | None = None) -> bool | None:
    """The model a key vault's attributes set: True Azure RBAC, False access policies, None unset or
    unknown. Both names carry the one setting; where they differ, the configuration set the one that
    differs from ``before`` (the other keeps its recorded value until the next refresh)."""
    if not isinstance(values, dict):
        return None
    known = {n: values.get(n) for n in RBAC_NAMES if isinstance(values.get(n), bool)}
    if len(set(known.values())) > 1 and isinstance(before, dict):
        known = {n: v for n, v in known.items() if v != before.get(n)} or known
    return next(iter(known.values()), None)


def authorization_model(kv: Node) -> bool | None:
    """True: Azure RBAC; False: access policies; None: unknown."""
    after = kv.after
    if after is not None:
        planned = rbac_setting(after, kv.inst.before)
        if planned is not None:
            return planned
        if any(after.get(n) is UNKNOWN for n in RBAC_NAMES):
            return None
    for source in (kv.inst.before, kv.inst.refreshed):
        recorded = rbac_setting(source)
        if recorded is not None:
            return recorded
    return False


def leaving_grants(index: PlanIndex) -> list[Grant]:
    """The standalone access policies and role assignments this plan deletes, as they are now:
    what a key deleted in the same plan may still need (the deployer's Delete permission)."""
    return _standalone_grants(index, lambda node: node.action is Action.DELETE, now=True)


def applies_to(grant: Grant, kv: Node) -> bool:
    """The grant counts on ``kv`` under the authorization model the key vault uses."""
    if kv.address not in grant.key_vaults:
        return False
    rbac = authorization_model(kv)
    if rbac is None:
        return True
    return rbac is (grant.kind is GrantKind.ROLE_ASSIGNMENT)


def deployer_ids(index: PlanIndex) -> list[Node]:
    """``data.azurerm_client_config`` instances: the identity that runs the plan."""
    return index.of_type(TypeName.CLIENT_CONFIG)


def names_deployer(index: PlanIndex, grant: Grant) -> bool:
    """The grant's principal is the deployer (by reference to azurerm_client_config or by value)."""
    configs = deployer_ids(index)
    if grant.principal_attr:
        for ref in grant.holder.refs_for(grant.principal_attr):
            deployer_ref = ref.type_name == TypeName.CLIENT_CONFIG.value and ref.last == "object_id"
            if deployer_ref and (
                grant.kind is not GrantKind.INLINE_POLICY or grant.principal_value is UNKNOWN
            ):
                return True
    value = known_str(grant.principal_value)
    return bool(value and any(_same(value, c.value("object_id")) for c in configs))


def names_identity(index: PlanIndex, grant: Grant, ident) -> bool:
    """The grant's principal is the encryption identity ``ident`` (an ``EncryptionIdentity``).

    Inline blocks share one reference list, so their references only count for a
    block whose object id is not known yet.
    """
    use_refs = (
        grant.kind is GrantKind.ACCESS_POLICY
        or grant.kind is GrantKind.ROLE_ASSIGNMENT
        or (grant.kind is GrantKind.INLINE_POLICY and grant.principal_value is UNKNOWN)
    )
    names = (grant.principal_attr,) if use_refs else ()
    return ident.matches(index, grant.holder, names, grant.principal_value)


__all__ = [
    "CMK_PERMISSIONS",
    "CREATE_KEY_PERMISSIONS",
    "LEAST_PRIVILEGE_ROLE",
    "role_named",
    "role_grants_cmk",
    "role_is_least_privilege",
    "role_creates_keys",
    "GrantKind",
    "Grant",
    "collect_grants",
    "leaving_grants",
    "authorization_model",
    "applies_to",
    "names_deployer",
    "names_identity",
    "grant_key_vaults",
]

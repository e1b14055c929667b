"""How the planned objects relate: vault -> key -> key vault, vault -> identity, vault -> items.

Every relation is found by reference (the configuration says so) or by a known
value (the ids recorded in state or returned by refresh), so it holds before and
after the objects exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from reconciler.values import UNKNOWN

from .model import Action, Encryption, Node, PlanIndex, TypeName, identity_kinds, unique
from .refs import Reference, known_str, lookup, same_text

# --------------------------------------------------------------------------- keys


def _key_ids(index: PlanIndex) -> tuple[dict[str, list[Node]], dict[str, list[Node]]]:
    """(id -> keys, versionless id -> keys) over every id a key has (planned, prior, refreshed), folded as
    ``same_text`` compares; built once per plan, so matching a vault's key_id is no scan of the keys."""
    tables = index.memo.get("key_ids")
    if tables is None:
        exact: dict[str, list[Node]] = {}
        versionless: dict[str, list[Node]] = {}
        for key in index.of_type(TypeName.KEY):
            for src in (key.after, key.inst.before, key.inst.refreshed):
                if not src:
                    continue
                for attr in ("id", "versionless_id"):
                    have = known_str(lookup(src, (attr,)))
                    if not have:
                        continue
                    folded = have.rstrip("/").lower()
                    for table in (exact, versionless) if attr == "versionless_id" else (exact,):
                        found = table.setdefault(folded, [])
                        if all(k is not key for k in found):
                            found.append(key)
        tables = index.memo["key_ids"] = (exact, versionless)
    return tables


def _keys_named(index: PlanIndex, key_id: str) -> list[Node]:
    """The keys a vault's key_id (versioned or not) names: its id or versionless id, or a versionless id
    the key_id continues with a path (a version)."""
    exact, versionless = _key_ids(index)
    wanted = key_id.rstrip("/").lower()
    found = list(exact.get(wanted, ()))
    cut = wanted.rfind("/")
    while cut > 0:
        found += versionless.get(wanted[:cut], ())
        cut = wanted.rfind("/", 0, cut)
    order = {id(n): i for i, n in enumerate(index.of_type(TypeName.KEY))} if len(found) > 1 else {}
    return sorted(unique(found), key=lambda n: order.get(id(n), 0))


def keys_of(index: PlanIndex, vault: Node, enc: Encryption | None, *, planned: bool) -> list[Node]:
    """The key(s) an encryption setting names; ``planned`` also follows the configuration's references."""
    if enc is None:
        return []
    found: list[Node] = []
    if planned:
        found += [n for n, _ in index.targets(vault, ("encryption",), TypeName.KEY)]
    key_id = known_str(enc.key_id)
    if key_id:
        found += _keys_named(index, key_id)
    return unique(found)


def key_ref_of(vault: Node) -> Reference | None:
    """The configuration's reference to the key of the vault's encryption, if written so."""
    for ref in vault.refs_for("encryption"):
        if ref.type_name == TypeName.KEY.value:
            return ref
    return None


def key_vaults_of_key(index: PlanIndex, key: Node) -> list[Node]:
    found = [n for n, _ in index.targets(key, ("key_vault_id",), TypeName.KEY_VAULT)]
    found += index.by_id_value(key.value("key_vault_id"), TypeName.KEY_VAULT)
    return unique(found)


def host_of(url: Any) -> str | None:
    text = known_str(url)
    if not text:
        return None
    try:
        return (urlparse(text).hostname or "").lower() or None
    except ValueError:
        return None


def key_vaults_of(index: PlanIndex, vault: Node, enc: Encryption | None, *, planned: bool) -> list[Node]:
    """The key vault(s) holding the key of an encryption setting."""
    if enc is None:
        return []
    found: list[Node] = []
    for key in keys_of(index, vault, enc, planned=planned):
        found += key_vaults_of_key(index, key)
    host = host_of(enc.key_id)
    if host:
        found += _key_vaults_byhost_of(index, host)
    return unique(found)


def _key_vaults_byhost_of(index: PlanIndex, host: str) -> list[Node]:
    """The key vaults whose vault_uri has ``host``, or whose name is its first label, in the index's order
    (the host -> key vaults table is built once per plan)."""
    tables = index.memo.get("key_vault_hosts")
    if tables is None:
        by_host: dict[str, list[int]] = {}
        by_name: dict[str, list[int]] = {}
        for i, kv in enumerate(index.of_type(TypeName.KEY_VAULT)):
            uri_host = host_of(kv.value("vault_uri"))
            if uri_host:
                by_host.setdefault(uri_host, []).append(i)
            name = known_str(kv.value("name"))
            if name:
                by_name.setdefault(name.lower(), []).append(i)
        tables = index.memo["key_vault_hosts"] = (by_host, by_name)
    by_host, by_name = tables
    positions = sorted(set(by_host.get(host, ())) | set(by_name.get(host.split(".", 1)[0], ())))
    key_vaults = index.of_type(TypeName.KEY_VAULT)
    return [key_vaults[i] for i in positions]


# --------------------------------------------------------------------------- identities


@dataclass(frozen=True)
class EncryptionIdentity:
    """The managed identity a vault's encryption uses to reach the key."""

    vault: Node
    user_assigned: bool
    identities: tuple[Node, ...]  # azurerm_user_assigned_identity nodes (managed or data)
    principal_id: str | None  # known object id of the identity
    tenant_id: str | None

    @property
    def label(self) -> str:
        if not self.user_assigned:
            return f"the system-assigned identity of {self.vault.address}"
        if self.identities:
            return f"the user-assigned identity {self.identities[0].address}"
        return "the user-assigned identity of the encryption block"

    @property
    def sources(self) -> tuple[Node, ...]:
        """The instances whose creation brings the identity into being."""
        if not self.user_assigned:
            return (self.vault,)
        return self.identities

    def matches(self, index: PlanIndex, holder: Node, names: tuple[str, ...], value: Any) -> bool:
        """``holder`` names this identity as a principal (by reference in ``names``, or by value)."""
        for ref in holder.refs_for(*names):
            if not (ref.last in ("principal_id", "object_id") or ref.path_cut):
                continue
            targets = {n.address for n in index.resolve(ref, holder)}
            if (
                not self.user_assigned
                and ref.type_name == TypeName.VAULT.value
                and self.vault.address in targets
                and (ref.reads("identity") or ref.path_cut)
            ):
                return True
            if (
                self.user_assigned
                and ref.type_name == TypeName.USER_IDENTITY.value
                and targets & {n.address for n in self.identities}
            ):
                return True
        return bool(same_text(value, self.principal_id))


def user_identities_of(index: PlanIndex, vault: Node, enc: Encryption) -> list[Node]:
    found = [n for n, _ in index.targets(vault, ("encryption",), TypeName.USER_IDENTITY)]
    found += index.by_id_value(enc.user_identity_id, TypeName.USER_IDENTITY)
    return unique(found)


def encryption_identity(index: PlanIndex, vault: Node, enc: Encryption) -> EncryptionIdentity | None:
    """Which identity the encryption uses; None when that can't be known at plan time."""
    user = enc.uses_user_identity
    if user is None:
        return None
    if not user:
        return EncryptionIdentity(
            vault,
            False,
            (),
            known_str(vault.value("identity", 0, "principal_id")),
            known_str(vault.value("identity", 0, "tenant_id")),
        )
    nodes = user_identities_of(index, vault, enc)
    principal = tenant = None
    for n in nodes:
        principal = principal or known_str(n.value("principal_id"))
        tenant = tenant or known_str(n.value("tenant_id"))
    return EncryptionIdentity(vault, True, tuple(nodes), principal, tenant)


def identity_types(source: dict | None) -> frozenset[str] | Any:
    """The identity kinds of a planned or prior vault (empty when it has none)."""
    if source is None:
        return frozenset()
    value = lookup(source, ("identity", 0, "type"))
    return identity_kinds(value)


def identity_ids(source: dict | None) -> frozenset[str] | Any:
    if source is None:
        return frozenset()
    value = lookup(source, ("identity", 0, "identity_ids"))
    if value is UNKNOWN:
        return UNKNOWN
    if not isinstance(value, (list, tuple, set, frozenset)):
        return frozenset()
    if any(v is UNKNOWN for v in value):
        return UNKNOWN
    return frozenset(v.rstrip("/").lower() for v in value if isinstance(v, str))


# --------------------------------------------------------------------------- backup items


def targets_vault(index: PlanIndex, item: Node, vault: Node) -> bool:
    """A backup policy or protected item aims at ``vault`` (recovery_vault_name + resource group)."""
    by_ref = any(
        ref.type_name == TypeName.VAULT.value
        and vault.address in {n.address for n in index.resolve(ref, item)}
        for ref in item.refs_for("recovery_vault_name")
    )
    if not by_ref and not same_text(item.value("recovery_vault_name"), vault.value("name")):
        return False
    rg_same = same_text(item.value("resource_group_name"), vault.value("resource_group_name"))
    return rg_same is not False or by_ref


def items_of(index: PlanIndex, vault: Node, *types: TypeName) -> list[Node]:
    """Managed backup policies / protected items (of ``types``) that target ``vault``."""
    table = index.memo.get("items_by_vault")
    if table is None:
        table = index.memo["items_by_vault"] = _items_by_vault(index)
    return [n for n in table.get(vault.address, []) if n.type_name in {t.value for t in types}]


def _items_by_vault(index: PlanIndex) -> dict[str, list[Node]]:
    """Vault address -> items aiming at it; candidates come from references and names, then are checked."""
    vaults = index.of_type(TypeName.VAULT, data=False)
    by_name: dict[str, list[Node]] = {}
    for v in vaults:
        name = known_str(v.value("name"))
        if name:
            by_name.setdefault(name.lower(), []).append(v)
    out: dict[str, list[Node]] = {}
    for t in (TypeName.BACKUP_POLICY_VM, TypeName.PROTECTED_VM):
        for item in index.of_type(t, data=False):
            candidates = [n for n, _ in index.targets(item, ("recovery_vault_name",), TypeName.VAULT)]
            name = known_str(item.value("recovery_vault_name"))
            if name:
                candidates += by_name.get(name.lower(), [])
            for v in unique(candidates):
                if targets_vault(index, item, v):
                    out.setdefault(v.address, []).append(item)
    return out


# --------------------------------------------------------------------------- a vault in the plan


@dataclass(frozen=True)
class VaultCase:
    """A Recovery Services vault with its encryption before and after the plan."""

    vault: Node
    before: Encryption | None
    after: Encryption | None

    @classmethod
    def of(cls, vault: Node) -> VaultCase:
        return cls(vault, Encryption.of(vault.prior), Encryption.of(vault.after))

    @property
    def address(self) -> str:
        return self.vault.address

    @property
    def newly_encrypted(self) -> bool:
        """Encryption is added to an existing vault (or set on a new one)."""
        return self.after is not None and (self.before is None or self.vault.action is Action.REPLACE)

    @property
    def key_changed(self) -> bool:
        """The vault moves from one known key (or version) to another."""
        if self.before is None or self.after is None or self.vault.action is Action.REPLACE:
            return False
        old, new = known_str(self.before.key_id), self.after.key_id
        if old is None:
            return False
        return new is UNKNOWN or same_text(old, new) is False

    @property
    def encryption_touched(self) -> bool:
        """The key assignment is (re)made by this plan."""
        if self.after is None:
            return False
        if self.vault.action in (Action.CREATE, Action.REPLACE) or self.before is None:
            return True
        return self.before != self.after


def vault_cases(index: PlanIndex) -> list[VaultCase]:
    return [VaultCase.of(v) for v in index.of_type(TypeName.VAULT, data=False)]


__all__ = [
    "keys_of",
    "key_ref_of",
    "key_vaults_of_key",
    "key_vaults_of",
    "EncryptionIdentity",
    "encryption_identity",
    "user_identities_of",
    "identity_types",
    "identity_ids",
    "targets_vault",
    "items_of",
    "VaultCase",
    "vault_cases",
]

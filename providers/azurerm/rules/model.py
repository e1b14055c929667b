"""An index of the planned estate, for the CMK domain rules.

``PlanIndex`` wraps the ``PlannedInstance`` values of one plan and answers the
questions every rule asks: which vaults encrypt with which key, which key vault
holds that key, which identity the encryption uses, which items a vault protects.
Each match is made by a known value OR by a reference as written, because most
ids are unknown until apply.

Provider-private facts the rules rely on (filled by the azurerm provider at refresh):

``refreshed["_history"]`` on an ``azurerm_recovery_services_vault`` — what the cloud
remembers about the vault's items, even after they are gone::

    {"had_items": bool,               # any item was ever protected or registered
     "registration_attempts": int,    # protection/registration attempts, failed ones included
                                      # (None: not read - the vault already has a customer-managed key)
     "protected_items": int,          # items protected right now
     "recovery_points": int}          # recovery points its items hold right now

Any of the first three being truthy means the vault can never take a customer-managed
key (R3). Keys that are missing count as "no history". Recovery points stay wrapped
with the key that was in use when they were taken, so a key the vault moves away
from is still needed while they exist (R11).

``refreshed["enabled"]`` on an ``azurerm_key_vault_key`` (managed or data source) —
whether the current key version is enabled in Key Vault; ``after["enabled"]`` is
honoured the same way when a configuration sets it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from providers.base import PlannedInstance
from reconciler.values import UNKNOWN
from state.addresses import Mode
from state.addresses import Node as GraphNode

from .refs import (
    Reference,
    block,
    known_str,
    lookup,
    module_prefix_of,
    parse_all,
    resource_of,
)

HISTORY_KEY = "_history"
# the keys a vault encrypted with before, kept in state by its handler: [{"key_id", "points_until"}]
PREVIOUS_KEYS = "_previous_keys"
HISTORY_FLAGS = ("had_items", "registration_attempts", "protected_items")


class Action(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    NOOP = "no-op"
    READ = "read"

    @property
    def exists_after(self) -> bool:
        return self is not Action.DELETE

    @property
    def existed_before(self) -> bool:
        return self in (Action.UPDATE, Action.REPLACE, Action.DELETE, Action.NOOP)

    @property
    def changes(self) -> bool:
        return self in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE)

    @property
    def removes_object(self) -> bool:
        """The object that exists now goes away (for a while at least)."""
        return self in (Action.DELETE, Action.REPLACE)


class TypeName(enum.Enum):
    RESOURCE_GROUP = "azurerm_resource_group"
    VAULT = "azurerm_recovery_services_vault"
    USER_IDENTITY = "azurerm_user_assigned_identity"
    KEY_VAULT = "azurerm_key_vault"
    ACCESS_POLICY = "azurerm_key_vault_access_policy"
    KEY = "azurerm_key_vault_key"
    ROLE_ASSIGNMENT = "azurerm_role_assignment"
    BACKUP_POLICY_VM = "azurerm_backup_policy_vm"
    PROTECTED_VM = "azurerm_backup_protected_vm"
    CLIENT_CONFIG = "azurerm_client_config"
    PRIVATE_ENDPOINT = "azurerm_private_endpoint"
    VIRTUAL_MACHINE = "azurerm_virtual_machine"  # a data source: the VMs the configuration protects


SYSTEM = "SystemAssigned"
USER = "UserAssigned"


def identity_kinds(value: Any) -> frozenset[str] | Any:
    """``"SystemAssigned, UserAssigned"`` -> {"SystemAssigned", "UserAssigned"}; UNKNOWN stays."""
    if value is UNKNOWN:
        return UNKNOWN
    text = known_str(value)
    if text is None:
        return frozenset()
    canon = {SYSTEM.lower(): SYSTEM, USER.lower(): USER}
    return frozenset(canon.get(p.strip().lower(), p.strip()) for p in text.split(",") if p.strip())


# --------------------------------------------------------------------------- nodes


@dataclass(frozen=True)
class Node:
    """One planned instance with its action parsed and its references read."""

    inst: PlannedInstance
    action: Action
    refs: dict[str, tuple[Reference, ...]]
    is_data: bool = False  # a data source (read, never created)

    @property
    def address(self) -> str:
        return str(self.inst.address)

    @property
    def graph_node(self) -> GraphNode:
        """The instance's node in the engine's dependency graph (the object itself)."""
        return GraphNode(self.inst.address)

    @property
    def type_name(self) -> str:
        return self.inst.type_name

    @property
    def removal(self) -> str:
        """What the plan does to the object it removes, as a verb phrase for messages."""
        if self.action is Action.DELETE:
            return "destroys"
        if self.inst.create_before_destroy:
            return "replaces (creates the new one, then destroys the old)"
        return "replaces (destroys, then re-creates)"

    @property
    def after(self) -> dict | None:
        """What exists once the plan is applied (None when deleted)."""
        if self.action is Action.DELETE:
            return None
        if self.inst.after is not None:
            return self.inst.after
        return self.inst.refreshed if self.action is Action.READ else None

    @property
    def prior(self) -> dict | None:
        """What exists now: prior state, else what refresh saw."""
        if self.action in (Action.CREATE, Action.READ):
            return None
        return self.inst.before if self.inst.before is not None else self.inst.refreshed

    def value(self, *path: str | int) -> Any:
        """The first value found in the plan, then prior state, then refresh (for computed ones)."""
        for source in (self.after, self.inst.before, self.inst.refreshed):
            v = lookup(source, path) if source is not None else None
            if v is not None:
                return v
        return None

    def planned(self, *path: str | int) -> Any:
        return lookup(self.after, path) if self.after is not None else None

    def previous(self, *path: str | int) -> Any:
        return lookup(self.prior, path) if self.prior is not None else None

    def refs_for(self, *names: str) -> tuple[Reference, ...]:
        """References written in any of ``names`` (top-level keys; ``block.attr`` keys too)."""
        out: list[Reference] = []
        for key, refs in self.refs.items():
            top = key.split(".", 1)[0].split("[", 1)[0]
            if key in names or top in names:
                out.extend(refs)
        return tuple(out)

    @property
    def location(self) -> str:
        return self.inst.location


# --------------------------------------------------------------------------- the index


@dataclass
class PlanIndex:
    nodes: tuple[Node, ...]
    by_address: dict[str, Node] = field(default_factory=dict)
    by_resource: dict[str, list[Node]] = field(default_factory=dict)
    by_type: dict[str, list[Node]] = field(default_factory=dict)
    memo: dict = field(default_factory=dict)  # derived lookups, computed once per plan

    @classmethod
    def build(cls, instances: Iterable[PlannedInstance]) -> PlanIndex:
        nodes = []
        for inst in instances:
            try:
                action = Action(inst.action)
            except ValueError:
                action = Action.NOOP
            prefix = "" if inst.absolute_references else module_prefix_of(str(inst.address))
            refs = {k: parse_all(v, module_prefix=prefix) for k, v in (inst.references or {}).items()}
            is_data = inst.address.mode is Mode.DATA
            nodes.append(Node(inst, action, refs, is_data))
        index = cls(tuple(nodes))
        for n in index.nodes:
            index.by_address[n.address] = n
            index.by_resource.setdefault(resource_of(n.address), []).append(n)
            index.by_type.setdefault(n.type_name, []).append(n)
        for n in index.nodes:
            for name, named in n.refs.items():
                n.refs[name] = tuple(index._keyed(r) for r in named)
        return index

    def _keyed(self, ref: Reference) -> Reference:
        """``k.eu.id`` where ``k["eu"]`` is an instance: a for_each key written as an attribute step."""
        if ref.key != "" or not ref.attr or not isinstance(ref.attr[0], str):
            return ref
        key = '["' + ref.attr[0] + '"]'
        if ref.resource + key not in self.by_address:
            return ref
        return Reference(ref.resource, key, ref.attr[1:], ref.type_name)

    def of_type(self, type_name: TypeName, *, data: bool | None = None) -> list[Node]:
        nodes = self.by_type.get(type_name.value, [])
        return list(nodes) if data is None else [n for n in nodes if n.is_data == data]

    # ----------------------------------------------------------- references

    def resolve(self, ref: Reference, origin: Node | None = None) -> list[Node]:
        """The instances a reference points at.

        A reference without a literal key (``x.branch[each.key].id`` reaches the rules as
        ``x.branch``: the text stops at the computed key; ``[count.index]`` likewise), written
        in an instance with key K, points at instance K of the referenced resource when that
        resource has it: ``for_each``/``count`` set-ups pair their instances by key.
        """
        if ref.key:
            node = self.by_address.get(ref.instance)
            return [node] if node else []
        candidates = self.by_resource.get(ref.resource, [])
        if origin is not None:
            own_key = origin.address[len(resource_of(origin.address)) :]
            same = self.by_address.get(ref.resource + own_key) if own_key else None
            if same is not None:
                return [same]
        return list(candidates)

    def targets(
        self, node: Node, names: tuple[str, ...], type_name: TypeName, *, reads: tuple[str, ...] = ()
    ) -> list[tuple[Node, Reference]]:
        """Nodes of ``type_name`` that ``node``'s attributes ``names`` reference (reading ``reads``)."""
        out = []
        for ref in node.refs_for(*names):
            if ref.type_name != type_name.value or (reads and not ref.reads(*reads)):
                continue
            for target in self.resolve(ref, node):
                out.append((target, ref))
        return out

    # ----------------------------------------------------------- objects by id value

    def by_id_value(self, value: Any, type_name: TypeName) -> list[Node]:
        """Nodes of ``type_name`` whose id (planned, prior or refreshed) equals ``value``."""
        text = known_str(value)
        if text is None:
            return []
        key = ("by_id_value", type_name)
        table = self.memo.get(key)
        if table is None:
            table = self.memo[key] = self._ids_of(type_name)
        return list(table.get(text.rstrip("/").lower(), ()))

    def _ids_of(self, type_name: TypeName) -> dict[str, list[Node]]:
        """Every known id (planned, prior or refreshed, folded as ``same_text`` compares) of the nodes of
        ``type_name`` -> those nodes, in the index's order: built once, so a lookup by id is no scan."""
        table: dict[str, list[Node]] = {}
        for n in self.of_type(type_name):
            for src in (n.after, n.inst.before, n.inst.refreshed):
                text = known_str(lookup(src, ("id",))) if src else None
                if text is None:
                    continue
                found = table.setdefault(text.rstrip("/").lower(), [])
                if not found or found[-1] is not n:
                    found.append(n)
        return table


def unique(nodes: Iterable[Node]) -> list[Node]:
    seen: dict[str, Node] = {}
    for n in nodes:
        seen.setdefault(n.address, n)
    return list(seen.values())


def history_says_used(vault: Node) -> bool:
    """The cloud remembers items (or attempts) on this vault."""
    refreshed = vault.inst.refreshed or {}
    hist = refreshed.get(HISTORY_KEY)
    if not isinstance(hist, dict):
        return False
    for flag in HISTORY_FLAGS:
        v = hist.get(flag)
        if v is True or (isinstance(v, int) and not isinstance(v, bool) and v > 0):
            return True
    return False


def recovery_points(vault: Node) -> int:
    """How many recovery points refresh found in the vault (0 when unknown)."""
    hist = (vault.inst.refreshed or {}).get(HISTORY_KEY)
    count = hist.get("recovery_points") if isinstance(hist, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 0


def encryption_block(source: dict | None) -> dict | None:
    """The ``encryption`` block with a key, or None (absent, empty list, or no key_id)."""
    enc = block(source, "encryption")
    if enc is UNKNOWN:
        return {"key_id": UNKNOWN}
    if not isinstance(enc, dict):
        return None
    key_id = enc.get("key_id")
    if key_id is None or key_id == "":
        return None
    return enc


@dataclass(frozen=True)
class Encryption:
    """A vault's encryption setting as planned (or as it is now)."""

    key_id: Any  # str, UNKNOWN
    use_system: Any  # bool, UNKNOWN (azurerm default: true)
    user_identity_id: Any  # str, UNKNOWN, None
    infrastructure: Any

    @classmethod
    def of(cls, source: dict | None) -> Encryption | None:
        enc = encryption_block(source)
        if enc is None:
            return None
        use_system = enc.get("use_system_assigned_identity")
        user_id = enc.get("user_assigned_identity_id")
        return cls(
            key_id=enc.get("key_id"),
            use_system=True if use_system is None else use_system,
            user_identity_id=None if user_id is None or user_id == "" else user_id,
            infrastructure=enc.get("infrastructure_encryption_enabled"),
        )

    @property
    def uses_user_identity(self) -> bool | None:
        """True/False when decidable; None when unknown."""
        if self.use_system is False:
            return True
        if self.use_system is True:
            return False
        return None

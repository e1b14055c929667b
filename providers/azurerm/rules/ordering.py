"""Ordering edges O1-O5: what the graph must do first, even without ``depends_on``.

Edges join the engine's graph nodes (``state.addresses.Node``); a Recovery Services
vault with an ``encryption`` block is two nodes: the vault with its identity
(``Node(address)``) and the key assignment (``Node(address, "encryption")``). Grants and key vault protections point at
the second node only, never at the vault itself (O5: that is the cycle of
terraform-provider-azurerm issue #27817).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlparse

from providers.base import OrderingEdge
from state.addresses import Node as GraphNode

from .estate import (
    EncryptionIdentity,
    encryption_identity,
    host_of,
    items_of,
    key_vaults_of,
    key_vaults_of_key,
    keys_of,
)
from .grants import CREATE_KEY_PERMISSIONS, Grant, applies_to, leaving_grants, names_deployer, names_identity
from .model import Action, Encryption, Node, PlanIndex, TypeName
from .refs import known_str
from .table import reason

ENCRYPTION_PHASE = "encryption"


def encryption_node(vault: Node) -> GraphNode:
    """The graph node of a vault's key assignment."""
    return GraphNode(vault.inst.address, ENCRYPTION_PHASE)


@dataclass
class EdgeSet:
    """Edges in discovery order, one per (before, after) pair, never into a plain vault node.

    Nothing is ordered in front of a data source either: it is read, not created, and
    waiting would only defer the read to apply time.
    """

    vaults: frozenset[GraphNode]
    data_nodes: frozenset[GraphNode] = frozenset()
    edges: list[OrderingEdge] = field(default_factory=list)
    _seen: set[tuple[GraphNode, GraphNode]] = field(default_factory=set)

    def add(self, before: GraphNode | None, after: GraphNode | None, rule: str, why: str) -> None:
        if before is None or after is None or before == after or (before, after) in self._seen:
            return
        if after in self.vaults:  # O5: the vault itself never waits for grants or keys
            return
        if after in self.data_nodes:
            return
        self._seen.add((before, after))
        self.edges.append(OrderingEdge(before, after, rule.split("/", 1)[0], why))


def ordering_edges(index: PlanIndex, grants: list[Grant]) -> list[OrderingEdge]:
    vaults = [v for v in index.of_type(TypeName.VAULT, data=False) if v.action.exists_after]
    out = EdgeSet(
        frozenset(v.graph_node for v in vaults), frozenset(n.graph_node for n in index.nodes if n.is_data)
    )
    for vault in vaults:
        enc = Encryption.of(vault.after)
        if enc is None:
            continue
        node = encryption_node(vault)
        out.add(vault.graph_node, node, "O5", reason("O5", vault=vault.address, node=str(node)))
        kvs = key_vaults_of(index, vault, enc, planned=True)
        for kv in kvs:
            out.add(kv.graph_node, node, "O3", reason("O3", key_vault=kv.address, node=str(node)))
        ident = encryption_identity(index, vault, enc)
        if ident is not None:
            outside = _outside_key_vaults(index, vault, enc) if not kvs else {}
            for g in grants:
                on_it = any(applies_to(g, kv) for kv in kvs) or _grant_on(g, outside)
                if on_it and names_identity(index, g, ident):
                    out.add(
                        _grant_node(g),
                        node,
                        "O2",
                        reason("O2", grant=g.node_id, identity=ident.label, node=str(node)),
                    )
        for item in items_of(index, vault, TypeName.BACKUP_POLICY_VM, TypeName.PROTECTED_VM):
            if item.action.exists_after:
                out.add(
                    node,
                    item.graph_node,
                    "O4",
                    reason("O4", item=item.address, vault=vault.address, node=str(node)),
                )
    _identity_edges(index, grants, vaults, out)
    _deployer_edges(index, grants, out)
    return sorted(out.edges, key=lambda e: (int(e.rule[1:]), str(e.before), str(e.after)))


def _outside_key_vaults(index: PlanIndex, vault: Node, enc: Encryption) -> dict[str, set[str]]:
    """The key vaults outside the plan that hold the vault's key, by lower-case name, each with
    the key's lower-case name where it is known: from the host and path of the key id, or from
    the key this plan makes in a key vault it names by id."""
    found: dict[str, set[str]] = {}
    host = host_of(enc.key_id)
    if host:
        key = _KEY_IN_URL.match(urlparse(known_str(enc.key_id) or "").path)
        found.setdefault(host.split(".", 1)[0], set()).update([key.group(1).lower()] if key else [])
    for made in keys_of(index, vault, enc, planned=True):
        in_id = _KEY_VAULT_IN_ID.search(known_str(made.value("key_vault_id")) or "")
        if in_id:
            name = known_str(made.value("name"))
            found.setdefault(in_id.group(1).lower(), set()).update([name.lower()] if name else [])
    return found


_KEY_VAULT_IN_ID = re.compile(
    r"/providers/microsoft\.keyvault/vaults/([^/]+)(?:/keys/([^/]+))?", re.IGNORECASE
)
_KEY_IN_URL = re.compile(r"/keys/([^/]+)", re.IGNORECASE)


def _grant_on(grant: Grant, outside: dict[str, set[str]]) -> bool:
    """Whether a grant written on a key vault by id (an access policy's ``key_vault_id``, a role
    assignment's ``scope``) is on one of ``outside``: the whole key vault, or the vault's own key
    when the scope is one key (a role on another key of it gives nothing to this vault)."""
    if grant.key_vaults or not outside:
        return False  # a key vault of this plan: matched as a node
    written = known_str(grant.holder.value("key_vault_id")) or known_str(grant.holder.value("scope"))
    found = _KEY_VAULT_IN_ID.search(written or "")  # (an id known only after apply names nothing yet)
    if found is None or found.group(1).lower() not in outside:
        return False
    keys = outside[found.group(1).lower()]
    return found.group(2) is None or not keys or found.group(2).lower() in keys


def _grant_node(grant: Grant) -> GraphNode | None:
    """The node that must finish for the grant to exist (None: it exists already)."""
    return grant.holder.graph_node if grant.node_id is not None else None


def _identity_edges(index: PlanIndex, grants: list[Grant], vaults, out: EdgeSet) -> None:
    """O1: the vault (system identity) or the identity resource before every grant naming it."""
    identities: list[EncryptionIdentity] = []
    for vault in vaults:
        identities.append(
            EncryptionIdentity(vault, False, (), known_str(vault.value("identity", 0, "principal_id")), None)
        )
    for uai in index.of_type(TypeName.USER_IDENTITY, data=False):
        if uai.action.exists_after:
            identities.append(
                EncryptionIdentity(uai, True, (uai,), known_str(uai.value("principal_id")), None)
            )
    by_source = {
        ident.identities[0].address if ident.user_assigned else ident.vault.address: ident
        for ident in identities
    }
    by_principal: dict[str, list[EncryptionIdentity]] = {}
    for ident in identities:
        if ident.principal_id:
            by_principal.setdefault(ident.principal_id.lower(), []).append(ident)
    for g in grants:
        if g.node_id is None:
            continue
        candidates = list(by_principal.get((known_str(g.principal_value) or "").lower(), []))
        for ref in g.holder.refs_for(g.principal_attr) if g.principal_attr else ():
            candidates += [
                by_source[n.address] for n in index.resolve(ref, g.holder) if n.address in by_source
            ]
        for ident in dict((id(i), i) for i in candidates).values():
            if names_identity(index, g, ident):
                for source in ident.sources:
                    out.add(
                        source.graph_node,
                        _grant_node(g),
                        "O1",
                        reason("O1", grant=g.node_id, source=source.address),
                    )


def _deployer_edges(index: PlanIndex, grants: list[Grant], out: EdgeSet) -> None:
    """Keys are created in a key vault only after the grants that let the deployer create them,
    and deleted before the grants that let anyone manage keys there go.

    The creation edge is made for every key, whatever the plan does to it: it becomes a recorded
    dependency of the key. Made only when the key was created, the dependency was lost at the next
    apply that wrote the key's state from a plan without it (a moved block renaming the grant).

    A destroy plan doesn't read azurerm_client_config or evaluate the configuration, so it can't
    tell the deployer's grant by its principal: a key it deletes goes before every grant it
    deletes that manages keys in the key vault (no grant ever needs to go before a key). A destroy
    that removed the deployer's access policy first had Key Vault refuse the key's delete (403
    ForbiddenByPolicy) half-way through. An edge into a key the plan leaves as it is orders
    nothing at apply."""
    leaving: list[Grant] | None = None
    for key in index.of_type(TypeName.KEY, data=False):
        if key.action is Action.READ:
            continue
        kvs = key_vaults_of_key(index, key)
        for g in grants:
            if not g.standalone or not any(applies_to(g, kv) for kv in kvs):
                continue
            if names_deployer(index, g) and g.has_all(CREATE_KEY_PERMISSIONS) is not False:
                out.add(
                    _grant_node(g),
                    key.graph_node,
                    "O2/deployer",
                    reason("O2/deployer", grant=g.node_id, key=key.address),
                )
        if key.action is not Action.DELETE:
            continue
        leaving = leaving_grants(index) if leaving is None else leaving
        for g in leaving:
            if any(applies_to(g, kv) for kv in kvs) and g.has_all(CREATE_KEY_PERMISSIONS) is not False:
                out.add(
                    _grant_node(g),
                    key.graph_node,
                    "O2/deployer",
                    reason("O2/deployer-delete", grant=g.node_id, key=key.address),
                )

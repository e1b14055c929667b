"""A directed graph with the part of ``networkx.DiGraph``'s interface the engine uses.

Importing networkx costs about 80 ms (it loads every algorithm it has), a third of what a
plan spends importing, and a plan needs only nodes with data, edges with data, and an
order. This class keeps networkx's data layout (``_node``, ``_succ``, ``_pred``; an edge's
data is one dict shared by both directions) and its iteration orders (nodes and
neighbours in insertion order), so the graph algorithms in ``reconciler.graph.dag`` see
what networkx would have given them. What is only needed when something is wrong or for
display (walking a cycle, the transitive reduction) converts to networkx there
(``to_networkx``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import Any


class _NodeView:
    """``G.nodes``: iterate, ``n in``, ``G.nodes[n]`` (the node's data), ``G.nodes(data=True)``."""

    __slots__ = ("_node",)

    def __init__(self, node: dict[Any, dict]) -> None:
        self._node = node

    def __iter__(self) -> Iterator[Any]:
        return iter(self._node)

    def __len__(self) -> int:
        return len(self._node)

    def __contains__(self, n: Any) -> bool:
        try:
            return n in self._node
        except TypeError:
            return False

    def __getitem__(self, n: Any) -> Any:  # the node's data dict (Any: callers read it freely)
        return self._node[n]

    def __call__(self, data: bool = False) -> Any:
        return iter(self._node.items()) if data else iter(self._node)

    def items(self) -> Iterable[tuple[Any, dict]]:
        return self._node.items()


class _EdgeView:
    """``G.edges``: ``G.edges[u, v]`` (the edge's data), iterate ``(u, v)``, ``G.edges(data=True)``."""

    __slots__ = ("_succ",)

    def __init__(self, succ: dict[Any, dict[Any, dict]]) -> None:
        self._succ = succ

    def __getitem__(self, edge: tuple[Any, Any]) -> dict:
        u, v = edge
        return self._succ[u][v]

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        return ((u, v) for u, nbrs in self._succ.items() for v in nbrs)

    def __len__(self) -> int:
        return sum(len(nbrs) for nbrs in self._succ.values())

    def __call__(self, data: bool = False) -> Iterator[tuple[Any, ...]]:
        if data:
            return ((u, v, d) for u, nbrs in self._succ.items() for v, d in nbrs.items())
        return iter(self)


class DiGraph:
    """Nodes (any hashable) with a data dict each; edges ``u -> v`` with a data dict each."""

    def __init__(self) -> None:
        self._node: dict[Any, dict] = {}
        self._succ: dict[Any, dict[Any, dict]] = {}
        self._pred: dict[Any, dict[Any, dict]] = {}

    # -- building

    def add_node(self, n: Any, **attr: Any) -> None:
        known = self._node.get(n)
        if known is None:
            self._succ[n] = {}
            self._pred[n] = {}
            self._node[n] = attr
        else:
            known.update(attr)

    def add_edge(self, u: Any, v: Any, **attr: Any) -> None:
        if u not in self._node:
            self.add_node(u)
        if v not in self._node:
            self.add_node(v)
        data = self._succ[u].get(v)
        if data is None:
            data = {}
        data.update(attr)
        self._succ[u][v] = data
        self._pred[v][u] = data

    # -- reading

    @property
    def nodes(self) -> _NodeView:
        return _NodeView(self._node)

    @property
    def edges(self) -> _EdgeView:
        return _EdgeView(self._succ)

    def has_edge(self, u: Any, v: Any) -> bool:
        nbrs = self._succ.get(u)
        return nbrs is not None and v in nbrs

    def predecessors(self, n: Any) -> Iterator[Any]:
        return iter(self._pred[n])

    def successors(self, n: Any) -> Iterator[Any]:
        return iter(self._succ[n])

    def __contains__(self, n: Any) -> bool:
        try:
            return n in self._node
        except TypeError:
            return False

    def __iter__(self) -> Iterator[Any]:
        return iter(self._node)

    def __len__(self) -> int:
        return len(self._node)

    # -- copies

    def copy(self) -> DiGraph:
        """Nodes and edges with their data dicts copied (shallow), as ``networkx`` copies."""
        return self.subgraph(self._node)

    def subgraph(self, nodes: Iterable[Any]) -> DiGraph:
        """A new graph of ``nodes`` (in this graph's order) and the edges between them, data copied."""
        keep = {n for n in nodes if n in self}
        out = DiGraph()
        for n, d in self._node.items():
            if n in keep:
                out.add_node(n, **d)
        for u, nbrs in self._succ.items():
            if u in keep:
                for v, d in nbrs.items():
                    if v in keep:
                        out.add_edge(u, v, **d)
        return out

    def reverse(self, copy: bool = True) -> DiGraph:
        """Every edge turned around, data deep-copied (networkx's ``reverse(copy=True)``)."""
        out = DiGraph()
        for n, d in self._node.items():
            out.add_node(n, **_deepcopy(d))
        for u, nbrs in self._succ.items():
            for v, d in nbrs.items():
                out.add_edge(v, u, **_deepcopy(d))
        return out


def _deepcopy(d: dict) -> dict:
    return copy.deepcopy(d)


def to_networkx(g: DiGraph) -> Any:
    """The same graph as a ``networkx.DiGraph`` (nodes, edges and data in the same order)."""
    import networkx as nx  # only where an algorithm of its own is needed: see the module docstring

    out = nx.DiGraph()
    out.add_nodes_from(g.nodes(data=True))
    out.add_edges_from(g.edges(data=True))
    return out


def from_networkx(nxg: Any) -> DiGraph:
    out = DiGraph()
    for n, d in nxg.nodes(data=True):
        out.add_node(n, **d)
    for u, v, d in nxg.edges(data=True):
        out.add_edge(u, v, **d)
    return out

"""A directed acyclic graph of nodes: dependency -> dependent.

Thin on purpose: networkx does the work; this module adds what the engine asks of a
graph (cycles as lists of members, a stable order, ancestors/descendants by name).
Nodes are any hashable values (names, typed graph nodes); orders are by their text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx


@dataclass
class Graph:
    g: nx.DiGraph = field(default_factory=nx.DiGraph)

    def add(self, node: Any, **data: Any) -> None:
        known = self.g._node.get(node)  # the node's attribute dict; G.nodes[...] builds a view per call
        if known is not None:
            known.update(data)
        else:
            self.g.add_node(node, **data)

    def connect(self, before: Any, after: Any, **data: Any) -> None:
        """``after`` depends on ``before``. Self-edges are kept (they are cycles)."""
        if self.g.has_edge(before, after):
            self.g.edges[before, after].setdefault("reasons", []).extend(data.get("reasons", []))
            return
        self.g.add_edge(before, after, **data)

    def __contains__(self, node: Any) -> bool:
        return node in self.g

    def nodes(self) -> list:
        return list(self.g.nodes)

    def data(self, node: Any) -> dict:
        return self.g._node[node]  # as G.nodes[node], without building a NodeView per call

    def dependencies(self, node: Any) -> list:
        return sorted(self.g.predecessors(node), key=str)

    def dependents(self, node: Any) -> list:
        return sorted(self.g.successors(node), key=str)

    def reaches(self, source: Any, target: Any) -> bool:
        """True when a path leads from ``source`` to ``target``."""
        return source in self.g and target in self.g and nx.has_path(self.g, source, target)

    def ancestors(self, node: Any) -> set:
        return nx.ancestors(self.g, node)

    def descendants(self, node: Any) -> set:
        return nx.descendants(self.g, node)

    def cycles(self) -> list[list]:
        """Each strongly connected set of nodes that forms a cycle, members in a stable order."""
        out: list[list[str]] = []
        for comp in nx.strongly_connected_components(self.g):
            if len(comp) > 1:
                out.append(_cycle_order(self.g.subgraph(comp)))
            else:
                (only,) = tuple(comp)
                if self.g.has_edge(only, only):
                    out.append([only])
        return sorted(out, key=lambda members: [str(m) for m in members])

    def order(self) -> list:
        """A deterministic topological order (dependencies first)."""
        return list(nx.lexicographical_topological_sort(self.g, key=str))

    def subgraph(self, nodes: Iterable) -> Graph:
        return Graph(self.g.subgraph(nodes).copy())

    def reversed(self) -> Graph:
        return Graph(self.g.reverse(copy=True))

    def without_redundant_edges(self) -> Graph:
        """The transitive reduction (for display); node data kept."""
        reduced = nx.transitive_reduction(self.g)
        reduced.add_nodes_from(self.g.nodes(data=True))
        return Graph(reduced)


def _cycle_order(sub: nx.DiGraph) -> list:
    """Walk one simple cycle through the component from its smallest member."""
    start = min(sub.nodes, key=str)
    try:
        cycle = nx.find_cycle(sub, source=start)
        members = [edge[0] for edge in cycle]
    except nx.NetworkXNoCycle:  # pragma: no cover - a component of size > 1 has a cycle
        members = sorted(sub.nodes, key=str)
    rest = sorted(set(sub.nodes) - set(members), key=str)
    return members + rest

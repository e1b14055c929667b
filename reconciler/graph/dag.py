"""A directed acyclic graph of nodes: dependency -> dependent.

Thin on purpose: ``reconciler.graph.digraph`` holds the nodes and edges (networkx's layout,
without importing networkx, which a plan never needs); this module adds what the engine asks
of a graph (cycles as lists of members, a stable order, ancestors/descendants by name), each
computed as networkx computes it. Nodes are any hashable values (names, typed graph nodes);
orders are by their text.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from reconciler.graph.digraph import DiGraph, from_networkx, to_networkx


@dataclass
class Graph:
    g: DiGraph = field(default_factory=DiGraph)

    def add(self, node: Any, **data: Any) -> None:
        known = self.g._node.get(node)  # the node's attribute dict
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
        return self.g._node[node]

    def dependencies(self, node: Any) -> list:
        return sorted(self.g.predecessors(node), key=str)

    def dependents(self, node: Any) -> list:
        return sorted(self.g.successors(node), key=str)

    def reaches(self, source: Any, target: Any) -> bool:
        """True when a path leads from ``source`` to ``target`` (a node reaches itself)."""
        if source not in self.g or target not in self.g:
            return False
        return source == target or target in _reachable(self.g._succ, source)

    def ancestors(self, node: Any) -> set:
        """Every node with a path to ``node`` (``node`` itself left out, even on a cycle)."""
        return _reachable(self.g._pred, node)

    def descendants(self, node: Any) -> set:
        """Every node a path from ``node`` leads to (``node`` itself left out, even on a cycle)."""
        return _reachable(self.g._succ, node)

    def cycles(self) -> list[list]:
        """Each strongly connected set of nodes that forms a cycle, members in a stable order."""
        out: list[list[str]] = []
        for comp in _strongly_connected_components(self.g):
            if len(comp) > 1:
                out.append(_cycle_order(self.g.subgraph(comp)))
            else:
                (only,) = tuple(comp)
                if self.g.has_edge(only, only):
                    out.append([only])
        return sorted(out, key=lambda members: [str(m) for m in members])

    def order(self) -> list:
        """A deterministic topological order (dependencies first): of the nodes whose dependencies
        are placed, the one with the smallest text comes next (networkx's
        ``lexicographical_topological_sort`` with ``key=str``). A cycle is a ValueError."""
        return _lexicographical_order(self.g, str)

    def subgraph(self, nodes: Iterable) -> Graph:
        return Graph(self.g.subgraph(nodes))

    def reversed(self) -> Graph:
        return Graph(self.g.reverse(copy=True))

    def without_redundant_edges(self) -> Graph:
        """The transitive reduction (for display); node data kept."""
        import networkx as nx  # for the graph command only: see reconciler.graph.digraph

        whole = to_networkx(self.g)
        reduced = nx.transitive_reduction(whole)
        reduced.add_nodes_from(whole.nodes(data=True))
        return Graph(from_networkx(reduced))


def _reachable(adjacency: dict[Any, dict[Any, dict]], start: Any) -> set:
    """The nodes reached from ``start`` along ``adjacency``, ``start`` left out."""
    seen = {start}
    stack = list(adjacency[start])
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(adjacency[n])
    seen.discard(start)
    return seen


def _lexicographical_order(g: DiGraph, key: Callable[[Any], Any]) -> list:
    position = {n: i for i, n in enumerate(g._node)}  # ties between equal keys: insertion order
    waiting = {n: len(preds) for n, preds in g._pred.items() if preds}
    ready = [(key(n), position[n], n) for n, preds in g._pred.items() if not preds]
    heapq.heapify(ready)
    out = []
    while ready:
        node = heapq.heappop(ready)[2]
        for child in g._succ[node]:
            waiting[child] -= 1
            if waiting[child] == 0:
                del waiting[child]
                heapq.heappush(ready, (key(child), position[child], child))
        out.append(node)
    if waiting:
        raise ValueError("the graph has a cycle, so it has no order")
    return out


def _strongly_connected_components(g: DiGraph) -> list[set]:
    """Tarjan's algorithm, without recursion (a chain of 10,000 nodes is deep)."""
    succ = g._succ
    index: dict[Any, int] = {}
    low: dict[Any, int] = {}
    on_stack: set = set()
    stack: list = []
    out: list[set] = []
    counter = 0
    for root in g._node:
        if root in index:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(succ[root]))]
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(succ[child])))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp.add(member)
                    if member == node:
                        break
                out.append(comp)
    return out


def _cycle_order(sub: DiGraph) -> list:
    """Walk one simple cycle through the component from its smallest member."""
    import networkx as nx  # only when there is a cycle to report: see reconciler.graph.digraph

    start = min(sub.nodes, key=str)
    try:
        cycle = nx.find_cycle(to_networkx(sub), source=start)
        members = [edge[0] for edge in cycle]
    except nx.NetworkXNoCycle:  # pragma: no cover - a component of size > 1 has a cycle
        members = sorted(sub.nodes, key=str)
    rest = sorted(set(sub.nodes) - set(members), key=str)
    return members + rest

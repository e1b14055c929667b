"""The engine's graph (``reconciler.graph.dag`` over ``reconciler.graph.digraph``, which does not
import networkx) answers as networkx does: the same order, cycles, ancestors, descendants,
reachability, subgraphs, reversal and transitive reduction, on random graphs with and without
cycles and self-edges."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from reconciler.graph.dag import Graph


def _random(seed: int, *, acyclic: bool) -> tuple[Graph, nx.DiGraph]:
    rng = random.Random(seed)
    names = [f"n{i}" for i in range(rng.randint(1, 40))]
    rng.shuffle(names)  # insertion order is not text order
    ours, theirs = Graph(), nx.DiGraph()
    for i, name in enumerate(names):
        ours.add(name, kind="resource", i=i)
        theirs.add_node(name, kind="resource", i=i)
    for _ in range(rng.randint(0, 80)):
        a, b = rng.choice(names), rng.choice(names)
        if acyclic and names.index(a) >= names.index(b):
            continue
        if not acyclic and a == b and rng.random() < 0.7:
            continue
        ours.connect(a, b, reasons=[f"{a}->{b}"])
        if theirs.has_edge(a, b):
            theirs.edges[a, b]["reasons"].append(f"{a}->{b}")
        else:
            theirs.add_edge(a, b, reasons=[f"{a}->{b}"])
    return ours, theirs


def _same(ours: Graph, theirs: nx.DiGraph) -> None:
    assert list(ours.g.nodes) == list(theirs.nodes)
    assert [ours.data(n) for n in ours.g.nodes] == [theirs.nodes[n] for n in theirs.nodes]
    assert list(ours.g.edges(data=True)) == list(theirs.edges(data=True))


@pytest.mark.parametrize("seed", range(60))
def test_an_acyclic_graph_orders_and_walks_as_networkx_does(seed):
    ours, theirs = _random(seed, acyclic=True)
    assert ours.order() == list(nx.lexicographical_topological_sort(theirs, key=str))
    assert ours.cycles() == []
    for node in theirs.nodes:
        assert ours.ancestors(node) == nx.ancestors(theirs, node)
        assert ours.descendants(node) == nx.descendants(theirs, node)
        assert ours.dependencies(node) == sorted(theirs.predecessors(node), key=str)
        assert ours.dependents(node) == sorted(theirs.successors(node), key=str)
        for other in list(theirs.nodes)[:10]:
            assert ours.reaches(node, other) == nx.has_path(theirs, node, other)
    reduced = nx.transitive_reduction(theirs)
    reduced.add_nodes_from(theirs.nodes(data=True))
    _same(ours.without_redundant_edges(), reduced)
    _same(ours.reversed(), theirs.reverse(copy=True))
    some = list(theirs.nodes)[::2]
    _same(ours.subgraph(some), theirs.subgraph(some).copy())


@pytest.mark.parametrize("seed", range(60))
def test_a_graph_with_cycles_reports_the_cycles_networkx_finds(seed):
    ours, theirs = _random(seed, acyclic=False)
    expected: list[list[str]] = []
    for comp in nx.strongly_connected_components(theirs):
        if len(comp) > 1:
            sub = theirs.subgraph(comp)
            start = min(sub.nodes, key=str)
            members = [edge[0] for edge in nx.find_cycle(sub, source=start)]
            expected.append(members + sorted(set(sub.nodes) - set(members), key=str))
        else:
            (only,) = tuple(comp)
            if theirs.has_edge(only, only):
                expected.append([only])
    assert ours.cycles() == sorted(expected, key=lambda members: [str(m) for m in members])
    for node in theirs.nodes:
        assert ours.ancestors(node) == nx.ancestors(theirs, node)
        assert ours.descendants(node) == nx.descendants(theirs, node)
    if expected:
        with pytest.raises(ValueError):
            ours.order()
    else:
        assert ours.order() == list(nx.lexicographical_topological_sort(theirs, key=str))


def test_a_long_chain_is_ordered_and_has_no_cycle_without_recursion():
    ours = Graph()
    for i in range(20_000):
        ours.connect(f"t{i}", f"t{i + 1}")
    assert ours.cycles() == []
    assert ours.order()[:3] == ["t0", "t1", "t2"]
    ours.connect("t20000", "t0")
    (cycle,) = ours.cycles()
    assert len(cycle) == 20_001 and cycle[0] == "t0"

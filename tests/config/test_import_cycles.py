"""The configuration package imports one way: no cycles, and imports at module top.

An import placed inside a function hides a cycle instead of removing it; one that
keeps start-up fast is allowed when its line says so with ``# lazy: start-up``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[2] / "reconciler" / "config"
PREFIX = "reconciler.config"
LAZY_MARK = "# lazy: start-up"


def _imports(path: Path):
    """(module imported, line, at module top?) for every reconciler.config import of a file."""
    source = path.read_text()
    tree = ast.parse(source, str(path))
    top = set(map(id, tree.body))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        modules = {
            n
            for n in names
            if n.startswith(PREFIX + ".") and (PACKAGE / f"{n[len(PREFIX) + 1 :]}.py").is_file()
        }
        for module in modules:
            yield module, node.lineno, id(node) in top, source.splitlines()[node.lineno - 1]


def _graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for path in sorted(PACKAGE.glob("*.py")):
        here = f"{PREFIX}.{path.stem}"
        graph.add_node(here)
        for module, _, _, _ in _imports(path):
            if module != here:
                graph.add_edge(here, module)
    return graph


def test_no_import_cycles():
    cycles = sorted(" -> ".join(c + [c[0]]) for c in nx.simple_cycles(_graph()))
    assert cycles == []


def test_imports_sit_at_module_top_unless_marked_lazy():
    hidden = [
        f"{path.name}:{line}: {text.strip()}"
        for path in sorted(PACKAGE.glob("*.py"))
        for _, line, at_top, text in _imports(path)
        if not at_top and LAZY_MARK not in text
    ]
    assert hidden == []

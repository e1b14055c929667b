"""The layers stay apart: checked on every import statement, including function-local ones.

* ``reconciler`` (the engine) knows providers only through the protocol, the schema
  records and the generic schema checker - never a concrete provider;
* providers use only the engine's value vocabulary (values, diagnostics);
* ``state`` depends on neither.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

RULES = {
    "reconciler": (
        {"providers"},
        {
            "providers",
            "providers.base",
            "providers.schema",
            "providers.validation",
            "providers.drift_protocol",
            "providers.bundled",
        },
    ),
    "providers": ({"reconciler"}, {"reconciler.values", "reconciler.diagnostics"}),
    "state": ({"reconciler", "providers"}, set()),
}


def imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [
                (node.lineno, f"{node.module}.{a.name}")
                for a in node.names
                if node.module in ("providers", "reconciler")
            ]
    return found


@pytest.mark.parametrize("package", sorted(RULES))
def test_layers(package: str):
    guarded, allowed = RULES[package]
    problems = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, name in imports(path):
            top = name.split(".")[0]
            if top not in guarded:
                continue
            if not any(name == a or (a != top and name.startswith(a + ".")) for a in allowed):
                problems.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not problems, "\n".join(problems)


def test_the_checker_sees_a_violation(tmp_path, monkeypatch):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from providers.azurerm.catalog import SCHEMA\n")
    assert (2, "providers.azurerm.catalog") in imports(bad)

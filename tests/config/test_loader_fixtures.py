"""Fixture-driven loader tests.

* ``tests/fixtures/loader/expr_*`` and ``structure``: ``main.tf`` is parsed and
  its tree rendered (node kinds, values and every position) and compared with
  ``expected.txt``. Regenerate after a deliberate change with
  ``VAULTFORM_UPDATE_FIXTURES=1 python -m pytest tests/config/test_loader_fixtures.py``
  and review the diff.
* ``tests/fixtures/loader/error_*`` and ``model_*``: lines marked with
  ``# ERROR: <summary text>`` must each get an error diagnostic on that line
  whose summary contains the text, and no other line may get an error.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from reconciler.config import ast
from reconciler.config.convert_model import decode_module
from reconciler.config.directory import load_directory
from reconciler.config.loader import parse_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "loader"
_MARK = re.compile(r"#\s*ERROR:\s*(.+?)\s*$")


def _p(pos: ast.Pos) -> str:
    return f"@{pos.line}:{pos.column}-{pos.end_line}:{pos.end_column}"


def render(node, indent: int = 0) -> list[str]:
    pad = "  " * indent
    if isinstance(node, str):
        return [pad + json.dumps(node)]
    if isinstance(node, ast.File):
        return render(node.body, indent)
    if isinstance(node, ast.Body):
        out = [f"{pad}Body {_p(node.pos)}"]
        for a in node.attributes:
            out.extend(render(a, indent + 1))
        for b in node.blocks:
            out.extend(render(b, indent + 1))
        return out
    if isinstance(node, ast.Block):
        labels = " ".join(json.dumps(x) for x in node.labels)
        lpos = " ".join(_p(x) for x in node.label_pos)
        return [f"{pad}Block {node.type} {labels} {_p(node.pos)} labels{lpos}".rstrip()] + render(
            node.body, indent + 1
        )
    if isinstance(node, ast.Attribute):
        return [f"{pad}Attribute {node.name} {_p(node.pos)} name{_p(node.name_pos)}"] + render(
            node.expr, indent + 1
        )
    if isinstance(node, ast.TemplateInterp):
        return [f"{pad}Interp strip_left={node.strip_left} strip_right={node.strip_right}"] + render(
            node.expr, indent + 1
        )
    name = type(node).__name__
    scalars, children = [], []
    for field in node.__dataclass_fields__:
        if field == "pos":
            continue
        value = getattr(node, field)
        if isinstance(value, tuple):
            children.append((field, value))
        elif hasattr(value, "__dataclass_fields__"):
            children.append((field, (value,)))
        else:
            scalars.append(f"{field}={json.dumps(value)}")
    out = [pad + " ".join([name, *scalars, _p(node.pos)])]
    for field, values in children:
        out.append(f"{pad}  .{field}")
        for v in values:
            if isinstance(v, tuple):  # object items
                out.append(f"{pad}    item")
                for x in v:
                    out.extend(render(x, indent + 3))
            else:
                out.extend(render(v, indent + 2))
    return out


def _tree_cases():
    return sorted(p.name for p in FIXTURES.iterdir() if p.name.startswith(("expr_", "structure")))


@pytest.mark.parametrize("case", _tree_cases())
def test_tree_fixture(case):
    src = FIXTURES / case / "main.tf"
    node, diags = parse_text(src.read_text(), "main.tf")
    assert diags == []
    got = "\n".join(render(node)) + "\n"
    expected = FIXTURES / case / "expected.txt"
    if os.environ.get("VAULTFORM_UPDATE_FIXTURES") == "1":
        expected.write_text(got)
    assert got == expected.read_text()


def _error_cases():
    return sorted(p.name for p in FIXTURES.iterdir() if p.name.startswith(("error_", "model_")))


def _marks(text: str) -> dict[int, str]:
    return {n: m.group(1) for n, line in enumerate(text.splitlines(), 1) if (m := _MARK.search(line))}


@pytest.mark.parametrize("case", _error_cases())
def test_error_fixture(case):
    directory = FIXTURES / case
    files, diags = load_directory(directory, cache=False)
    if case.startswith("model_"):
        assert not [d for d in diags if d.is_error], diags
        _, diags = decode_module(files)
    marks: dict[tuple[str, int], str] = {}
    for path in sorted(directory.glob("*.tf")):
        for line, text in _marks(path.read_text()).items():
            marks[(path.name, line)] = text
    assert marks, f"{case} has no # ERROR: markers"
    errors = [d for d in diags if d.is_error]
    for (name, line), text in marks.items():
        hits = [d for d in errors if Path(d.range.file).name == name and d.range.line == line]
        assert hits, f"{case}: no error on {name}:{line} (expected {text!r}); got " + "; ".join(
            f"{Path(d.range.file).name}:{d.range.line} {d.summary}" for d in errors
        )
        assert any(text in d.summary for d in hits), (
            f"{case}:{line}: {[d.summary for d in hits]} lacks {text!r}"
        )
    stray = [d for d in errors if (Path(d.range.file).name, d.range.line) not in marks]
    assert not stray, f"{case}: unexpected errors {[(d.range.line, d.summary) for d in stray]}"
    for d in errors:
        assert d.detail, f"{d.summary} has no detail saying how to fix it"

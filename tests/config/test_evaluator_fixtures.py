"""Fixture-driven evaluator tests: tests/fixtures/evaluator/expressions/<case>/.

Each case holds ``main.tf`` (one attribute per expression), ``scope.json`` (the
root names, optional) and ``expected.json`` (attribute -> value). In JSON,
``{"$unknown": true}`` stands for UNKNOWN. An attribute whose line carries a
``# ERROR: <summary> | <detail fragment>`` comment must fail with that diagnostic
on that line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.config.evaluator import EvalError, MapScope, evaluate
from reconciler.config.loader import parse_text
from reconciler.values import UNKNOWN

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "evaluator" / "expressions"


def decode(value):
    if isinstance(value, dict):
        if value == {"$unknown": True}:
            return UNKNOWN
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def _cases():
    for case in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        text = (case / "main.tf").read_text()
        file, diags = parse_text(text, str(case / "main.tf"))
        assert file is not None, diags
        scope_file = case / "scope.json"
        scope = decode(json.loads(scope_file.read_text())) if scope_file.exists() else {}
        expected = decode(json.loads((case / "expected.json").read_text()))
        lines = text.splitlines()
        for attr in file.body.attributes:
            line = lines[attr.pos.line - 1]
            marker = line.split("# ERROR:", 1)[1].strip() if "# ERROR:" in line else None
            yield pytest.param(
                attr, scope, expected.get(attr.name, KeyError), marker, id=f"{case.name}/{attr.name}"
            )


@pytest.mark.parametrize("attr,scope,expected,marker", list(_cases()))
def test_fixture(attr, scope, expected, marker):
    if marker is not None:
        summary, _, fragment = (s.strip() for s in marker.partition("|"))
        with pytest.raises(EvalError) as info:
            evaluate(attr.expr, MapScope(scope))
        diag = info.value.diagnostic
        assert diag.summary == summary
        assert fragment in diag.detail
        assert diag.code == "eval"
        assert diag.range is not None and diag.range.line == attr.pos.line
        return
    assert expected is not KeyError, f"no expectation for {attr.name}"
    value = evaluate(attr.expr, MapScope(scope))
    assert value == expected
    assert _same_types(value, expected), (value, expected)


def _same_types(a, b) -> bool:
    """== treats 1 and True alike; fixtures must also match the kind of value."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b)
    if isinstance(a, list):
        return all(_same_types(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return all(_same_types(a[k], b[k]) for k in a)
    return True

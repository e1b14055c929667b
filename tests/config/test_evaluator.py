"""Evaluator unit tests on hand-built trees: scopes, entry points and limits."""

from __future__ import annotations

import pytest

from reconciler.config import ast
from reconciler.config.evaluator import (
    ChildScope,
    EvalError,
    MapScope,
    StaticEvalError,
    evaluate,
    evaluate_diags,
    fail_static,
)
from reconciler.values import UNKNOWN

P = ast.Pos("hand.tf", 4, 3, 4, 9)


def lit(v):
    return ast.Literal(v, P)


def var(name):
    return ast.Variable(name, P)


def test_child_scope_shadows_and_falls_back():
    scope = ChildScope(MapScope({"x": 1, "y": 2}), {"x": 10})
    assert evaluate(ast.Binary("+", var("x"), var("y"), P), scope) == 12


def test_evaluate_diags_returns_the_diagnostic_with_position():
    value, diags = evaluate_diags(ast.GetAttr(var("m"), "nope", P), MapScope({"m": {"name": 1}}))
    assert value is None and len(diags) == 1
    d = diags[0]
    assert (d.code, d.summary, d.range.file, d.range.line, d.range.column) == (
        "eval",
        "Unsupported attribute",
        "hand.tf",
        4,
        3,
    )


def test_unknown_root_name_is_static_and_suggests():
    with pytest.raises(StaticEvalError) as info:
        evaluate(var("loacl"), MapScope({"local": {}}))
    assert 'Did you mean "local"?' in info.value.diagnostic.detail


class _ResourceScope:
    """A caller's scope: resource types resolve, anything else is undeclared."""

    def lookup(self, name, pos):
        if name == "azurerm_key_vault":
            return {"kv": {"id": UNKNOWN, "name": "kv1"}}
        raise fail_static(pos, "Reference to undeclared resource", f'"{name}" is not declared.')


def test_a_callers_scope_drives_can_and_try():
    scope = _ResourceScope()
    kv = ast.GetAttr(ast.GetAttr(var("azurerm_key_vault"), "kv", P), "id", P)
    assert evaluate(ast.Call("can", (kv,), P), scope) is UNKNOWN
    name = ast.GetAttr(ast.GetAttr(var("azurerm_key_vault"), "kv", P), "name", P)
    assert evaluate(ast.Call("try", (name, lit("x")), P), scope) == "kv1"
    with pytest.raises(StaticEvalError):
        evaluate(ast.Call("try", (var("azurerm_nothing"), lit("x")), P), scope)


def test_deep_nesting_is_a_diagnostic_not_a_crash():
    expr = lit(1)
    for _ in range(5000):
        expr = ast.Binary("+", expr, lit(1), P)
    with pytest.raises(EvalError) as info:
        evaluate(expr, MapScope())
    assert info.value.diagnostic.summary == "Expression too complex"


def test_splat_binds_each_element():
    each = ast.GetAttr(ast.SplatItem(P), "id", P)
    scope = MapScope({"l": [{"id": "a"}, {"id": UNKNOWN}]})
    assert evaluate(ast.Splat(var("l"), each, P), scope) == ["a", UNKNOWN]


def test_expanding_final_argument():
    call = ast.Call("max", (lit(1), ast.TupleCons((lit(5), lit(3)), P)), P, expand_final=True)
    assert evaluate(call, MapScope()) == 5


def test_eval_error_is_a_diagnostics_error():
    from reconciler.diagnostics import DiagnosticsError

    with pytest.raises(DiagnosticsError) as info:
        evaluate(ast.Binary("/", lit(1), lit(0), P), MapScope())
    assert info.value.diagnostics[0].summary == "Division by zero"


def test_sum_is_decimal_exact():
    call = ast.Call("sum", (ast.TupleCons((lit(0.1), lit(0.2)), P),), P)
    assert evaluate(call, MapScope()) == 0.3


def test_tuples_from_callers_behave_as_lists():
    scope = MapScope({"t": ("a", "b")})
    assert evaluate(ast.Index(var("t"), lit(1), P), scope) == "b"
    assert evaluate(ast.Splat(var("t"), ast.SplatItem(P), P), scope) == ["a", "b"]
    assert evaluate(ast.For(None, "x", var("t"), var("x"), P), scope) == ["a", "b"]
    assert evaluate(ast.Call("length", (var("t"),), P), scope) == 2
    assert evaluate(ast.Call("jsonencode", (var("t"),), P), scope) == '["a","b"]'

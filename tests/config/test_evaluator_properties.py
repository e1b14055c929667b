"""Property tests: whatever expression a user writes, evaluation yields a value or an EvalError."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.config import ast
from reconciler.config.evaluator import EvalError, MapScope, evaluate
from reconciler.config.functions import BUILTINS
from reconciler.config.types import strict_equal
from reconciler.values import UNKNOWN, is_wholly_known, unmark_deep

P = ast.Pos("prop.tf", 1, 1, 1, 2)

numbers = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, -1, 0.5, 10**20]),
)
texts = st.one_of(st.text(max_size=8), st.sampled_from(["1", "2.5", "-3", "true", "false", "", "/a/", "%d"]))
primitives = st.one_of(numbers, texts, st.booleans(), st.none())
literals = primitives.map(lambda v: ast.Literal(v, P))
roots = st.sampled_from(["n", "s", "l", "m", "u", "nothing"]).map(lambda name: ast.Variable(name, P))

SCOPE = MapScope(
    {"n": 3, "s": "kv", "l": [1, "a", None], "m": {"a": 1, "b": [2]}, "u": UNKNOWN, "nothing": None}
)
OPERATORS = ["+", "-", "*", "/", "%", "==", "!=", "<", ">", "<=", ">=", "&&", "||"]


def _extend(children):
    return st.one_of(
        st.builds(lambda op, a, b: ast.Binary(op, a, b, P), st.sampled_from(OPERATORS), children, children),
        st.builds(lambda op, a: ast.Unary(op, a, P), st.sampled_from(["-", "!"]), children),
        st.builds(lambda c, a, b: ast.Conditional(c, a, b, P), children, children, children),
        st.builds(
            lambda parts: ast.Template(
                tuple(ast.TemplateInterp(p) if not isinstance(p, str) else p for p in parts), P
            ),
            st.lists(st.one_of(st.text(max_size=3), children), max_size=3),
        ),
        st.builds(lambda items: ast.TupleCons(tuple(items), P), st.lists(children, max_size=3)),
        st.builds(lambda k, v: ast.ObjectCons(((k, v),), P), children, children),
        st.builds(lambda o, k: ast.Index(o, k, P), children, children),
        st.builds(lambda o, n: ast.GetAttr(o, n, P), children, st.sampled_from(["a", "b", "id"])),
        st.builds(lambda s: ast.Splat(s, ast.SplatItem(P), P), children),
        st.builds(lambda c, v: ast.For(None, "x", c, v, P), children, children),
        st.builds(
            lambda name, args: ast.Call(name, tuple(args), P),
            st.sampled_from(sorted(BUILTINS) + ["can", "try"]),
            st.lists(children, max_size=3),
        ),
    )


expressions = st.recursive(st.one_of(literals, roots), _extend, max_leaves=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions)
def test_evaluation_never_raises_anything_but_eval_error(expr):
    try:
        value = evaluate(expr, SCOPE)
    except EvalError as exc:
        assert exc.diagnostic.code == "eval" and exc.diagnostic.summary
        return
    _assert_value(unmark_deep(value)[0])  # sensitive() marks a value; under the mark it is plain


def _assert_value(value):
    if value is UNKNOWN or value is None or isinstance(value, (str, bool, int, float)):
        return
    if isinstance(value, list):
        for v in value:
            _assert_value(v)
        return
    assert isinstance(value, dict), f"not a configuration value: {value!r}"
    for k, v in value.items():
        assert isinstance(k, str)
        _assert_value(v)


arith = st.recursive(
    numbers.map(lambda v: ast.Literal(v, P)),
    lambda c: st.builds(
        lambda op, a, b: ast.Binary(op, a, b, P), st.sampled_from(["+", "-", "*", "/", "%"]), c, c
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(arith)
def test_arithmetic_yields_finite_numbers_and_integers_stay_integers(expr):
    try:
        value = evaluate(expr, SCOPE)
    except EvalError:
        return
    assert isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(value, float):
        assert value == value and abs(value) != float("inf") and not value.is_integer()


@settings(max_examples=200, deadline=None)
@given(expressions)
def test_unknown_operand_makes_arithmetic_unknown_or_an_error(expr):
    wrapped = ast.Binary("+", expr, ast.Variable("u", P), P)
    with contextlib.suppress(EvalError):
        assert evaluate(wrapped, SCOPE) is UNKNOWN


@settings(max_examples=200, deadline=None)
@given(primitives, primitives)
def test_equality_is_symmetric_and_typed(a, b):
    assert strict_equal(a, b) == strict_equal(b, a)
    if isinstance(a, bool) != isinstance(b, bool):
        assert strict_equal(a, b) is False
    assert is_wholly_known(a)

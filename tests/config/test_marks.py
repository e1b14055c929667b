"""Sensitivity marks travel through every kind of expression as Terraform's do.

Each case gives an expression over sensitive inputs and the paths of the result that
must be marked (``()`` is the value itself). The expectations were taken from
terraform 1.11 (an output that must be declared sensitive is marked at the top; one that
needn't be is not), e.g. ``length([var.s, "b"])`` is not sensitive while
``length(var.s)`` is, and ``contains(...)`` of a list with a secret is.
"""

from __future__ import annotations

import pytest

from reconciler.config.evaluator import EvalError, MapScope, evaluate
from reconciler.config.loader import parse_text
from reconciler.values import (
    UNKNOWN,
    Sensitive,
    has_marks,
    is_wholly_known,
    mark_paths,
    redact,
    unmark_deep,
    unmark_paths,
)

SECRET = "CANARY-s3cr3t"
SCOPE = {
    "var": {
        "s": Sensitive(SECRET),
        "l": [Sensitive(SECRET), "b"],
        "m": {"a": Sensitive(SECRET), "b": "p"},
        "sl": Sensitive(["a", "b"]),
        "n": Sensitive(3),
        "c": Sensitive(True),
        "u": Sensitive(UNKNOWN),
    }
}


def ev(text: str):
    file, diags = parse_text(f"x = {text}\n", "f.tf")
    assert file is not None, diags
    return evaluate(file.body.attributes[0].expr, MapScope(SCOPE))


WHOLE = [()]
NONE: list = []

CASES = [
    # references and indexing
    ("var.s", WHOLE),
    ("var.m.b", NONE),
    ('var.m["b"]', NONE),
    ('var.m["a"]', WHOLE),
    ("var.sl[0]", WHOLE),
    ('{ a = "p" }[var.s == "x" ? "b" : "a"]', WHOLE),
    # constructors keep their elements' marks in place
    ('[var.s, "b"]', [(0,)]),
    ('{ a = var.s, b = "p" }', [("a",)]),
    ('{ (var.s) = "x" }', WHOLE),
    # operators
    ('var.s == "x"', WHOLE),
    ('[var.s] == ["x"]', WHOLE),
    ("var.n + 1", WHOLE),
    ("var.n > 1", WHOLE),
    ("-var.n", WHOLE),
    ("!var.c", WHOLE),
    ("var.c && true", WHOLE),
    ("false && var.c", NONE),
    # conditionals: the condition marks the result, the chosen branch keeps its marks
    ('var.s == "x" ? "a" : "b"', WHOLE),
    ('true ? var.s : "b"', WHOLE),
    ('false ? var.s : "b"', NONE),
    ('true ? var.l : ["c"]', [(0,)]),
    # templates
    ('"x-${var.s}"', WHOLE),
    ('"${var.s}"', WHOLE),
    ('"%{if var.s == "x"}yes%{endif}"', WHOLE),
    ('"%{for v in var.sl}${v}%{endfor}"', WHOLE),
    ('"%{for v in var.l}${v}%{endfor}"', WHOLE),
    # for expressions
    ("[for v in var.l : v]", [(0,)]),
    ("[for v in var.sl : v]", WHOLE),
    ('{ for k, v in var.m : k => "x" }', NONE),
    ('{ for k in [var.s] : k => "x" }', WHOLE),
    ('[for v in ["a"] : v if var.c]', WHOLE),
    # splats
    ('[{ v = var.s, w = "p" }][*].w', NONE),
    ('[{ v = var.s, w = "p" }][*].v', [(0,)]),
    ("var.sl[*]", WHOLE),
    # functions: by default any mark inside an argument marks the result
    ("upper(var.s)", WHOLE),
    ("base64encode(var.s)", WHOLE),
    ('join(",", var.l)', WHOLE),
    ('format("%s", var.s)', WHOLE),
    ('coalesce("", "x", var.s)', WHOLE),
    ('contains(var.l, "b")', WHOLE),
    ("jsonencode({ a = var.s })", WHOLE),
    ("toset(var.l)", WHOLE),
    ("tostring(var.s)", WHOLE),
    # ... functions that move elements keep the elements' marks where they go
    ("length(var.s)", WHOLE),
    ("length(var.sl)", WHOLE),
    ("length(var.l)", NONE),
    ("keys(var.m)", NONE),
    ("values(var.m)", [(0,)]),
    ('concat(var.l, ["c"])', [(0,)]),
    ("element(var.l, 1)", NONE),
    ('lookup(var.m, "b")', NONE),
    ("merge(var.m, { c = 1 })", [("a",)]),
    ("reverse(var.l)", [(1,)]),
    ("slice(var.l, 1, 2)", NONE),
    ('zipmap(["k1", "k2"], var.l)', [("k1",)]),
    ("tolist(var.l)", [(0,)]),
    ("flatten([var.l, [var.s]])", [(0,), (2,)]),
    ('flatten([var.sl, ["c"]])', WHOLE),
    # sensitive() adds the mark, nonsensitive() removes the value's own
    ('sensitive("x")', WHOLE),
    ("nonsensitive(var.s)", NONE),
    ("nonsensitive(var.l)", [(0,)]),
    # can/try
    ('try(var.m.b, "z")', NONE),
    ('try(var.s, "z")', WHOLE),
    # unknown sensitive values stay marked
    ("var.u", WHOLE),
    ('"${var.u}-x"', WHOLE),
]


@pytest.mark.parametrize("text,paths", CASES, ids=[c[0] for c in CASES])
def test_marks_land_where_terraform_puts_them(text, paths):
    _, found = unmark_paths(ev(text))
    assert sorted(found) == sorted(paths)


ERRORS = [
    "var.m[var.s]",
    "tonumber(var.s)",
    "var.s + 1",
    "{ for k in [var.s, var.s] : k => 1 }",
    "tobool(var.s)",
    "var.l[var.s]",
]


@pytest.mark.parametrize("text", ERRORS)
def test_an_error_about_a_sensitive_value_does_not_quote_it(text):
    with pytest.raises(EvalError) as info:
        ev(text)
    d = info.value.diagnostic
    assert d.summary and SECRET not in d.summary and SECRET not in d.detail
    assert "sensitive value" in d.detail


def test_a_marked_value_never_prints_itself():
    value = Sensitive({"a": SECRET})
    assert SECRET not in repr(value) and SECRET not in str(value) and SECRET not in f"{[value]}"


def test_paths_round_trip_and_unmarked_values_are_not_copied():
    plain = {"a": [1, {"b": "x"}], "c": "y"}
    assert unmark_paths(plain)[0] is plain and unmark_deep(plain)[0] is plain
    marked = mark_paths(plain, [("a", 1, "b"), ("c",)])
    assert has_marks(marked) and not has_marks(plain)
    back, paths = unmark_paths(marked)
    assert back == plain and sorted(paths) == [("a", 1, "b"), ("c",)]


def test_a_path_the_value_lacks_marks_its_deepest_part_and_waits_on_unknowns():
    assert unmark_paths(mark_paths({"a": "x"}, [("a", 3)]))[1] == [("a",)]
    assert unmark_paths(mark_paths({"a": UNKNOWN}, [("a", "b")]))[1] == []
    assert not is_wholly_known(Sensitive(UNKNOWN))


def test_redact_replaces_only_marked_text():
    assert redact("got abc and def", Sensitive("abc"), "def") == "got (sensitive value) and def"

"""Type constraints: parsing ``type`` expressions and converting values to them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.config.loader import parse_text
from reconciler.config.type_exprs import parse_type
from reconciler.config.types import (
    ANY,
    BOOL,
    NUMBER,
    STRING,
    Collection,
    CollectionKind,
    ConversionError,
    ObjectAttr,
    ObjectType,
    TupleType,
    convert,
    to_string,
)
from reconciler.values import UNKNOWN


def type_of(text: str):
    file, diags = parse_text(f"t = {text}\n", "types.tf")
    assert file is not None, diags
    return parse_type(file.body.attributes[0].expr)


def parsed(text: str):
    t, diags = type_of(text)
    assert not diags, diags
    return t


@pytest.mark.parametrize(
    "text,expected",
    [
        ("string", STRING),
        ("number", NUMBER),
        ("bool", BOOL),
        ("any", ANY),
        ("list(string)", Collection(CollectionKind.LIST, STRING)),
        ("set(number)", Collection(CollectionKind.SET, NUMBER)),
        ("map(list(bool))", Collection(CollectionKind.MAP, Collection(CollectionKind.LIST, BOOL))),
        ("tuple([string, number])", TupleType((STRING, NUMBER))),
        ("list", Collection(CollectionKind.LIST, ANY)),
    ],
)
def test_parse_simple_types(text, expected):
    assert parsed(text) == expected


def test_parse_object_with_optional_defaults():
    t = parsed("object({ sku = string, days = optional(number, 90), tags = optional(map(string)) })")
    assert isinstance(t, ObjectType)
    sku, days, tags = t.attrs
    assert (sku.name, sku.type, sku.optional) == ("sku", STRING, False)
    assert (days.optional, days.has_default, days.default) == (True, True, 90)
    assert (tags.optional, tags.has_default) == (True, False)


@pytest.mark.parametrize(
    "text,summary",
    [
        ('"string"', "Invalid quoted type constraints"),
        ("strin", 'Invalid type specification "strin"'),
        ("list(string, number)", "takes one argument"),
        ("optional(string)", "optional() outside an object"),
        ('object({ a = optional(number, "x") })', 'Invalid default for optional attribute "a"'),
        ("tuple(string)", "Invalid tuple type"),
        ("object({ a = string, a = number })", 'Duplicate attribute "a"'),
        ("frobnicate(string)", "unknown type constructor"),
    ],
)
def test_bad_type_expressions_are_diagnostics(text, summary):
    t, diags = type_of(text)
    assert t is None
    assert len(diags) == 1 and summary in diags[0].summary
    assert diags[0].range.file == "types.tf" and diags[0].range.line == 1


@pytest.mark.parametrize(
    "value,type_text,expected",
    [
        ("1", "number", 1),
        ("2.5", "number", 2.5),
        ("true", "bool", True),
        (3, "string", "3"),
        (1.0, "string", "1"),
        (False, "string", "false"),
        ([1, "2"], "list(number)", [1, 2]),
        (["b", "a", "b"], "set(string)", ["a", "b"]),
        ({"a": 1}, "map(string)", {"a": "1"}),
        ([1, "x"], "tuple([string, string])", ["1", "x"]),
        ([1, "x"], "list(any)", ["1", "x"]),
        (None, "string", None),
        (UNKNOWN, "list(string)", UNKNOWN),
        (["a", UNKNOWN], "list(string)", ["a", UNKNOWN]),
        (
            {"sku": "standard"},
            "object({ sku = string, days = optional(number, 90) })",
            {"sku": "standard", "days": 90},
        ),
        (
            {"sku": "premium", "days": "7"},
            "object({ sku = string, days = optional(number, 90) })",
            {"sku": "premium", "days": 7},
        ),
        (
            {"sku": "s", "days": None},
            "object({ sku = string, days = optional(number, 90) })",
            {"sku": "s", "days": 90},
        ),
        (
            {"sku": "s", "extra": 1},
            "object({ sku = string, note = optional(string) })",
            {"sku": "s", "note": None},
        ),
        (
            {"net": {}},
            'object({ net = object({ action = optional(string, "Deny") }) })',
            {"net": {"action": "Deny"}},
        ),
        ({"a": [1]}, "any", {"a": [1]}),
    ],
)
def test_convert(value, type_text, expected):
    assert convert(value, parsed(type_text)) == expected


@pytest.mark.parametrize(
    "value,type_text,message",
    [
        (
            {"sku": [1]},
            "object({ sku = string })",
            'attribute "sku": a string is required, but a list was given',
        ),
        ({}, "object({ sku = string })", 'attribute "sku" is required'),
        ("ten", "number", 'a number is required, and the string "ten" is not a number'),
        ("yes", "bool", "neither"),
        ([1, "a"], "list(number)", "element 1: a number is required"),
        ({"k": [1]}, "map(string)", 'element "k": a string is required'),
        ([1], "tuple([string, string])", "a tuple of 2 elements is required"),
        ("x", "list(string)", "a list of string is required, but a string was given"),
        ([{"a": 1}, "b"], "list(any)", "all elements must have the same type"),
        (
            {"outer": {"inner": "x"}},
            "object({ outer = object({ inner = number }) })",
            'attribute "outer", attribute "inner": a number is required',
        ),
    ],
)
def test_conversion_errors_name_the_path(value, type_text, message):
    with pytest.raises(ConversionError) as info:
        convert(value, parsed(type_text))
    assert message in str(info.value)


@pytest.mark.parametrize("number,text", [(1, "1"), (1.5, "1.5"), (1e-7, "0.0000001"), (-0.25, "-0.25")])
def test_numbers_render_as_terraform_does(number, text):
    assert to_string(number) == text


# --------------------------------------------------------------------------- properties

_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**6), 10**6),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=6),
        st.sampled_from(["1", "true", "2.5", UNKNOWN]),
    ),
    lambda c: st.one_of(
        st.lists(c, max_size=3), st.dictionaries(st.sampled_from(["a", "b", "sku"]), c, max_size=3)
    ),
    max_leaves=8,
)
_types = st.recursive(
    st.sampled_from([STRING, NUMBER, BOOL, ANY]),
    lambda c: st.one_of(
        st.builds(Collection, st.sampled_from(list(CollectionKind)), c),
        st.builds(lambda ts: TupleType(tuple(ts)), st.lists(c, max_size=3)),
        st.builds(
            lambda attrs: ObjectType(tuple(ObjectAttr(n, t, optional=o) for n, (t, o) in attrs.items())),
            st.dictionaries(st.sampled_from(["a", "b", "sku"]), st.tuples(c, st.booleans()), max_size=3),
        ),
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(_values, _types)
def test_convert_yields_a_value_or_a_conversion_error(value, type_):
    try:
        out = convert(value, type_)
    except ConversionError as exc:
        assert str(exc)
        return
    again = convert(out, type_)  # converting a converted value changes nothing
    assert again == out

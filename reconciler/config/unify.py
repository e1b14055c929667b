"""One type for several values, as terraform finds it where values must share one.

A conditional's two results, the elements ``distinct`` reads as one list and the sets ``setunion``
and its kin combine are converted to a common type first (go-cty's ``convert.Unify``), so the
values change where the types differ (terraform 1.11 console, side by side):
``true ? [1] : ["x"]`` is ``["1"]``, ``true ? {a = 1} : {b = "x"}`` is ``{a = "1"}`` (a map),
``distinct([1, "1"])`` is ``["1"]``.

vaultform's values carry no types, so each value's type is read from the value itself, as
terraform types a literal: a list is a tuple of its items' types, a dict an object. The rules:
strings mixed with numbers or bools make strings (numbers and bools alone have no common type);
tuples of one length unify item by item, of different lengths make a list of one element type;
objects with the same attributes unify attribute by attribute, with different ones make a map;
null and unknown values take any type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.config.types import to_string
from reconciler.values import UNKNOWN, Sensitive, mark


@dataclass(frozen=True)
class ValueType:
    """``kind``: "string", "number", "bool", "dynamic" (null, unknown: any type), "tuple"
    (``items``), "object" (``fields``), or "list" / "map" (every element ``element``)."""

    kind: str
    items: tuple[ValueType, ...] = ()
    fields: tuple[tuple[Any, ValueType], ...] = ()
    element: ValueType | None = None


DYNAMIC = ValueType("dynamic")
_PRIMITIVES = frozenset({"string", "number", "bool"})


def type_of(value: Any) -> ValueType:
    """The type terraform gives a literal with this value."""
    if type(value) is Sensitive:
        value = value.value
    if value is None or value is UNKNOWN:
        return DYNAMIC
    if isinstance(value, bool):
        return ValueType("bool")
    if isinstance(value, (int, float)):
        return ValueType("number")
    if isinstance(value, str):
        return ValueType("string")
    if isinstance(value, (list, tuple)):
        return ValueType("tuple", items=tuple(type_of(v) for v in value))
    if isinstance(value, dict):
        return ValueType("object", fields=tuple((k, type_of(value[k])) for k in sorted(value, key=str)))
    return DYNAMIC


def unify(types: Sequence[ValueType]) -> ValueType | None:
    """The one type every type in ``types`` converts to; None when there is none."""
    known = [t for t in types if t.kind != "dynamic"]
    if not known:
        return DYNAMIC
    first = known[0]
    if all(t == first for t in known):
        return first
    kinds = {t.kind for t in known}
    if kinds <= _PRIMITIVES:
        return ValueType("string") if "string" in kinds else None
    if kinds <= {"tuple", "list"}:
        if kinds == {"tuple"} and len({len(t.items) for t in known}) == 1:
            columns = [unify([t.items[i] for t in known]) for i in range(len(first.items))]
            if any(c is None for c in columns):
                return None
            return ValueType("tuple", items=tuple(c for c in columns if c is not None))
        element = unify([e for t in known for e in _elements(t)])
        return None if element is None else ValueType("list", element=element)
    if kinds <= {"object", "map"}:
        if kinds == {"object"} and len({tuple(k for k, _ in t.fields) for t in known}) == 1:
            fields = [(k, unify([dict(t.fields)[k] for t in known])) for k, _ in first.fields]
            if any(f is None for _, f in fields):
                return None
            return ValueType("object", fields=tuple((k, f) for k, f in fields if f is not None))
        element = unify([e for t in known for e in _elements(t)])
        return None if element is None else ValueType("map", element=element)
    return None


def _elements(t: ValueType) -> list[ValueType]:
    if t.kind == "tuple":
        return list(t.items)
    if t.kind == "object":
        return [f for _, f in t.fields]
    return [t.element] if t.element is not None else []


def convert(value: Any, t: ValueType) -> Any:
    """``value`` converted to ``t`` (a type ``unify`` gave for it); marks stay where they are."""
    if type(value) is Sensitive:
        return mark(convert(value.value, t))
    if value is None or value is UNKNOWN or t.kind == "dynamic":
        return value
    if t.kind == "string":
        return to_string(value)
    if t.kind == "tuple" and isinstance(value, (list, tuple)):
        return [convert(v, item) for v, item in zip(value, t.items, strict=True)]
    if t.kind == "list" and isinstance(value, (list, tuple)) and t.element is not None:
        return [convert(v, t.element) for v in value]
    if t.kind == "object" and isinstance(value, dict):
        fields = dict(t.fields)
        return {k: convert(v, fields[k]) for k, v in value.items()}
    if t.kind == "map" and isinstance(value, dict) and t.element is not None:
        return {k: convert(v, t.element) for k, v in value.items()}
    return value


def unified(values: Sequence[Any]) -> list[Any] | None:
    """``values`` converted to their one common type; None when they have none."""
    t = unify([type_of(v) for v in values])
    return None if t is None else [convert(v, t) for v in values]

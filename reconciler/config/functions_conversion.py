"""Type conversion functions: tostring, tonumber, tobool, tolist, toset, tomap.

``sensitive``, ``nonsensitive``, ``issensitive`` and ``ephemeralasnull`` are here too: the first marks its argument
sensitive, the second removes the argument's own mark (marks on its elements stay), as
Terraform's do. ``tolist`` and ``tomap`` keep each element's mark on that element; a set
can't hold marked elements, so ``toset`` marks the whole set (Terraform's cty sets do
the same).
"""

from __future__ import annotations

from reconciler.config.functions_spec import FunctionError, Known, Marks, Param, ParamType, spec, table
from reconciler.config.types import (
    ANY,
    ConversionError,
    a_type,
    set_of,
    to_bool,
    to_number,
    to_string,
    unify_elements,
)
from reconciler.values import UNKNOWN, mark, mark_paths, strip, unmark, unmark_paths


def _primitive(convert, value):
    if isinstance(value, (list, tuple, dict)):
        raise FunctionError(f"cannot convert {a_type(value)} to a primitive value", 0)
    try:
        return convert(value)
    except ConversionError as exc:
        raise FunctionError(exc.message, 0) from None


_V = Param("v", ParamType.ANY, Known.TOP, nullable=True)


@spec("tostring", _V)
def _tostring(v):
    return _primitive(to_string, v)


@spec("tonumber", _V)
def _tonumber(v):
    return _primitive(to_number, v)


@spec("tobool", _V)
def _tobool(v):
    return _primitive(to_bool, v)


def _unified(items, what: str):
    try:
        return unify_elements(items, ANY, ())
    except ConversionError as exc:
        raise FunctionError(f"cannot convert to {what}: {exc.message}", 0) from None


def _in_place(convert):
    """``convert`` applied to the value without marks; the marks go back where they stood."""

    def run(v):
        plain, paths = unmark_paths(v)
        if plain is UNKNOWN:
            return v
        return mark_paths(convert(plain), paths)

    run.__name__ = convert.__name__
    return run


@spec("tolist", _V, marks=Marks.KEEP)
@_in_place
def _tolist(v):
    if v is None:
        return None
    if not isinstance(v, (list, tuple)):
        raise FunctionError(f"cannot convert {a_type(v)} to a list", 0)
    return _unified(list(v), "a list")


@spec("toset", Param("v", ParamType.ANY, Known.WHOLE, nullable=True))
def _toset(v):
    if v is None:
        return None
    if not isinstance(v, (list, tuple)):
        raise FunctionError(f"cannot convert {a_type(v)} to a set", 0)
    return set_of(_unified(list(v), "a set"))


@spec("tomap", _V, marks=Marks.KEEP)
@_in_place
def _tomap(v):
    if v is None:
        return None
    if not isinstance(v, dict):
        raise FunctionError(f"cannot convert {a_type(v)} to a map", 0)
    return _unified(dict(v), "a map")


@spec("sensitive", Param("value", ParamType.ANY, Known.ANY, nullable=True), marks=Marks.KEEP)
def _sensitive(v):
    return mark(v)


@spec("nonsensitive", Param("value", ParamType.ANY, Known.ANY, nullable=True), marks=Marks.KEEP)
def _nonsensitive(v):
    return strip(v)


@spec("issensitive", Param("value", ParamType.ANY, Known.ANY, nullable=True), marks=Marks.KEEP)
def _issensitive(v):
    """Whether the value itself is marked sensitive (a mark on an element does not count)."""
    plain, marked = unmark(v)
    if marked:
        return True
    return UNKNOWN if plain is UNKNOWN else False


@spec("ephemeralasnull", Param("value", ParamType.ANY, Known.ANY, nullable=True), marks=Marks.KEEP)
def _ephemeralasnull(v):
    """The value with its ephemeral parts made null; vaultform has no ephemeral values, so the
    value itself, marks and all (terraform gives the same for a value with nothing ephemeral)."""
    return v


FUNCTIONS = table(
    _tostring,
    _tonumber,
    _tobool,
    _tolist,
    _toset,
    _tomap,
    _sensitive,
    _nonsensitive,
    _issensitive,
    _ephemeralasnull,
)

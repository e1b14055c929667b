"""Collection built-in functions: lists, maps and sets.

Sets are lists without duplicates (``types.set_of``). Where the answer does not
depend on unknown elements the parameter is ``Known.TOP`` (``length``, ``keys``,
``concat`` …); otherwise any unknown inside makes the result unknown.
"""

from __future__ import annotations

from typing import Any

from reconciler.config import graphemes
from reconciler.config.functions_spec import FunctionError, Known, Marks, Param, ParamType, spec, table
from reconciler.config.types import ConversionError, a_type, set_of, strict_equal, to_bool, to_string
from reconciler.config.unify import unified
from reconciler.values import UNKNOWN, mark_if, type_name, unmark

_LIST = Param("list", ParamType.LIST)
_LIST_TOP = Param("list", ParamType.LIST, Known.TOP)
_ANY = Param("value", ParamType.ANY, Known.WHOLE, nullable=True)

RANGE_LIMIT = 1024


def _whole(n, what: str, arg: int) -> int:
    if not isinstance(n, int):
        raise FunctionError(f"{what} must be a whole number, not {n}", arg)
    return n


@spec("length", Param("value", ParamType.ANY, Known.TOP), marks=Marks.ELEMENTS)
def _length(value):
    if isinstance(value, str):
        return graphemes.count(value)  # characters as a reader counts them: a flag is one
    if isinstance(value, (list, tuple, dict)):
        return len(value)
    raise FunctionError(f"length needs a string, list, set, map or object, not {a_type(value)}", 0)


@spec("coalesce", variadic=Param("vals", ParamType.ANY, Known.ANY, nullable=True))
def _coalesce(*vals):
    kinds = {type_name(v) for v in vals if v is not None and v is not UNKNOWN}
    as_string = "string" in kinds and len(kinds) > 1 and kinds <= {"string", "number", "bool"}
    for v in vals:
        if v is UNKNOWN:
            return UNKNOWN
        if v is not None and v != "":
            return to_string(v) if as_string else v  # arguments share one type, as in Terraform
    raise FunctionError("no non-null, non-empty-string arguments")


@spec("coalescelist", variadic=Param("vals", ParamType.LIST, Known.TOP), marks=Marks.ELEMENTS)
def _coalescelist(*lists):
    for lst in lists:
        if lst is UNKNOWN:
            return UNKNOWN
        if lst:
            return lst
    raise FunctionError("no non-empty list arguments")


@spec("concat", variadic=Param("seqs", ParamType.LIST, Known.TOP), marks=Marks.ELEMENTS)
def _concat(*lists):
    if not lists:
        raise FunctionError("at least one argument is required")
    return [v for lst in lists for v in lst]


@spec("contains", _LIST, _ANY)
def _contains(lst, value):
    return any(strict_equal(v, value) is True for v in lst)


@spec("distinct", _LIST)
def _distinct(lst):
    # the argument becomes a list of one element type first: distinct([1, "1"]) is ["1"]
    same = unified(lst)
    if same is None:
        raise FunctionError(
            'Invalid value for "list" parameter: all list elements must have the same type', 0, _BAD_ARGUMENT
        )
    out: list = []
    for v in same:
        if not any(strict_equal(v, seen) is True for seen in out):
            out.append(v)
    return out


@spec("index", _LIST, _ANY)
def _index(lst, value):
    for i, v in enumerate(lst):
        if strict_equal(v, value) is True:
            return i
    raise FunctionError("item not found in the list", 1)


@spec("element", _LIST_TOP, Param("index", ParamType.NUMBER), marks=Marks.ELEMENTS)
def _element(lst, index):
    index = _whole(index, "index", 1)
    if not lst:
        raise FunctionError("cannot use element on an empty list", 0)
    return lst[index % len(lst)]  # wraps around both ways: -1 is the last element


def _flatten_into(out: list[Any], lst: list[Any] | tuple[Any, ...]) -> tuple[bool, bool]:
    """Append the leaves of ``lst`` to ``out``: (whether all was known, whether a nested list was
    sensitive). A sensitive leaf keeps its mark; a sensitive nested list marks the whole result,
    as Terraform's flatten does."""
    hoisted = False
    for v in lst:
        inner, marked = unmark(v)
        if inner is UNKNOWN:
            return False, hoisted or marked
        if isinstance(inner, (list, tuple)):
            known, inner_hoisted = _flatten_into(out, inner)
            hoisted = hoisted or marked or inner_hoisted
            if not known:
                return False, hoisted
        else:
            out.append(v)
    return True, hoisted


@spec("flatten", Param("list", ParamType.LIST, Known.ANY), marks=Marks.ELEMENTS)
def _flatten(lst):
    if lst is UNKNOWN:
        return UNKNOWN
    out: list = []
    known, hoisted = _flatten_into(out, lst)
    return mark_if(out if known else UNKNOWN, hoisted)


@spec("keys", Param("inputMap", ParamType.MAP, Known.TOP), marks=Marks.ELEMENTS)
def _keys(m):
    return sorted(m)


@spec("values", Param("mapping", ParamType.MAP, Known.TOP), marks=Marks.ELEMENTS)
def _values(m):
    return [m[k] for k in sorted(m)]


@spec(
    "lookup",
    Param("inputMap", ParamType.MAP, Known.TOP),
    Param("key", ParamType.STRING),
    variadic=Param("default", ParamType.ANY, Known.ANY, nullable=True),
    marks=Marks.ELEMENTS,
)
def _lookup(m, key, *default):
    if len(default) > 1:
        raise FunctionError("lookup takes at most three arguments: lookup(map, key, default)")
    if key in m:
        return m[key]
    if default:
        return default[0]
    raise FunctionError(f'the map has no key "{key}" and no default was given', 1)


@spec("merge", variadic=Param("maps", ParamType.MAP, Known.TOP, nullable=True), marks=Marks.ELEMENTS)
def _merge(*maps):
    out: dict = {}
    for m in maps:
        if m is not None:
            out.update(m)
    return out


@spec("range", variadic=Param("params", ParamType.NUMBER))
def _range(*params):
    if not 1 <= len(params) <= 3:
        raise FunctionError(
            "range takes one to three numbers: range(limit), range(start, limit) or range(start, limit, step)"
        )
    start = 0
    if len(params) == 1:
        limit = params[0]
    else:
        start, limit = params[0], params[1]
    step = params[2] if len(params) == 3 else (1 if start <= limit else -1)
    if step == 0:
        raise FunctionError("step must not be zero", 2)
    if (step > 0 and start > limit) or (step < 0 and start < limit):
        raise FunctionError("step must point from start toward limit", 2 if len(params) == 3 else 0)
    out: list[int | float] = []
    value = start
    while (value < limit) if step > 0 else (value > limit):
        if len(out) >= RANGE_LIMIT:
            raise FunctionError(f"more than {RANGE_LIMIT} values would be generated; use a larger step")
        out.append(value)
        value += step
    return out


@spec("reverse", _LIST_TOP, marks=Marks.ELEMENTS)
def _reverse(lst):
    return list(reversed(lst))


@spec(
    "slice",
    _LIST_TOP,
    Param("start_index", ParamType.NUMBER),
    Param("end_index", ParamType.NUMBER),
    marks=Marks.ELEMENTS,
)
def _slice(lst, start, end):
    start, end = _whole(start, "start_index", 1), _whole(end, "end_index", 2)
    if start < 0 or end > len(lst) or start > end:
        raise FunctionError(
            f"indexes must satisfy 0 <= start_index <= end_index <= {len(lst)} (got {start} and {end})"
        )
    return lst[start:end]


@spec("sort", _LIST)
def _sort(lst):
    try:
        items = [to_string(v) for v in lst]
    except ConversionError:
        raise FunctionError("sort needs a list of strings", 0) from None
    if any(v is None for v in items):
        raise FunctionError("sort can't order null values", 0)
    return sorted(items)


@spec(
    "zipmap", Param("keys", ParamType.LIST), Param("values", ParamType.LIST, Known.TOP), marks=Marks.ELEMENTS
)
def _zipmap(keys, values):
    if len(keys) != len(values):
        raise FunctionError(
            f"the keys list has {len(keys)} elements but the values list has "
            f"{len(values)}; they must be the same length"
        )
    try:
        return {to_string(k): v for k, v in zip(keys, values)}
    except ConversionError:
        raise FunctionError("keys must be strings", 0) from None


@spec("one", _LIST_TOP, marks=Marks.ELEMENTS)
def _one(lst):
    if len(lst) > 1:
        raise FunctionError(
            f"must be a list, set, or tuple value with either zero or one elements, not {len(lst)}", 0
        )
    return lst[0] if lst else None


@spec("compact", _LIST)
def _compact(lst):
    return [v for v in lst if v is not None and v != ""]


@spec("chunklist", _LIST_TOP, Param("size", ParamType.NUMBER), marks=Marks.ELEMENTS)
def _chunklist(lst, size):
    size = _whole(size, "size", 1)
    if size < 0:
        raise FunctionError("size must not be negative", 1)
    if size == 0:
        return [lst]
    return [lst[i : i + size] for i in range(0, len(lst), size)]


_SET_NAMES = ("first_set", "other_sets")
_BAD_ARGUMENT = "Invalid function argument"


def _common_sets(sets: list[list], names: tuple[str, ...]) -> list[list]:
    """The sets with one element type for them all, as terraform converts them before it combines
    them: setunion([1], ["a"]) is ["1", "a"] (terraform 1.11)."""
    for i, s in enumerate(sets):
        if unified(s) is None:
            name = names[min(i, len(names) - 1)]
            raise FunctionError(
                f'Invalid value for "{name}" parameter: all set elements must have the same type',
                i,
                _BAD_ARGUMENT,
            )
    same = unified([v for s in sets for v in s])
    if same is None:
        raise FunctionError("given sets must all have compatible element types", None)
    out, at = [], 0
    for s in sets:
        out.append(same[at : at + len(s)])
        at += len(s)
    return out


@spec("setunion", Param("first_set", ParamType.LIST), variadic=Param("other_sets", ParamType.LIST))
def _setunion(first, *others):
    sets = _common_sets([first, *others], _SET_NAMES)
    return set_of([v for s in sets for v in s])


@spec("setintersection", Param("first_set", ParamType.LIST), variadic=Param("other_sets", ParamType.LIST))
def _setintersection(first, *others):
    head, *rest = _common_sets([first, *others], _SET_NAMES)
    keep = [v for v in head if all(any(strict_equal(v, o) is True for o in s) for s in rest)]
    return set_of(keep)


@spec("setsubtract", Param("a", ParamType.LIST), Param("b", ParamType.LIST))
def _setsubtract(a, b):
    a, b = _common_sets([a, b], ("a", "b"))
    return set_of([v for v in a if not any(strict_equal(v, o) is True for o in b)])


def _bools(lst) -> list:
    try:
        out = [to_bool(v) for v in lst]
    except ConversionError:
        raise FunctionError("every element must be a bool", 0) from None
    return out


@spec("alltrue", _LIST)
def _alltrue(lst):
    return all(v is True for v in _bools(lst))


@spec("anytrue", _LIST)
def _anytrue(lst):
    return any(v is True for v in _bools(lst))


@spec("setproduct", variadic=Param("sets", ParamType.LIST))
def _setproduct(*sets):
    if len(sets) < 2:
        raise FunctionError("setproduct needs at least two lists")
    rows: list[list] = [[]]
    for s in sets:
        rows = [row + [v] for row in rows for v in s]
        if len(rows) > RANGE_LIMIT * 10:
            raise FunctionError(f"the product has more than {RANGE_LIMIT * 10} elements")
    return rows


@spec(
    "matchkeys",
    Param("values", ParamType.LIST, Known.TOP),
    Param("keys", ParamType.LIST),
    Param("searchset", ParamType.LIST),
)
def _matchkeys(values, keys, searchset):
    if len(values) != len(keys):
        raise FunctionError("values and keys must have the same length", 1)
    return [v for v, k in zip(values, keys) if any(strict_equal(k, s) is True for s in searchset)]


@spec("transpose", Param("values", ParamType.MAP))
def _transpose(m):
    out: dict[str, list] = {}
    for key in sorted(m):
        items = m[key]
        if not isinstance(items, (list, tuple)):
            raise FunctionError(f'element "{key}" must be a list of strings', 0)
        for item in items:
            try:
                out.setdefault(to_string(item), []).append(key)
            except ConversionError:
                raise FunctionError(f'element "{key}" must be a list of strings', 0) from None
    return {k: out[k] for k in sorted(out)}


FUNCTIONS = table(
    _length,
    _coalesce,
    _coalescelist,
    _concat,
    _contains,
    _distinct,
    _index,
    _element,
    _flatten,
    _keys,
    _values,
    _lookup,
    _merge,
    _range,
    _reverse,
    _slice,
    _sort,
    _zipmap,
    _one,
    _compact,
    _chunklist,
    _setunion,
    _setintersection,
    _setsubtract,
    _alltrue,
    _anytrue,
    _setproduct,
    _matchkeys,
    _transpose,
)

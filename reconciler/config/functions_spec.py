"""How a built-in function is described: parameters as data, checked in one place.

Each family module (``functions_numeric``, ``functions_strings`` …) exports a
``FUNCTIONS`` dict of ``FunctionSpec``; ``functions.BUILTINS`` merges them.
``invoke`` checks arity, nulls and types, converts arguments the way Terraform does
(``"2"`` is a fine number, ``3`` a fine string), and returns ``UNKNOWN`` without
calling the implementation when an argument the result depends on is unknown.

Sensitivity marks (``reconciler.values.Sensitive``) are handled here too, as
Terraform's functions handle cty marks: by default every mark anywhere in the
arguments is removed before the call and the result is marked when there was one
(``Marks.DEEP``); functions that only move elements around (``length``, ``concat``,
``lookup`` …) lift just the arguments' own marks and leave the elements' marks where
they are (``Marks.ELEMENTS``); a few see the marks as they are (``Marks.KEEP``:
``sensitive``, ``nonsensitive``, and conversions that keep elements in place).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reconciler.config.types import ConversionError, a_type, to_bool, to_number, to_string
from reconciler.values import UNKNOWN, is_wholly_known, mark_if, unmark, unmark_deep


class ParamType(enum.Enum):
    ANY = "any value"
    STRING = "string"
    NUMBER = "number"
    BOOL = "bool"
    LIST = "list"
    MAP = "map"
    COLLECTION = "list, set, map or object"


class Known(enum.Enum):
    """How much of an argument must be known for the implementation to run."""

    WHOLE = "whole"  # any unknown anywhere inside -> result unknown
    TOP = "top"  # the argument itself must be known; its elements may be unknown
    ANY = "any"  # the implementation handles unknowns itself


class Marks(enum.Enum):
    """How a function treats sensitivity marks on its arguments."""

    DEEP = "deep"  # every mark inside any argument marks the result
    ELEMENTS = "elements"  # arguments' own marks mark the result; elements keep theirs
    KEEP = "keep"  # the implementation receives the marks and decides


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: ParamType = ParamType.ANY
    known: Known = Known.WHOLE
    nullable: bool = False


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str
    params: tuple[Param, ...]
    impl: Callable[..., Any]
    variadic: Param | None = None
    impure: bool = False  # result is unknown at plan time (uuid, timestamp)
    marks: Marks = Marks.DEEP
    reads_outside: bool = False  # its value comes from files, the clock or the home directory

    def signature(self) -> str:
        names = [p.name for p in self.params]
        if self.variadic:
            names.append(self.variadic.name + "...")
        return f"{self.name}({', '.join(names)})"


class FunctionError(Exception):
    """Raised by an implementation; ``arg`` is the 0-based index of the argument to blame."""

    def __init__(self, message: str, arg: int | None = None, summary: str = "Error in function call"):
        self.message = message
        self.arg = arg
        self.summary = summary
        super().__init__(message)


class ArityError(FunctionError):
    def __init__(self, summary: str, message: str):
        super().__init__(message, None, summary)


def spec(
    name: str,
    *params: Param,
    variadic: Param | None = None,
    impure: bool = False,
    marks: Marks = Marks.DEEP,
    reads_outside: bool = False,
):
    """Decorator: ``@spec("lower", Param("str", STRING))`` builds a FunctionSpec."""

    def wrap(fn: Callable[..., Any]) -> FunctionSpec:
        return FunctionSpec(name, tuple(params), fn, variadic, impure, marks, reads_outside)

    return wrap


def table(*specs: FunctionSpec) -> dict[str, FunctionSpec]:
    return {s.name: s for s in specs}


_BAD_ARGUMENT = "Invalid function argument"

_CONVERT: dict[ParamType, Callable[[Any], Any]] = {
    ParamType.STRING: to_string,
    ParamType.NUMBER: to_number,
    ParamType.BOOL: to_bool,
}
_SHAPES: dict[ParamType, tuple[type, ...]] = {
    ParamType.LIST: (list, tuple),
    ParamType.MAP: (dict,),
    ParamType.COLLECTION: (list, tuple, dict),
}


def _check_arity(fs: FunctionSpec, count: int) -> None:
    need = len(fs.params)
    if count < need:
        missing = fs.params[count].name
        raise ArityError(
            "Not enough function arguments",
            f'Function "{fs.name}" expects {need} argument(s); missing a value for '
            f'"{missing}". Call it as {fs.signature()}.',
        )
    if count > need and fs.variadic is None:
        raise ArityError(
            "Too many function arguments",
            f'Function "{fs.name}" expects only {need} argument(s). Call it as {fs.signature()}.',
        )


def _prepare(fs: FunctionSpec, index: int, param: Param, value: Any) -> Any:
    if value is None:
        if param.nullable:
            return None
        raise FunctionError(
            f'Invalid value for "{param.name}" parameter: argument must not be null', index, _BAD_ARGUMENT
        )
    if value is UNKNOWN:
        return value
    convert = _CONVERT.get(param.type)
    if convert is not None:
        try:
            return convert(value)
        except ConversionError as exc:
            raise FunctionError(
                f'Invalid value for "{param.name}" parameter: {exc.message}', index, _BAD_ARGUMENT
            ) from exc
    shapes = _SHAPES.get(param.type)
    if shapes is not None and not isinstance(value, shapes):
        raise FunctionError(
            f'Invalid value for "{param.name}" parameter: a {param.type.value} is '
            f"required, but {a_type(value)} was given",
            index,
            _BAD_ARGUMENT,
        )
    return value


def _blocks_on_unknown(param: Param, value: Any) -> bool:
    if param.known is Known.ANY:
        return False
    if param.known is Known.TOP:
        return value is UNKNOWN
    return not is_wholly_known(value)


# Whether impure functions (uuid, timestamp, bcrypt) run or answer UNKNOWN: they are unknown
# while planning, as terraform's are ("PureOnly" scopes), and run in the console, as there.
_impure_calls = [False]


def allow_impure_calls(allowed: bool) -> None:
    """Let impure functions compute their value (the console) or answer UNKNOWN (plan)."""
    _impure_calls[0] = allowed


# How many calls so far were of functions that read outside the configuration (and of impure ones
# allowed to run): a result worked out from the configuration alone (validation's findings) may be
# kept only if none ran meanwhile.
_outside_reads = [0]


def outside_reads() -> int:
    return _outside_reads[0]


def invoke(fs: FunctionSpec, args: list[Any]) -> Any:
    """Check and convert ``args`` for ``fs`` and call it; raises FunctionError."""
    _check_arity(fs, len(args))
    if fs.reads_outside or (fs.impure and _impure_calls[0]):
        _outside_reads[0] += 1
    if fs.impure and not _impure_calls[0]:
        return UNKNOWN
    prepared: list[Any] = []
    blocked = False
    marked = False
    for i, value in enumerate(args):
        param = fs.params[i] if i < len(fs.params) else fs.variadic
        assert param is not None
        if fs.marks is Marks.DEEP or (fs.marks is Marks.ELEMENTS and param.known is Known.WHOLE):
            value, m = unmark_deep(value)
            marked = marked or m
        elif fs.marks is Marks.ELEMENTS:
            value, m = unmark(value)
            marked = marked or m
        value = _prepare(fs, i, param, value)
        blocked = blocked or _blocks_on_unknown(param, value)
        prepared.append(value)
    if blocked:
        return mark_if(UNKNOWN, marked)
    return mark_if(fs.impl(*prepared), marked)

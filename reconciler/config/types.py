"""Type constraints of the configuration language and conversion of values to them.

A variable's ``type`` argument (an ``ast.Expr`` such as ``list(string)`` or
``object({sku = string, size = optional(number, 3)})``) is parsed by
``reconciler.config.type_exprs.parse_type`` into a frozen ``TypeConstraint``
(there, because an optional attribute's default is evaluated). ``convert(value, type)``
applies Terraform's automatic conversions (``"1"`` -> 1 for a number, ``"true"``
-> true, numbers and bools -> strings, tuples -> lists, optional attributes filled
with their defaults, sets deduplicated) and raises ``ConversionError`` naming the
path of the offending part (``attribute "sku": a string is required``).

The primitive conversions (``to_string``, ``to_number``, ``to_bool``) live here too
because the evaluator (templates, operators) and the functions share them.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from reconciler.values import UNKNOWN, type_name

# --------------------------------------------------------------------------- constraints


class PrimitiveKind(enum.Enum):
    STRING = "string"
    NUMBER = "number"
    BOOL = "bool"


@dataclass(frozen=True, slots=True)
class Primitive:
    kind: PrimitiveKind

    def __str__(self) -> str:
        return self.kind.value


@dataclass(frozen=True, slots=True)
class AnyType:
    def __str__(self) -> str:
        return "any"


class CollectionKind(enum.Enum):
    LIST = "list"
    SET = "set"
    MAP = "map"


@dataclass(frozen=True, slots=True)
class Collection:
    kind: CollectionKind
    element: TypeConstraint

    def __str__(self) -> str:
        return f"{self.kind.value}({self.element})"


@dataclass(frozen=True, slots=True)
class TupleType:
    elements: tuple[TypeConstraint, ...]

    def __str__(self) -> str:
        return "tuple([" + ", ".join(str(e) for e in self.elements) + "])"


_NO_DEFAULT = object()


@dataclass(frozen=True, slots=True)
class ObjectAttr:
    name: str
    type: TypeConstraint
    optional: bool = False
    default: Any = None  # only meaningful when has_default
    has_default: bool = False


@dataclass(frozen=True, slots=True)
class ObjectType:
    attrs: tuple[ObjectAttr, ...]

    def attr(self, name: str) -> ObjectAttr | None:
        for a in self.attrs:
            if a.name == name:
                return a
        return None

    def __str__(self) -> str:
        inner = ", ".join(
            f"{a.name}={'optional(' if a.optional else ''}{a.type}{')' if a.optional else ''}"
            for a in self.attrs
        )
        return "object({" + inner + "})"


TypeConstraint = Primitive | AnyType | Collection | TupleType | ObjectType

STRING = Primitive(PrimitiveKind.STRING)
NUMBER = Primitive(PrimitiveKind.NUMBER)
BOOL = Primitive(PrimitiveKind.BOOL)
ANY = AnyType()


def a_type(value: Any) -> str:
    """The value's type name with its article, for messages: "a string", "an object"."""
    name = type_name(value)
    return ("an " if name[0] in "aeiou" else "a ") + name


def is_primitive(t: TypeConstraint | None) -> bool:
    return isinstance(t, Primitive)


# --------------------------------------------------------------------------- primitive conversions


class ConversionError(Exception):
    """A value does not fit a type; ``path`` names where (attribute/element steps)."""

    def __init__(self, message: str, path: tuple = ()):
        self.message = message
        self.path = path
        super().__init__(self.render())

    def render(self) -> str:
        steps = []
        for p in self.path:
            if isinstance(p, int):
                steps.append(f"element {p}")
            elif isinstance(p, MapKey):
                steps.append(f'element "{p.key}"')
            else:
                steps.append(f'attribute "{p}"')
        where = ", ".join(steps)
        return f"{where}: {self.message}" if where else self.message


@dataclass(frozen=True, slots=True)
class MapKey:
    key: str


_NUMBER_TEXT = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


MAX_DIGITS = 300  # numbers beyond this are refused rather than printed as 4000-digit text


def normalize_number(n: int | float) -> int | float:
    """Integral floats become ints so that results print and compare as Terraform's do."""
    if isinstance(n, float):
        if math.isnan(n) or math.isinf(n):
            raise ConversionError("the result is not a finite number")
        if n.is_integer():
            n = int(n)
    if isinstance(n, int) and not isinstance(n, bool) and abs(n) >= 10**MAX_DIGITS:
        raise ConversionError(f"the number has more than {MAX_DIGITS} digits")
    return n


def whole_number(text: str) -> int | None:
    """The exact integer a number literal such as ``1e23`` writes, or None when it has a fraction,
    has more than MAX_DIGITS digits or is no number. terraform reads literals as exact decimals:
    ``1e23`` is 100000000000000000000000, where a float would make it 99999999999999991611392."""
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    if d.is_finite() and d == d.to_integral_value() and abs(d) < Decimal(10) ** MAX_DIGITS:
        return int(d)
    return None


def parse_number(text: str) -> int | float | None:
    if not _NUMBER_TEXT.fullmatch(text):
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    whole = whole_number(text)
    if whole is not None:
        return whole
    try:
        return normalize_number(float(d))
    except ConversionError:
        return None


def format_number(n: int | float) -> str:
    if isinstance(n, bool):
        return "true" if n else "false"
    if isinstance(n, int):
        return str(n)
    if n.is_integer() and abs(n) < 1e300:
        return str(int(n))
    text = format(Decimal(repr(n)), "f")
    return text


def to_string(value: Any) -> Any:
    if value is UNKNOWN or value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    raise ConversionError(f"a string is required, but {a_type(value)} was given")


def to_number(value: Any) -> Any:
    if value is UNKNOWN or value is None:
        return value
    if isinstance(value, bool):
        raise ConversionError("a number is required, but a bool was given")
    if isinstance(value, (int, float)):
        return normalize_number(value)
    if isinstance(value, str):
        n = parse_number(value)
        if n is None:
            raise ConversionError(f'a number is required, and the string "{_clip(value)}" is not a number')
        return n
    raise ConversionError(f"a number is required, but {a_type(value)} was given")


def to_bool(value: Any) -> Any:
    if value is UNKNOWN or value is None or isinstance(value, bool):
        return value
    if value == "true" and isinstance(value, str):
        return True
    if value == "false" and isinstance(value, str):
        return False
    if isinstance(value, str):
        raise ConversionError(
            f'a bool is required, and the string "{_clip(value)}" is neither "true" nor "false"'
        )
    raise ConversionError(f"a bool is required, but {a_type(value)} was given")


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_PRIMITIVE_CONVERT = {
    PrimitiveKind.STRING: to_string,
    PrimitiveKind.NUMBER: to_number,
    PrimitiveKind.BOOL: to_bool,
}


# --------------------------------------------------------------------------- structural conversion


def convert(value: Any, type_: TypeConstraint, path: tuple = ()) -> Any:
    """Convert ``value`` to ``type_`` or raise ConversionError naming the path."""
    if value is UNKNOWN or value is None:
        return value
    if isinstance(type_, AnyType):
        return value
    if isinstance(type_, Primitive):
        try:
            return _PRIMITIVE_CONVERT[type_.kind](value)
        except ConversionError as exc:
            raise ConversionError(exc.message, path) from None
    if isinstance(type_, Collection):
        return _convert_collection(value, type_, path)
    if isinstance(type_, TupleType):
        return _convert_tuple(value, type_, path)
    return _convert_object(value, type_, path)


def _convert_collection(value: Any, type_: Collection, path: tuple) -> Any:
    if type_.kind is CollectionKind.MAP:
        if not isinstance(value, dict):
            raise ConversionError(
                f"a map of {type_.element} is required, but {a_type(value)} was given", path
            )
        out = {k: convert(v, type_.element, path + (MapKey(k),)) for k, v in value.items()}
        return unify_elements(out, type_.element, path) if isinstance(type_.element, AnyType) else out
    if not isinstance(value, (list, tuple)):
        raise ConversionError(
            f"a {type_.kind.value} of {type_.element} is required, but {a_type(value)} was given", path
        )
    items = [convert(v, type_.element, path + (i,)) for i, v in enumerate(value)]
    if isinstance(type_.element, AnyType):
        items = unify_elements(items, type_.element, path)
    if type_.kind is CollectionKind.SET:
        return set_of(items)
    return items


def _convert_tuple(value: Any, type_: TupleType, path: tuple) -> list:
    if not isinstance(value, (list, tuple)):
        raise ConversionError(f"a tuple is required, but {a_type(value)} was given", path)
    if len(value) != len(type_.elements):
        raise ConversionError(
            f"a tuple of {len(type_.elements)} elements is required, but {len(value)} were given", path
        )
    return [convert(v, t, path + (i,)) for i, (v, t) in enumerate(zip(value, type_.elements))]


def _convert_object(value: Any, type_: ObjectType, path: tuple) -> dict:
    if not isinstance(value, dict):
        raise ConversionError(f"an object is required, but {a_type(value)} was given", path)
    out: dict = {}
    for attr in type_.attrs:
        present = attr.name in value and value[attr.name] is not None
        if not present and attr.name not in value and not attr.optional:
            raise ConversionError(f'attribute "{attr.name}" is required', path)
        if not present and attr.has_default:
            out[attr.name] = convert(attr.default, attr.type, path + (attr.name,))
        else:
            out[attr.name] = convert(value.get(attr.name), attr.type, path + (attr.name,))
    return out


def set_of(items: list) -> list:
    """A set value: duplicates removed; primitives of one kind in sorted order."""
    unique: list = []
    for item in items:
        if not any(strict_equal(item, seen) is True for seen in unique):
            unique.append(item)
    kinds = {type_name(v) for v in unique}
    if len(kinds) == 1 and kinds <= {"string", "number"}:
        unique.sort()
    return unique


def unify_elements(items, element: TypeConstraint, path: tuple):
    """Elements of list(any)/map(any) must share a type; mixed primitives become strings."""
    values = list(items.values()) if isinstance(items, dict) else list(items)
    kinds = {type_name(v) for v in values if v is not None and v is not UNKNOWN}
    if len(kinds) <= 1:
        return items
    if kinds <= {"string", "number", "bool"}:
        if isinstance(items, dict):
            return {k: to_string(v) for k, v in items.items()}
        return [to_string(v) for v in items]
    raise ConversionError(
        "all elements must have the same type, but they mix " + " and ".join(sorted(kinds)), path
    )


def strict_equal(a: Any, b: Any) -> Any:
    """Equality as the language defines it: types matter (1 != "1", true != 1).

    Returns UNKNOWN when the answer depends on an unknown value.
    """
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return False
        return _all_equal(zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return False
        return _all_equal((a[k], b[k]) for k in a)
    if type(a) is not type(b):
        return False
    return a == b


def _all_equal(pairs) -> Any:
    result: Any = True
    for x, y in pairs:
        eq = strict_equal(x, y)
        if eq is False:
            return False
        if eq is UNKNOWN:
            result = UNKNOWN
    return result

"""The operators of the language on values (no syntax, no scopes): pure functions.

``arithmetic`` covers ``+ - * / %`` and ``< > <= >=`` (strings holding numbers
convert; integers stay integers while exact, so ``4 / 2`` is 2 and ``5 / 2`` is 2.5;
``%`` keeps the sign of the dividend as in HCL). ``equals`` is typed (1 != "1").
``bool_operand``/``logical`` implement ``&&``/``||`` with unknown propagation and
``negate``/``logical_not`` the unary operators. Problems raise ``OperatorError``
(summary, detail); the evaluator adds the source position.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, DecimalException
from typing import Any

from reconciler.config.types import (
    ConversionError,
    normalize_number,
    strict_equal,
    to_bool,
    to_number,
)
from reconciler.config.unify import convert, type_of, unify
from reconciler.values import UNKNOWN, type_name


class OperatorError(Exception):
    def __init__(self, summary: str, detail: str):
        self.summary = summary
        self.detail = detail
        super().__init__(f"{summary}: {detail}")


def article(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


_PHRASES = {
    "+": "add {l} to {r}",
    "-": "subtract {r} from {l}",
    "*": "multiply {l} by {r}",
    "/": "divide {l} by {r}",
    "%": "take the remainder of {l} divided by {r}",
}


def _decimal(n: int | float) -> Decimal:
    return Decimal(n) if isinstance(n, int) else Decimal(repr(n))


def _decimal_op(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Integers compute exactly; anything with a fraction computes in decimal, so that
    0.1 + 0.2 is 0.3 as in Terraform (whose numbers are arbitrary-precision decimals)."""

    def op(a, b):
        if isinstance(a, int) and isinstance(b, int):
            return fn(a, b)
        return float(fn(_decimal(a), _decimal(b)))

    return op


def _mod(a, b):
    if isinstance(a, int) and isinstance(b, int):
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    return a % b  # Decimal's remainder keeps the dividend's sign, as HCL's does


def _div(a, b):
    if isinstance(a, int) and isinstance(b, int):
        if a % b == 0:
            return a // b
        return float(Decimal(a) / Decimal(b))
    return a / b


ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": _decimal_op(lambda a, b: a + b),
    "-": _decimal_op(lambda a, b: a - b),
    "*": _decimal_op(lambda a, b: a * b),
    "/": _decimal_op(_div),
    "%": _decimal_op(_mod),
}
COMPARISON: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def arithmetic(op: str, left: Any, right: Any) -> Any:
    """``left op right`` for an arithmetic or comparison operator."""
    phrase = _PHRASES.get(op, "compare {l} with {r}").format(
        l=article(type_name(left)), r=article(type_name(right))
    )
    if left is None or right is None:
        raise OperatorError(
            "Invalid operand", f"Cannot {phrase}: an operand is null, and {op} needs numbers."
        )
    try:
        a, b = to_number(left), to_number(right)
    except ConversionError as exc:
        raise OperatorError("Unsupported operator", f"Cannot {phrase}: {exc.message}.") from None
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if op in ("/", "%") and b == 0:
        raise OperatorError("Division by zero", f"The right operand of {op} is zero.")
    try:
        if op in COMPARISON:
            return COMPARISON[op](a, b)
        return normalize_number(ARITHMETIC[op](a, b))
    except (OverflowError, ConversionError, DecimalException):
        raise OperatorError(
            "Arithmetic overflow", "The result is too large to represent as a number."
        ) from None


def equals(left: Any, right: Any, negate: bool = False) -> Any:
    eq = strict_equal(left, right)
    if eq is UNKNOWN or not negate:
        return eq
    return not eq


def bool_operand(value: Any, what: str) -> Any:
    """``value`` as a bool (or UNKNOWN) for an operator; ``what`` names the operand."""
    if value is None:
        raise OperatorError("Invalid operand", f"The {what} is null; a bool is required.")
    try:
        return to_bool(value)
    except ConversionError as exc:
        raise OperatorError("Invalid operand", f"Unsuitable value for the {what}: {exc.message}.") from None


def logical(op: str, left: Any, right: Any) -> Any:
    """Combine two bool-or-UNKNOWN operands of ``&&``/``||``; a decisive side wins over unknown."""
    decisive = op == "||"
    if left is decisive or right is decisive:
        return decisive
    if left is UNKNOWN or right is UNKNOWN:
        return UNKNOWN
    return not decisive


def decides(op: str, left: Any) -> bool:
    """True when the left operand alone decides ``&&``/``||`` (short-circuit)."""
    return left is (op == "||")


def logical_not(value: Any) -> Any:
    v = bool_operand(value, "operand of !")
    return v if v is UNKNOWN else not v


def negate(value: Any) -> Any:
    if value is None:
        raise OperatorError("Invalid operand", "Cannot negate a null value; a number is required.")
    try:
        n = to_number(value)
    except ConversionError as exc:
        raise OperatorError(
            "Unsupported operator", f"Cannot negate {article(type_name(value))}: {exc.message}."
        ) from None
    return n if n is UNKNOWN else normalize_number(-n)


def unify_branches(chosen: Any, other: Any) -> Any:
    """The result of ``cond ? a : b`` has one type: the chosen value is converted to the type both
    branches unify to (``true ? 1 : "x"`` is "1", ``true ? [1] : ["x"]`` is ["1"]). Where they
    have none, the chosen value stays as it is."""
    common = unify([type_of(chosen), type_of(other)])
    return chosen if common is None else convert(chosen, common)

"""Numeric built-in functions: abs, ceil, floor, max, min, signum, pow, log, parseint, sum."""

from __future__ import annotations

import math
from decimal import Decimal

from reconciler.config.functions_spec import FunctionError, Known, Param, ParamType, spec, table
from reconciler.config.types import ConversionError, normalize_number, to_number
from reconciler.values import UNKNOWN, is_wholly_known

_NUM = Param("num", ParamType.NUMBER)


@spec("abs", _NUM)
def _abs(n):
    return abs(n)


@spec("ceil", _NUM)
def _ceil(n):
    return math.ceil(n)


@spec("floor", _NUM)
def _floor(n):
    return math.floor(n)


@spec("signum", _NUM)
def _signum(n):
    return (n > 0) - (n < 0)


def _need_some(name: str, nums: tuple) -> None:
    if not nums:
        raise FunctionError(f"{name}() needs at least one number")


@spec("max", variadic=Param("numbers", ParamType.NUMBER))
def _max(*nums):
    _need_some("max", nums)
    return max(nums)


@spec("min", variadic=Param("numbers", ParamType.NUMBER))
def _min(*nums):
    _need_some("min", nums)
    return min(nums)


@spec("pow", Param("num", ParamType.NUMBER), Param("power", ParamType.NUMBER))
def _pow(base, power):
    try:
        if isinstance(base, int) and isinstance(power, int) and 0 <= power <= 1024:
            result = base**power
            if abs(result) < 10**300:
                return result
        result = float(base) ** float(power)
    except (OverflowError, ZeroDivisionError):
        raise FunctionError("the result is not a finite number") from None
    if isinstance(result, complex):  # a negative base to a fractional power: no real result
        raise FunctionError("the result is not a real number")
    try:
        return normalize_number(result)
    except ConversionError:
        raise FunctionError("the result is not a finite number") from None


@spec("log", Param("num", ParamType.NUMBER), Param("base", ParamType.NUMBER))
def _log(num, base):
    if num <= 0 or base <= 0 or base == 1:
        raise FunctionError("log needs a positive number and a positive base other than 1")
    return normalize_number(math.log(num) / math.log(base))


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


@spec("parseint", Param("number", ParamType.STRING), Param("base", ParamType.NUMBER))
def _parseint(text, base):
    if not isinstance(base, int) or not 2 <= base <= 36:
        raise FunctionError("base must be a whole number between 2 and 36", 1)
    body = text[1:] if text[:1] in "+-" else text
    if not body or any(c not in _DIGITS[:base] for c in body.lower()):
        raise FunctionError(f'cannot parse "{text}" as a base {base} integer', 0)
    return int(text, base)


@spec("sum", Param("list", ParamType.LIST, Known.TOP))
def _sum(items):
    if not items:
        raise FunctionError("cannot sum an empty list", 0)
    if not is_wholly_known(items):
        return UNKNOWN
    if any(v is None for v in items):
        raise FunctionError("argument must be a list of numbers, not containing null", 0)
    try:
        nums = [to_number(v) for v in items]
        if all(isinstance(n, int) for n in nums):
            return sum(nums)
        return normalize_number(
            float(sum(Decimal(repr(n)) if isinstance(n, float) else Decimal(n) for n in nums))
        )
    except OverflowError:
        raise FunctionError("the result is not a finite number") from None


FUNCTIONS = table(_abs, _ceil, _floor, _signum, _max, _min, _pow, _log, _parseint, _sum)

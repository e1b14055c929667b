"""``format`` and ``formatlist``: printf-style formatting with Terraform's verbs.

Verbs: ``%v`` (default form; ``%#v`` JSON), ``%s``, ``%q`` (quoted string),
``%d``, ``%b``, ``%o``, ``%x``/``%X`` (integers; ``%x`` of a string is its bytes in
hex), ``%e``/``%E``/``%f``/``%g``/``%G`` (numbers), ``%t`` (bool) and ``%%``.
Flags ``-`` (left-align), ``0`` (zero pad), ``+`` and space (sign), ``#``; a width and
``.precision``; ``%[n]d`` picks argument n (1-based) explicitly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from reconciler.config import graphemes
from reconciler.config.functions_spec import FunctionError, Known, Param, ParamType, spec, table
from reconciler.config.types import ConversionError, a_type, format_number, to_bool, to_number, to_string

MAX_WIDTH = 1000


@dataclass(frozen=True, slots=True)
class Verb:
    char: str
    flags: str
    width: int | None
    precision: int | None
    arg_index: int | None  # explicit 0-based index from %[n]


def _read_int(text: str, i: int) -> tuple[int | None, int]:
    j = i
    while j < len(text) and text[j].isdigit():
        j += 1
    return (int(text[i:j]) if j > i else None), j


def parse_format(text: str) -> list[str | Verb]:
    """Split a format string into literal text and verbs; raises FunctionError when malformed."""
    out: list[str | Verb] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "%":
            literal.append(ch)
            i += 1
            continue
        if text[i + 1 : i + 2] == "%":
            literal.append("%")
            i += 2
            continue
        start = i
        i += 1
        flags = ""
        while i < len(text) and text[i] in "-+# 0":
            flags += text[i]
            i += 1
        arg_index = None
        if text[i : i + 1] == "[":
            end = text.find("]", i)
            n = text[i + 1 : end] if end > 0 else ""
            if not n.isdigit() or int(n) < 1:
                raise FunctionError(f"invalid argument index in {text[start : end + 1 or None]!r}", 0)
            arg_index, i = int(n) - 1, end + 1
        width, i = _read_int(text, i)
        precision = None
        if text[i : i + 1] == ".":
            precision, i = _read_int(text, i + 1)
            precision = precision or 0
        if (width or 0) > MAX_WIDTH or (precision or 0) > MAX_WIDTH:
            raise FunctionError(f"width and precision are limited to {MAX_WIDTH} (at offset {start})", 0)
        if i >= len(text):
            raise FunctionError(f"unterminated format verb at offset {start}", 0)
        char = text[i]
        if char not in _FORMATTERS:
            raise FunctionError(f"unsupported format verb %{char} at offset {start}", 0)
        if literal:
            out.append("".join(literal))
            literal = []
        out.append(Verb(char, flags, width, precision, arg_index))
        i += 1
    if literal:
        out.append("".join(literal))
    return out


def _pad(text: str, verb: Verb, numeric: bool = False) -> str:
    # a string's width counts grapheme clusters, as terraform's format does ("🇫🇷" is one),
    # and "0" pads it with zeros on whichever side the padding goes
    if verb.width is None or (len(text) if numeric else graphemes.count(text)) >= verb.width:
        return text
    if not numeric:
        fill = ("0" if "0" in verb.flags else " ") * (verb.width - graphemes.count(text))
        return text + fill if "-" in verb.flags else fill + text
    if "-" in verb.flags:
        return text.ljust(verb.width)
    if "0" in verb.flags and numeric:
        sign = text[0] if text[:1] in "+- " else ""
        return sign + text[len(sign) :].rjust(verb.width - len(sign), "0")
    return text.rjust(verb.width)


def _sign(verb: Verb) -> str:
    return "+" if "+" in verb.flags else (" " if " " in verb.flags else "-")


def _number(value, verb: Verb):
    try:
        return to_number(value)
    except ConversionError as exc:
        raise FunctionError(f"%{verb.char} needs a number: {exc.message}") from None


def _integer(value, verb: Verb) -> int:
    n = _number(value, verb)
    if not isinstance(n, int):
        raise FunctionError(f"%{verb.char} needs a whole number, not {format_number(n)}")
    return n


def _fmt_default(value, verb: Verb) -> str:
    if "#" in verb.flags or isinstance(value, (list, tuple, dict)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if value is None:
        return "null"
    return _fmt_string(value, replace(verb, precision=None))  # %v takes no precision


def _fmt_string(value, verb: Verb) -> str:
    try:
        text = to_string(value)
    except ConversionError:
        raise FunctionError(f"%{verb.char} needs a string, not {a_type(value)}") from None
    if text is None:
        raise FunctionError(f"%{verb.char} can't format null")
    if not verb.precision:  # terraform ignores a precision of 0
        return text
    return "".join(graphemes.clusters(text)[: verb.precision])


def _fmt_quoted(value, verb: Verb) -> str:
    return json.dumps(_fmt_string(value, verb), ensure_ascii=False)


def _fmt_bool(value, verb: Verb) -> str:
    try:
        b = to_bool(value)
    except ConversionError as exc:
        raise FunctionError(f"%t needs a bool: {exc.message}") from None
    return "true" if b else "false"


def _fmt_int_base(base_spec: str):
    def fmt(value, verb: Verb) -> str:
        if base_spec in "xX" and isinstance(value, str):
            text = value.encode().hex()
            return text.upper() if base_spec == "X" else text
        n = _integer(value, verb)
        prefix = "#" if "#" in verb.flags else ""
        return format(n, f"{_sign(verb)}{prefix}{base_spec}")

    return fmt


def _fmt_float(kind: str):
    def fmt(value, verb: Verb) -> str:
        n = _number(value, verb)
        precision = 6 if verb.precision is None else verb.precision
        if kind in "gG" and verb.precision is None:
            text = format_number(n) if kind == "g" else format_number(n).upper()
            return "+" + text if "+" in verb.flags and n >= 0 else text
        return format(float(n), f"{_sign(verb)}.{precision}{kind}")

    return fmt


_FORMATTERS = {
    "v": _fmt_default,
    "s": _fmt_string,
    "q": _fmt_quoted,
    "t": _fmt_bool,
    "d": _fmt_int_base("d"),
    "b": _fmt_int_base("b"),
    "o": _fmt_int_base("o"),
    "x": _fmt_int_base("x"),
    "X": _fmt_int_base("X"),
    "e": _fmt_float("e"),
    "E": _fmt_float("E"),
    "f": _fmt_float("f"),
    "g": _fmt_float("g"),
    "G": _fmt_float("G"),
}
_NUMERIC = set("dboxXeEfgG")


def apply_format(text: str, args: list) -> str:
    parts = parse_format(text)
    out: list[str] = []
    next_arg = 0
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        index = part.arg_index if part.arg_index is not None else next_arg
        if index >= len(args):
            raise FunctionError(f"too few arguments: no value for %{part.char} (argument {index + 1})")
        value = args[index]
        next_arg = index + 1
        if value is None and part.char != "v":
            raise FunctionError(f"argument {index + 1} for %{part.char} is null")
        text = _FORMATTERS[part.char](value, part)
        out.append(text if part.char == "t" else _pad(text, part, part.char in _NUMERIC))  # %t: no width
    return "".join(out)


_ARGS = Param("args", ParamType.ANY, Known.WHOLE, nullable=True)


@spec("format", Param("format", ParamType.STRING), variadic=_ARGS)
def _format(text, *args):
    return apply_format(text, list(args))


@spec("formatlist", Param("format", ParamType.STRING), variadic=_ARGS)
def _formatlist(text, *args):
    lengths = {len(a) for a in args if isinstance(a, (list, tuple))}
    if len(lengths) > 1:
        raise FunctionError("all list arguments must have the same length")
    if not lengths:
        return [apply_format(text, list(args))]
    count = lengths.pop()
    rows = [[a[i] if isinstance(a, (list, tuple)) else a for a in args] for i in range(count)]
    return [apply_format(text, row) for row in rows]


FUNCTIONS = table(_format, _formatlist)

"""A value as terraform prints it in `console`, `output` and apply's "Outputs:"; its quoting in plans.

terraform 1.11 formats these three with one function (``repl.FormatValue``), checked side
by side with the binary (tests/cli/test_value_text_parity.py):

* strings in Go's double quotes (``strconv.Quote``: ``\\t``, ``\\x01``, ``\\u00a0``; printable
  characters as they are, ``${`` not escaped), a string of several lines as a heredoc
  (``<<EOT``; ``<<-EOT`` indented to its place when nested; ``EOT_`` when a line is ``EOT``);
* numbers in plain decimal (``100000000000000000000``, ``0.0000001``, ``1.5``);
* a tuple or object over several lines with two-space steps, keys always quoted and not
  aligned, a comma after each element; an empty one as ``[]`` / ``{}``;
* a list, set or map wrapped as ``tolist([...])``, ``toset([...])``, ``tomap({...})`` when the
  caller knows that is what it is (``shape``, from the console's expression).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from reconciler.values import UNKNOWN, Sensitive


class Shape(Protocol):
    """What a collection is, as the console reads it from the expression
    (reconciler.value_shapes.Shape)."""

    @property
    def kind(self) -> str: ...

    def item(self, index: int) -> Shape | None: ...

    def field(self, key: str) -> Shape | None: ...


_WRAPPERS = {"list": ("tolist(", ")"), "set": ("toset(", ")"), "map": ("tomap(", ")")}
_NAMED_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def format_value(value: Any, indent: int = 0, shape: Shape | None = None) -> str:
    """``value`` as terraform prints it, ``indent`` spaces in (its first line is not padded)."""
    if type(value) is Sensitive:
        return "(sensitive value)"
    if value is UNKNOWN:
        return "(known after apply)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return number_text(value)
    if isinstance(value, str):
        return _heredoc(value, indent) or go_quote(value)
    kind = shape.kind if shape is not None else ""
    if isinstance(value, (list, tuple)):
        items = [format_value(v, indent + 2, shape.item(i) if shape else None) for i, v in enumerate(value)]
        text = _enclosed("[", "]", [f"{item}," for item in items], indent)
        return _wrapped(kind if kind in ("list", "set") else "", text)
    if isinstance(value, dict):
        lines = [
            f"{format_value(str(k), indent + 2)} = "
            f"{format_value(v, indent + 2, shape.field(str(k)) if shape else None)}"
            for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
        ]
        return _wrapped("map" if kind == "map" else "", _enclosed("{", "}", lines, indent))
    return go_quote(str(value))


def number_text(value: int | float | Decimal) -> str:
    """A number in plain decimal, no exponent and no trailing zeros (Go's ``Text('f', -1)``)."""
    if isinstance(value, int):
        return str(value)
    exact = Decimal(repr(value)) if isinstance(value, float) else value
    if exact == exact.to_integral_value():
        return str(int(exact))
    return format(exact.normalize(), "f")


def go_quote(text: str) -> str:
    """``text`` in double quotes as Go's ``strconv.Quote`` writes it."""
    out = ['"']
    for ch in text:
        named = _NAMED_ESCAPES.get(ch)
        if named is not None:
            out.append(named)
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def _heredoc(text: str, indent: int) -> str | None:
    lines = text.split("\n")
    if len(lines) < 2:
        return None
    delimiter = "EOT"
    while any(line.strip() == delimiter for line in lines):
        delimiter += "_"
    pad = " " * indent
    body = "".join(f"\n{pad}{line}" for line in lines)
    return f"{'<<-' if indent > 0 else '<<'}{delimiter}{body}\n{pad}{delimiter}"


def _enclosed(open_: str, close: str, lines: list[str], indent: int) -> str:
    if not lines:
        return open_ + close
    pad = " " * (indent + 2)
    return open_ + "".join(f"\n{pad}{line}" for line in lines) + "\n" + " " * indent + close


def _wrapped(kind: str, text: str) -> str:
    if not kind:
        return text
    before, after = _WRAPPERS[kind]
    return before + text + after

"""What the references of a failed condition held, for the lines terraform prints under it.

terraform (1.11) lists, under the source line of an error that came from evaluating an expression,
one line per reference the expression makes: ``var.n is -1``, ``local.l is tuple with 2 elements``
(views/json/diagnostic.go: ``snippet.values``; the terminal draws them after a ``├───`` rule).
A reference that can't be read is shortened to what can (at least one step past its root name);
a sensitive value and one not known yet are left out (the condition did not fail because of them);
collections are described by type and size, never by their elements.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from reconciler.config import ast
from reconciler.config.evaluator_scope import EvalError
from reconciler.config.references import Reference, references
from reconciler.diagnostics import SourceRange
from reconciler.value_shapes import Resolve, type_json
from reconciler.value_text import go_quote
from reconciler.values import UNKNOWN, Sensitive

Values = tuple[tuple[str, str], ...]
Read = Callable[[ast.Expr], Any]  # evaluates an expression in the scope the error happened in


def expression_values(expr: ast.Expr, read: Read, resolve: Resolve | None = None) -> Values:
    """(traversal, statement) for each reference in ``expr``, in traversal order, duplicates once;
    ``read`` evaluates a reference where ``expr`` was evaluated."""
    found: dict[str, str] = {}
    for ref in references(expr):
        for chain, text in reversed(_prefixes(ref)):
            try:
                value = read(chain)
            except EvalError:
                continue  # that error is reported already; a shorter prefix may still read
            if text not in found:
                statement = _statement(value, resolve(chain) if resolve else None)
                if statement is not None:
                    found[text] = statement
            break
    return tuple(sorted(found.items()))


def failure_values(expr: ast.Expr, failed: SourceRange, read: Read) -> Values:
    """The values behind an evaluation error at ``failed`` inside ``expr``: those of the innermost
    expression around the error that refers to something, as terraform describes the expression
    its error came from (``local.l[5]``: "local.l is tuple with 2 elements")."""
    node = _innermost(expr, failed)
    return expression_values(node, read) if node is not None else ()


def _innermost(expr: ast.Expr, failed: SourceRange) -> ast.Expr | None:
    """The deepest expression inside ``expr`` that holds the range ``failed`` and refers to
    something; None when none does."""
    if not _holds(expr.pos, failed) or not references(expr):
        return None
    for child in ast.children(expr):
        inner = _innermost(child, failed)
        if inner is not None:
            return inner
    return expr


def _holds(pos: ast.Pos, r: SourceRange) -> bool:
    if pos.file != r.file:
        return False
    start, end = (pos.line, pos.column), (pos.end_line, pos.end_column)
    return start <= (r.line, r.column) and (r.end_line or r.line, r.end_column or r.column) <= end


def _prefixes(ref: Reference) -> list[tuple[ast.Expr, str]]:
    """The reference's chains from one step past its root name to all of it, with their text."""
    pos = ref.pos
    node: ast.Expr = ast.Variable(ref.root, pos)
    text = ref.root
    out: list[tuple[ast.Expr, str]] = []
    steps: list[tuple[str | int, bool]] = [(name, False) for name in ref.subject[1:]]
    steps += [(step, ref.is_index(i)) for i, step in enumerate(ref.remaining)]
    for step, keyed in steps:
        if keyed:
            node = ast.Index(node, ast.Literal(step, pos), pos)
            text += f"[{go_quote(step) if isinstance(step, str) else step}]"
        else:
            node = ast.GetAttr(node, str(step), pos)
            text += f".{step}"
        out.append((node, text))
    return out


def _statement(value: Any, shape: Any) -> str | None:
    if type(value) is Sensitive or value is UNKNOWN:
        return None
    if value is None:
        return "is null"
    if isinstance(value, bool):
        return f"is {'true' if value else 'false'}"
    if isinstance(value, (int, float, Decimal)):
        return f"is {_number(value)}"
    if isinstance(value, str):
        return f"is {go_quote(value)}"
    recorded = type_json(value, shape)
    if isinstance(value, dict) and recorded[0] == "object":
        names = list(value)
        if not names:
            return "is object with no attributes"
        if len(names) == 1:
            return f"is object with 1 attribute {go_quote(str(names[0]))}"
        return f"is object with {len(names)} attributes"
    size = len(value)
    name = _friendly(recorded)
    if size == 0:
        return f"is empty {name}"
    return f"is {name} with {size} element{'' if size == 1 else 's'}"


def _friendly(recorded: Any) -> str:
    """A recorded type as cty's FriendlyName says it: "list of string", "tuple", "object"."""
    if isinstance(recorded, str):
        return recorded
    kind, inner = recorded
    return f"{kind} of {_friendly(inner)}" if kind in ("list", "set", "map") else kind


def _number(value: int | float | Decimal) -> str:
    """Ten significant digits, as terraform's ``big.Float.Text('g', 10)``."""
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        return str(value)
    return format(number, ".10g")

"""What one instance's ``replace_triggered_by`` names, with its own key put in.

terraform 1.11 accepts an index written with ``count.index`` or ``each.key`` in a trigger
(``terraform_data.src[count.index]``, ``terraform_data.src[each.key].output``) and reads it per
instance: instance 1 is triggered by ``src[1]`` alone. The trigger is evaluated to a static
traversal with that instance's ``count`` / ``each``, then read as a reference like any literal one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reconciler.config import ast
from reconciler.config.evaluator import EvalError, Scope, evaluate
from reconciler.config.references import Reference, references


def instance_triggers(exprs: tuple[ast.Expr, ...], scope: Scope) -> list[Reference]:
    """The references the triggers ``exprs`` name for the instance ``scope`` binds; a trigger whose
    key can't be told (an error, an unknown or a null) names its whole resource."""
    out: list[Reference] = []
    for expr in exprs:
        # references() stops a traversal at a key that isn't a literal: the whole resource
        found = references(_with_keys(expr, scope) or expr)
        out.extend(ref for ref in found if ref.root not in ("count", "each"))
    return out


def _with_keys(expr: ast.Expr, scope: Scope) -> ast.Expr | None:
    """``expr`` with every index key that isn't a literal replaced by its value in ``scope``."""
    if isinstance(expr, ast.GetAttr):
        obj = _with_keys(expr.obj, scope)
        return None if obj is None else ast.GetAttr(obj, expr.name, expr.pos)
    if isinstance(expr, ast.Index):
        obj = _with_keys(expr.obj, scope)
        key = expr.key if isinstance(expr.key, ast.Literal) else _key_literal(expr.key, scope)
        return None if obj is None or key is None else ast.Index(obj, key, expr.pos)
    return expr


def _key_literal(key: ast.Expr, scope: Scope) -> ast.Literal | None:
    try:
        value: Any = evaluate(key, scope)
    except EvalError:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        return None
    if not isinstance(value, str):
        if value != int(value):
            return None
        value = int(value)
    return ast.Literal(value, key.pos)

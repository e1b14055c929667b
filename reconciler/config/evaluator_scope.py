"""Scopes and errors of the expression evaluator.

A ``Scope`` answers ``lookup(name, pos)`` for root names (``var``, ``local``,
``azurerm_key_vault`` …); the caller supplies one. ``MapScope`` is a plain dict of
root names; ``ChildScope`` layers the names a for-expression binds over a parent.

``EvalError`` carries one ``Diagnostic`` (code ``eval``); ``StaticEvalError`` marks
mistakes in the text (undeclared names, unknown functions) that ``can``/``try`` must
not absorb. A Scope raises ``fail_static(...)`` for a name that does not exist.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, Protocol, runtime_checkable

from reconciler.config import ast
from reconciler.diagnostics import Diagnostic, DiagnosticsError, error
from reconciler.value_shapes import Shape, shape_of
from reconciler.values import redact

CODE = "eval"


class EvalError(DiagnosticsError):
    """An expression could not be evaluated; ``diagnostic`` says where and why."""

    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic
        super().__init__(diagnostic)

    def hiding(self, *values: Any) -> EvalError:
        """The same error with the text of every marked part of ``values`` replaced by
        ``(sensitive value)``."""
        d = self.diagnostic
        hidden = replace(d, summary=redact(d.summary, *values), detail=redact(d.detail, *values))
        return type(self)(hidden)


class StaticEvalError(EvalError):
    """A mistake in the text itself (an undeclared name, an unknown function).

    ``can`` and ``try`` only absorb errors that depend on values; these pass through
    them, as in Terraform, so a typo isn't silently turned into the fallback.
    """


def fail(pos: ast.Pos | None, summary: str, detail: str = "") -> EvalError:
    return EvalError(error(CODE, summary, detail, range=pos.range() if pos else None))


def fail_static(pos: ast.Pos | None, summary: str, detail: str = "") -> StaticEvalError:
    """For a Scope: the name does not exist at all (not caught by can/try)."""
    return StaticEvalError(error(CODE, summary, detail, range=pos.range() if pos else None))


def did_you_mean(name: str, candidates: Iterable[str], limit: int = 1) -> str:
    """' Did you mean "x"?' (or '... one of "x", "y"?') for the closest candidates, or ''."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=limit, cutoff=0.6)
    if len(close) > 1:
        return " Did you mean one of " + ", ".join(f'"{c}"' for c in close) + "?"
    return f' Did you mean "{close[0]}"?' if close else ""


# --------------------------------------------------------------------------- scopes


class Scope(Protocol):
    def lookup(self, name: str, pos: ast.Pos) -> Any:
        """The value of root name ``name``; raise ``fail_static(...)`` when there is none."""


@runtime_checkable
class ShapedScope(Protocol):
    """A scope that also tells what its references are: a list, a set or a map (a variable's
    declared type, a resource attribute's schema). Values are plain lists and dicts, so a for
    expression asks this to know that it iterates a set."""

    def shape(self, expr: ast.Expr) -> Shape | None:
        """The shape of ``expr``'s value as written in this scope; None when it can't be told."""


class MapScope:
    """A scope over a plain dict of root names (tests, constant contexts)."""

    def __init__(self, values: dict[str, Any] | None = None):
        self.values = dict(values or {})

    def lookup(self, name: str, pos: ast.Pos) -> Any:
        if name in self.values:
            return self.values[name]
        raise fail_static(
            pos, "Unknown variable", f'There is no variable named "{name}".' + did_you_mean(name, self.values)
        )


class ChildScope:
    """Names bound by a for-expression (or template for) over a parent scope."""

    def __init__(self, parent: Scope, bindings: dict[str, Any]):
        self.parent = parent
        self.bindings = bindings

    def lookup(self, name: str, pos: ast.Pos) -> Any:
        if name in self.bindings:
            return self.bindings[name]
        return self.parent.lookup(name, pos)

    def shape(self, expr: ast.Expr) -> Shape | None:
        parent = self.parent
        if not isinstance(parent, ShapedScope):
            return shape_of(expr)

        def resolve(ref: ast.Expr) -> Shape | None:
            # a name this scope binds has no known shape; the parent answers for its own names
            return None if root_name(ref) in self.bindings else parent.shape(ref)

        return shape_of(expr, resolve)


def root_name(expr: ast.Expr) -> str | None:
    """The root name a traversal (``var.names``, ``local.m["a"]``) starts from."""
    while isinstance(expr, (ast.GetAttr, ast.Index)):
        expr = expr.obj
    return expr.name if isinstance(expr, ast.Variable) else None

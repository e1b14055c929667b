"""Parsing a ``type`` argument (``list(string)``, ``object({size = optional(number, 3)})``)
into a ``TypeConstraint`` of ``reconciler.config.types``.

Apart from the constraints themselves because an optional attribute's default is an
expression: parsing needs the evaluator, and the evaluator needs the conversions.
"""

from __future__ import annotations

from typing import Any

from reconciler.config import ast
from reconciler.config.evaluator import EvalError, MapScope, evaluate
from reconciler.config.types import (
    ANY,
    BOOL,
    NUMBER,
    STRING,
    Collection,
    CollectionKind,
    ConversionError,
    ObjectAttr,
    ObjectType,
    TupleType,
    TypeConstraint,
    convert,
)
from reconciler.diagnostics import Diagnostic, error

_KEYWORDS: dict[str, TypeConstraint] = {
    "string": STRING,
    "number": NUMBER,
    "bool": BOOL,
    "any": ANY,
    # legacy shorthands Terraform still accepts
    "list": Collection(CollectionKind.LIST, ANY),
    "map": Collection(CollectionKind.MAP, ANY),
    "set": Collection(CollectionKind.SET, ANY),
}
_COLLECTIONS = {k.value: k for k in CollectionKind}


class TypeExprError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic
        super().__init__(diagnostic.summary)


def _bad(expr: ast.Expr, summary: str, detail: str) -> TypeExprError:
    return TypeExprError(error("type", summary, detail, range=expr.pos.range()))


_TYPE_HELP = (
    "A type is a keyword (string, number, bool, any) or a constructor: list(T), set(T), "
    "map(T), tuple([T, ...]), object({name = T, ...})."
)


def parse_type(expr: ast.Expr) -> tuple[TypeConstraint | None, list[Diagnostic]]:
    """Parse a ``type`` argument; returns (constraint, []) or (None, [diagnostic])."""
    try:
        return _parse(expr, allow_optional=False), []
    except TypeExprError as exc:
        return None, [exc.diagnostic]


def _parse(expr: ast.Expr, *, allow_optional: bool) -> TypeConstraint:
    if isinstance(expr, ast.Parens):
        return _parse(expr.expr, allow_optional=allow_optional)
    if isinstance(expr, ast.Variable):
        found = _KEYWORDS.get(expr.name)
        if found is None:
            raise _bad(
                expr,
                f'Invalid type specification "{expr.name}"',
                f'"{expr.name}" is not a type. {_TYPE_HELP}',
            )
        return found
    if isinstance(expr, (ast.Literal, ast.Template)):
        raise _bad(
            expr,
            "Invalid quoted type constraints",
            "Type constraints are written without quotes (the quoted form is from "
            "Terraform 0.11): remove the quotes, e.g. type = string.",
        )
    if isinstance(expr, ast.Call):
        return _parse_call(expr, allow_optional=allow_optional)
    raise _bad(expr, "Invalid type specification", _TYPE_HELP)


def _one_arg(call: ast.Call, what: str) -> ast.Expr:
    if len(call.args) != 1:
        raise _bad(call, f"Invalid type specification: {call.name}() takes one argument", f"Write {what}.")
    return call.args[0]


def _parse_call(call: ast.Call, *, allow_optional: bool) -> TypeConstraint:
    name = call.name
    if name in _COLLECTIONS:
        arg = _one_arg(call, f"{name}(<element type>), e.g. {name}(string)")
        return Collection(_COLLECTIONS[name], _parse(arg, allow_optional=False))
    if name == "tuple":
        arg = _one_arg(call, "tuple([<type>, ...])")
        if not isinstance(arg, ast.TupleCons):
            raise _bad(arg, "Invalid tuple type", "tuple() takes a list of types: tuple([string, number]).")
        return TupleType(tuple(_parse(e, allow_optional=False) for e in arg.items))
    if name == "object":
        arg = _one_arg(call, "object({<name> = <type>, ...})")
        return _parse_object(arg)
    if name == "optional":
        raise _bad(
            call,
            "Invalid type specification: optional() outside an object",
            "optional(<type>) and optional(<type>, <default>) mark an attribute inside "
            "object({...}) as optional; it can't be used on its own.",
        )
    raise _bad(call, f'Invalid type specification: unknown type constructor "{name}"', _TYPE_HELP)


def _parse_object(arg: ast.Expr) -> ObjectType:
    if not isinstance(arg, ast.ObjectCons):
        raise _bad(arg, "Invalid object type", "object() takes attribute types: object({name = string}).")
    attrs: list[ObjectAttr] = []
    seen: set[str] = set()
    for key_expr, type_expr in arg.items:
        key = _attr_name(key_expr)
        if key in seen:
            raise _bad(
                key_expr,
                f'Duplicate attribute "{key}" in object type',
                "Each attribute of an object type is declared once.",
            )
        seen.add(key)
        attrs.append(_parse_attr(key, type_expr))
    return ObjectType(tuple(attrs))


def _attr_name(key_expr: ast.Expr) -> str:
    if isinstance(key_expr, ast.Literal) and isinstance(key_expr.value, str):
        return key_expr.value
    if isinstance(key_expr, ast.Variable):
        return key_expr.name
    if isinstance(key_expr, ast.Template) and all(isinstance(p, str) for p in key_expr.parts):
        return "".join(key_expr.parts)  # type: ignore[arg-type]
    raise _bad(
        key_expr,
        "Invalid object type attribute name",
        "Attribute names in an object type are plain names: object({sku = string}).",
    )


def _parse_attr(name: str, type_expr: ast.Expr) -> ObjectAttr:
    if isinstance(type_expr, ast.Call) and type_expr.name == "optional":
        if len(type_expr.args) not in (1, 2):
            raise _bad(
                type_expr,
                "Invalid optional() attribute",
                "Write optional(<type>) or optional(<type>, <default>).",
            )
        inner = _parse(type_expr.args[0], allow_optional=False)
        if len(type_expr.args) == 1:
            return ObjectAttr(name, inner, optional=True)
        default = _constant(type_expr.args[1])
        try:
            default = convert(default, inner)
        except ConversionError as exc:
            raise _bad(
                type_expr.args[1],
                f'Invalid default for optional attribute "{name}"',
                f"The default does not match the attribute type {inner}: {exc}.",
            ) from exc
        return ObjectAttr(name, inner, optional=True, default=default, has_default=True)
    return ObjectAttr(name, _parse(type_expr, allow_optional=False))


def _constant(expr: ast.Expr) -> Any:
    try:
        return evaluate(expr, MapScope({}))
    except EvalError as exc:
        raise TypeExprError(exc.diagnostic) from exc

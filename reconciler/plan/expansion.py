"""count and for_each: which instances a block has, and what each one may refer to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.config import ast
from reconciler.config.evaluator import EvalError, evaluate, value_source
from reconciler.config.evaluator_scope import Scope
from reconciler.diagnostics import Diagnostic, error
from reconciler.value_shapes import Resolve, shape_of
from reconciler.values import UNKNOWN, Sensitive, is_wholly_known, strip, type_name


@dataclass(frozen=True)
class Instance:
    key: Any  # None | int | str
    bindings: dict[str, Any]  # {"count": {...}} / {"each": {...}}


def _unknown_error(what: str, expr: ast.Expr) -> Diagnostic:
    return error(
        "invalid_" + what,
        f"Invalid {what} argument",
        f"The {what} value depends on values that are known only after apply, so vaultform "
        "can't tell how many instances to plan. Use values known at plan time (variables, "
        "locals, constants), or apply the resources it depends on first with -target.",
        range=expr.pos.range(),
    )


def expand(
    count: ast.Expr | None, for_each: ast.Expr | None, scope: Scope, resolve: Resolve | None = None
) -> tuple[list[Instance], list[Diagnostic]]:
    """The instances of a block; ``resolve`` tells what a for_each's references are (a variable
    declared ``list(string)`` is refused as terraform refuses it: ``reconciler.reference_shapes``)."""
    expr = count if count is not None else for_each
    if expr is None:
        return [Instance(None, {})], []
    try:
        value = evaluate(expr, scope)
    except EvalError as exc:
        return [], list(exc.diagnostics)
    if count is not None:
        return _count(strip(value), count)  # a sensitive count is allowed, as in Terraform
    refused = sensitive_for_each(value, expr)
    if refused is not None:
        return [], [refused]
    return _for_each(value, expr, resolve, value_source(expr, scope))


def sensitive_for_each(value: Any, expr: ast.Expr) -> Diagnostic | None:
    """Terraform's refusal of a sensitive for_each (or a set with a sensitive member): instance
    keys are shown everywhere, so they can't be secrets. A map's values may be sensitive."""
    if not (
        type(value) is Sensitive or (isinstance(value, list) and any(type(v) is Sensitive for v in value))
    ):
        return None
    return error(
        "invalid_for_each",
        "Invalid for_each argument",
        "Sensitive values, or values derived from sensitive values, cannot be used as for_each "
        "arguments. If used, the sensitive value could be exposed as a resource instance key.",
        range=expr.pos.range(),
    )


def _count(value: Any, expr: ast.Expr) -> tuple[list[Instance], list[Diagnostic]]:
    if value is UNKNOWN:
        return [], [_unknown_error("count", expr)]
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return [], [
            error(
                "invalid_count",
                "Invalid count argument",
                f"count must be a whole number of zero or more; it is {value!r}.",
                range=expr.pos.range(),
            )
        ]
    return [Instance(i, {"count": {"index": i}}) for i in range(value)], []


def _ordered_kind(expr: ast.Expr, resolve: Resolve | None) -> str | None:
    """ "a tuple" or "a list of string" when terraform knows the value as one: written so (a [...]
    literal, a [for ...] expression, split(), sort() and the like) or read from something that is
    (a variable declared ``list(string)``, a local defined as one: ``resolve``); None when it can't
    be told (a module's output, a conditional), which is let through."""
    shape = shape_of(expr, resolve)
    if shape is None or shape.kind not in ("tuple", "list"):
        return None
    return "a tuple" if shape.kind == "tuple" else "a list of string"


def _with_article(name: str) -> str:
    return f"an {name}" if name[:1] in "aeiou" else f"a {name}"


def _for_each(
    value: Any, expr: ast.Expr, resolve: Resolve | None, taken: ast.Expr | None = None
) -> tuple[list[Instance], list[Diagnostic]]:
    if (
        value is UNKNOWN
        or (isinstance(value, dict) and UNKNOWN in value)
        or (isinstance(value, list) and not is_wholly_known(value))
    ):
        return [], [_unknown_error("for_each", expr)]
    if value is None:
        return [], [
            error(
                "invalid_for_each",
                "Invalid for_each argument",
                "for_each is null; give it a map or a set of strings (an empty one for none).",
                range=expr.pos.range(),
            )
        ]
    if isinstance(value, dict):
        return [Instance(str(k), {"each": {"key": str(k), "value": v}}) for k, v in sorted(value.items())], []
    if isinstance(value, list):
        other = next((v for v in value if not isinstance(v, str)), None)
        if other is not None or any(v is None for v in value):
            return [], [
                error(
                    "invalid_for_each",
                    "Invalid for_each argument",
                    f"for_each supports a map, or a set of strings, and this collection holds "
                    f"{_with_article(type_name(other))}. Use a map whose keys name the instances "
                    "(e.g. { for v in COLLECTION : v.name => v }), or toset([...]) of strings.",
                    range=expr.pos.range(),
                )
            ]
        # the whole expression's kind (a conditional unifies its branches as terraform does), else
        # that of the part the value came from
        ordered = _ordered_kind(expr, resolve)
        if ordered is None and taken is not None and taken is not expr and shape_of(expr, resolve) is None:
            # only when the whole can't be told: a tuple against a set branch makes a set
            ordered = _ordered_kind(taken, resolve)
        if ordered is not None:
            return [], [
                error(
                    "invalid_for_each",
                    "Invalid for_each argument",
                    f"for_each supports a map, or a set of strings, and this is {ordered}: its items keep "
                    "an order and may repeat, so they can't name instances. Wrap it in toset(...) "
                    "(terraform refuses it the same way).",
                    range=expr.pos.range(),
                )
            ]
        keys = sorted(set(value))
        return [Instance(k, {"each": {"key": k, "value": k}}) for k in keys], []
    return [], [
        error(
            "invalid_for_each",
            "Invalid for_each argument",
            f"for_each must be a map or a set of strings, not {type(value).__name__}.",
            range=expr.pos.range(),
        )
    ]


def collect(instances: list[Instance], values: dict[Any, Any], *, counted: bool, each: bool) -> Any:
    """The value a reference to the whole resource sees: object, list (count) or map (for_each).
    As terraform 1.11 builds it from state, a counted resource's list runs to its highest index
    and an index with no object (deleted outside, failed to create) is unknown, so ``x[2]`` is
    still the object at index 2; a for_each resource's map has the keys that have objects."""
    if counted:
        indexes = [i.key for i in instances]
        if indexes == list(range(len(indexes))):
            return [values[i] for i in indexes]
        known = [i for i in indexes if isinstance(i, int)]
        return [values.get(i, UNKNOWN) for i in range(max(known) + 1 if known else 0)]
    if each:
        return {i.key: values[i.key] for i in instances}
    return values.get(None, UNKNOWN) if instances else UNKNOWN

"""Resource blocks against their provider's schema: known types, valid bodies.

Bodies are evaluated with whatever is known at validate time (constants, locals made
of constants); everything else is unknown and skipped by the checker, the way
`terraform validate` treats values it can't know yet.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import cache
from typing import Any

from providers import validation
from providers.base import ValidateRequest
from providers.schema import ResourceSchema
from reconciler import providers_registry as registry
from reconciler.addresses import Mode
from reconciler.config import ast
from reconciler.config.evaluator import did_you_mean
from reconciler.config.expand import EvaluatedBody, evaluate_body
from reconciler.config.model import Resource
from reconciler.config.references import references
from reconciler.diagnostics import Diagnostic, SourceRange, error, warning
from reconciler.modinstall.versions import admits_at_least

CODE_TYPE = "unsupported_resource_type"


def _sample_where(evaluated: EvaluatedBody, path: tuple[Any, ...]) -> validation.Where:
    """Where a path inside a nested block's sample is: in the first of the repeated blocks."""
    return lambda p: evaluated.where((*path, 0, *p))


def schema_for(resource: Resource) -> ResourceSchema | None:
    return registry.resource_schema(resource.mode, resource.type)


def unknown_type(resource: Resource) -> Diagnostic:
    mode = resource.mode
    kind = "data source" if resource.mode is Mode.DATA else "resource type"
    detail = registry.explain_unknown_type(mode, resource.type)
    if detail is None:
        supported = registry.supported_types(mode)
        close = difflib.get_close_matches(resource.type, supported, n=1, cutoff=0.7)
        detail = (
            f'Did you mean "{close[0]}"?'
            if close
            else f"vaultform manages these {kind}s: " + ", ".join(supported) + "."
        )
    return error(
        CODE_TYPE, f"Unsupported {kind}", detail, address=resource.address, range=resource.pos.range()
    )


class UnreconciledWarnings:
    """Warn once per (type, argument) about arguments accepted but not reconciled."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def filter(self, type_name: str, diags: Iterable[Diagnostic]) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for d in diags:
            if d.code == validation.Code.UNRECONCILED_ARGUMENT.value:
                key = (type_name, d.summary)
                if key in self.seen:
                    continue
                self.seen.add(key)
            out.append(d)
        return out


def check_resource(
    resource: Resource, scope, once: UnreconciledWarnings, version_constraint: str | None = None
) -> list[Diagnostic]:
    """Schema and provider checks of one resource block; ``version_constraint`` is the module's
    required_providers version for the resource's provider (deprecations newer than it stay quiet)."""
    schema = schema_for(resource)
    if schema is None:
        return [unknown_type(resource)]
    evaluated = evaluate_body(resource.body, schema.block, scope)
    diags = list(evaluated.diagnostics)
    diags += validation.check_block(
        schema.block,
        evaluated.value,
        where=evaluated.where,
        address=resource.address,
        admits=lambda since: admits_at_least(version_constraint, since),
    )
    for path, sample in evaluated.samples:
        nested = schema.block.block_map.get(path[-1]) if len(path) == 1 else None
        if nested is not None:
            diags += validation.check_block(
                nested.block,
                sample,
                where=_sample_where(evaluated, path),
                address=resource.address,
            )
    diags += _provider_checks(resource, evaluated.value)
    diags = [d.with_address(resource.address) for d in diags]
    return once.filter(resource.type, diags)


@cache
def _provider(name: str):
    """One unconfigured provider per name, for its own checks (creating one talks to no cloud)."""
    return registry.create_provider(name)


def _provider_checks(resource: Resource, config: dict) -> list[Diagnostic]:
    """The provider's cross-argument checks (``validate``), placed at the resource when they have no line."""
    provider = _provider(resource.provider_name)
    if provider is None:
        return []
    found = provider.validate(ValidateRequest(resource.type, resource.mode.value, config))
    return [d if d.range is not None else d.with_range(resource.pos.range()) for d in found]


def lifecycle_problems(resource: Resource) -> list[Diagnostic]:
    """``ignore_changes`` entries that name an attribute the resource type doesn't have: an error,
    as terraform 1.11's validate and plan make it (a typo there would let the change it meant to
    ignore be applied)."""
    schema = schema_for(resource)
    if schema is None:
        return []
    out: list[Diagnostic] = []
    names = [*schema.attribute_map, *schema.block_map]
    for expr in resource.lifecycle.ignore_changes:
        for ref in references(expr):
            name = ref.subject[0]
            if name not in schema.attribute_map and name not in schema.block_map:
                out.append(
                    error(
                        "ignore_changes",
                        "Unsupported attribute",
                        "This object has no argument, nested block, or exported attribute named "
                        f'"{name}".{did_you_mean(name, names)}',
                        address=resource.address,
                        range=_name_range(ref.pos, name),
                    )
                )
            elif name in schema.attribute_map and _decided_by_provider(schema.attribute_map[name]):
                out.append(_redundant_ignore(resource, name))
    return out


def blocks_written_as_arguments(resource: Resource) -> list[Diagnostic]:
    """A nested block written with an equals sign (``identity = { ... }``): terraform 1.11 refuses it
    as an argument the schema doesn't have, and asks whether a block was meant; taken as the block,
    the configuration would plan here and fail under terraform. (The JSON syntax writes every block
    as an object; its reader makes blocks of them, so only native syntax reaches this.)"""
    schema = schema_for(resource)
    if schema is None or resource.pos.file.endswith(".json"):
        return []
    out: list[Diagnostic] = []

    def visit(body: ast.Body, block) -> None:
        for attr in body.attributes:
            nested_block = block.block_map.get(attr.name)
            if (
                nested_block is not None
                and not nested_block.attribute_syntax
                and attr.name not in block.attribute_map
            ):
                out.append(
                    error(
                        "unsupported_argument",
                        "Unsupported argument",
                        f'An argument named "{attr.name}" is not expected here. Did you mean to define a '
                        f'block of type "{attr.name}"?',
                        address=resource.address,
                        range=attr.name_pos.range(),
                    )
                )
        for nested in body.blocks:
            inner = block.block_map.get(nested.type)
            if inner is not None:
                visit(nested.body, inner.block)

    visit(resource.body, schema.block)
    return out


def _decided_by_provider(attr) -> bool:
    return bool(attr.computed and not attr.optional and not attr.required)


def _redundant_ignore(resource: Resource, name: str) -> Diagnostic:
    """An ``ignore_changes`` entry for an attribute only the provider sets: it can have no effect
    (terraform 1.11 warns with these words, on the resource block)."""
    return warning(
        "ignore_changes_redundant",
        "Redundant ignore_changes element",
        "Adding an attribute name to ignore_changes tells vaultform to ignore future changes to the "
        "argument in configuration after the object has been created, retaining the value originally "
        f"configured.\n\nThe attribute {name} is decided by the provider alone and therefore there can "
        "be no configured value to compare with. Including this attribute in ignore_changes has no "
        "effect. Remove the attribute from ignore_changes to quiet this warning.",
        address=resource.address,
        range=resource.pos.range(),
    )


def _name_range(pos: ast.Pos, name: str) -> SourceRange:
    """The first name of a reference, where terraform points (not the steps after it)."""
    return SourceRange(pos.file, pos.line, pos.column, pos.line, pos.column + len(name))

"""Every place a module evaluates an expression, with what that place may refer to.

A ``Site`` is one expression plus its context: the graph node it belongs to, whether
``count.index`` / ``each.*`` are available there, and the names a ``dynamic`` block
binds around it. Reference checks, the configuration graph and later the planner
all walk the same list, so they never disagree about what refers to what.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from providers.schema import BlockSchema
from reconciler.config import ast
from reconciler.config.model import Module, Resource


@dataclass(frozen=True)
class Site:
    expr: ast.Expr
    node: str  # graph node, e.g. "azurerm_key_vault.kv", "local.tags"
    has_count: bool = False
    has_for_each: bool = False
    bound: frozenset[str] = frozenset()  # names bound by enclosing dynamic blocks
    attribute: str = ""  # top-level attribute or block name inside a resource
    kind: str = "expr"  # "expr" | "depends_on" | "ignore_changes"


def phase_node(resource_node: str, phase: str) -> str:
    """The configuration graph's node of a resource block's later phase.

    Configuration nodes name blocks (before count/for_each), whose names are identifiers, so
    the joined name is unambiguous; it is never taken apart: the node's data holds ``prefix``,
    ``name`` and ``phase``. Instance-level graphs use ``Node`` pairs instead.
    """
    return f"{resource_node}#{phase}"


def resource_node(resource: Resource, phase: str = "") -> str:
    return phase_node(resource.address, phase) if phase else resource.address


def phase_of(schema: BlockSchema | None, block_name: str) -> str:
    if schema is None:
        return ""
    nested = schema.block_map.get(block_name)
    return nested.phase if nested is not None else ""


def resource_sites(resource: Resource, schema: BlockSchema | None) -> Iterator[Site]:
    counted = resource.count is not None
    each = resource.for_each is not None
    node = resource.address

    def site(expr, *, at=node, bound=frozenset(), attribute="", kind="expr"):
        return Site(expr, at, counted, each, bound, attribute, kind)

    if resource.count is not None:
        yield Site(resource.count, node, attribute="count")
    if resource.for_each is not None:
        yield Site(resource.for_each, node, attribute="for_each")
    for attr in resource.body.attributes:
        yield site(attr.expr, attribute=attr.name)
    for block in resource.body.blocks:
        name = block.labels[0] if block.type == "dynamic" and block.labels else block.type
        at = resource_node(resource, phase_of(schema, name))
        yield from _block_sites(block, at, counted, each, frozenset(), name)
    for expr in resource.depends_on:
        yield site(expr, kind="depends_on")
    lc = resource.lifecycle
    for expr in lc.replace_triggered_by:
        yield site(expr, kind="depends_on")
    for v in lc.preconditions:
        yield site(v.condition)
        yield site(v.error_message)
    for v in lc.postconditions:  # "self" is the object as Azure returned it
        yield site(v.condition, bound=frozenset({"self"}))
        yield site(v.error_message, bound=frozenset({"self"}))


def _block_sites(
    block: ast.Block, node: str, counted: bool, each: bool, bound: frozenset[str], top: str
) -> Iterator[Site]:
    if block.type == "dynamic":
        body = block.body
        iterator = block.labels[0] if block.labels else "dynamic"
        it_attr = body.attribute("iterator")
        if it_attr is not None and isinstance(it_attr.expr, ast.Variable):
            iterator = it_attr.expr.name
        for attr in body.attributes:
            if attr.name in ("for_each", "labels"):
                yield Site(attr.expr, node, counted, each, bound, top)
        inner = bound | {iterator}
        for content in body.blocks_of("content"):
            yield from _body_sites(content.body, node, counted, each, inner, top)
        return
    yield from _body_sites(block.body, node, counted, each, bound, top)


def _body_sites(
    body: ast.Body, node: str, counted: bool, each: bool, bound: frozenset[str], top: str
) -> Iterator[Site]:
    for attr in body.attributes:
        yield Site(attr.expr, node, counted, each, bound, top)
    for block in body.blocks:
        yield from _block_sites(block, node, counted, each, bound, top)


def module_sites(module: Module, schemas: dict[str, BlockSchema | None]) -> Iterator[Site]:
    """All sites of one module (``schemas`` maps resource address -> its block schema)."""
    for resource in module.resources.values():
        yield from resource_sites(resource, schemas.get(resource.address))
    for local in module.locals.values():
        yield Site(local.expr, f"local.{local.name}")
    for output in module.outputs.values():
        node = f"output.{output.name}"
        yield Site(output.value, node)
        for expr in output.depends_on:
            yield Site(expr, node, kind="depends_on")
        for v in output.preconditions:
            yield Site(v.condition, node)
    for call in module.module_calls.values():
        node = f"module.{call.name}"
        counted, each = call.count is not None, call.for_each is not None
        if call.count is not None:
            yield Site(call.count, node)
        if call.for_each is not None:
            yield Site(call.for_each, node)
        for name, attr in call.arguments.items():
            yield Site(attr.expr, f"{node}.var.{name}", counted, each)
        for expr in call.depends_on:
            yield Site(expr, node, kind="depends_on")
    for provider in module.providers:
        for attr in provider.body.attributes:
            yield Site(attr.expr, f"provider.{provider.name}")
    for variable in module.variables.values():
        for v in variable.validations:
            yield Site(v.condition, f"var.{variable.name}")
            yield Site(v.error_message, f"var.{variable.name}")
    for check in module.checks.values():
        for v in check.asserts:
            yield Site(v.condition, f"check.{check.name}")
            yield Site(v.error_message, f"check.{check.name}")
    for imp in module.imports:
        yield Site(imp.id, f"import.{imp.to_address}", has_for_each=imp.for_each is not None)

"""Which collections a reference to a resource's attribute reads, from the provider's schema.

``azurerm_key_vault_key.k.key_opts`` is a list of strings and ``azurerm_key_vault.kv.tags`` a map:
terraform prints them ``tolist([...])`` and ``tomap({...})`` (apply's "Outputs:", ``output``,
``console``) and records their types so. The expression alone doesn't say it; the schema does.
``resolver(module)`` answers for the references written in one module: a resource or data source
of that module, any attribute or nested block under it, and the instance steps of ``count``
(a tuple of objects) and ``for_each`` (an object of objects) between them; a variable by its
declared type (``list(string)`` is a list, terraform's ``tolist``); a local by the expression that
defines it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from providers.schema import BlockSchema, Kind, Nesting, Type
from reconciler import providers_registry as registry
from reconciler.addresses import Mode
from reconciler.config import ast
from reconciler.config.model import Module
from reconciler.config.references import unwind_traversal
from reconciler.config.type_exprs import parse_type
from reconciler.config.types import AnyType, Collection, ObjectType, Primitive, TupleType, TypeConstraint
from reconciler.value_shapes import Shape, shape_of

_COLLECTIONS = {Kind.LIST: "list", Kind.SET: "set", Kind.MAP: "map"}
_PRIMITIVES = {Kind.STRING: "string", Kind.NUMBER: "number", Kind.BOOL: "bool"}
_NESTINGS = {Nesting.LIST: "list", Nesting.SET: "set"}


def type_shape(t: Type) -> Shape | None:
    """The shape of a schema type: a list, set or map (of its element's shape), a primitive (what
    an empty collection of it is called: "empty list of string"); None for any type."""
    if t.kind in _PRIMITIVES:
        return Shape(_PRIMITIVES[t.kind])
    kind = _COLLECTIONS.get(t.kind)
    if kind is None:
        return None
    return Shape(kind, element=type_shape(t.element) if t.element is not None else None)


def block_shape(block: BlockSchema) -> Shape:
    """A block's body as an object: its attributes' shapes and its nested blocks'."""
    fields: list[tuple[str, Shape | None]] = [(a.name, type_shape(a.type)) for a in block.attributes]
    for nested in block.blocks:
        body = block_shape(nested.block)
        kind = _NESTINGS.get(nested.nesting)
        fields.append((nested.name, Shape(kind, element=body) if kind else body))
    return Shape("object", fields=tuple(fields))


def constraint_shape(t: TypeConstraint) -> Shape | None:
    """The shape a variable's declared type gives its value (``any`` parts: as the value is)."""
    if isinstance(t, Primitive):
        return Shape(t.kind.value)
    if isinstance(t, Collection):
        return Shape(t.kind.value, element=constraint_shape(t.element))
    if isinstance(t, TupleType):
        return Shape("tuple", items=tuple(constraint_shape(e) for e in t.elements))
    if isinstance(t, ObjectType):
        return Shape("object", fields=tuple((a.name, constraint_shape(a.type)) for a in t.attrs))
    return None


def dynamic_shapes(
    body: ast.Body, block: BlockSchema, resolve: Callable[[ast.Expr], Shape | None]
) -> dict[str, Shape]:
    """The shapes of a body's attributes of any type (terraform_data's input), which the schema
    can't tell: each its expression's, and an attribute that echoes another (its output) the
    other's. Only those an expression gives a shape."""
    found: dict[str, Shape] = {}
    for attr in block.attributes:
        if attr.type.kind is not Kind.ANY:
            continue
        written = body.attribute(attr.echoes or attr.name)
        shape = shape_of(written.expr, resolve) if written is not None else None
        if shape is not None:
            found[attr.name] = shape
    return found


# A value whose collections are all tuples and objects: what a root module's variable without a
# type (or of type ``any``) holds - a default, a .tfvars file and TF_VAR_/-var text written as HCL
# make tuples and objects (terraform 1.11: ``for_each = var.untyped`` with ``["a"]`` is "a tuple").
_AS_WRITTEN = Shape("tuple")


def resolver(
    module: Module, *, root: bool = True, children: Mapping[str, Any] | None = None
) -> Callable[[ast.Expr], Shape | None]:
    """The shape of a reference written in ``module``, where the schema, a variable's type, a
    local's expression or a called module's output tells one. ``root``: ``module`` is the root
    module (a child module's untyped variable keeps whatever its caller passed, which this can't
    see). ``children``: the modules it calls by call name, each with its ``module`` and its own
    ``children`` (a ``ModuleTree`` or ``ModuleInfo``)."""
    seen: set[str] = set()  # the locals being resolved (a cycle is validate's to report)
    called: dict[str, Callable[[ast.Expr], Shape | None]] = {}

    def named(root_name: str, name: str) -> Shape | None:
        if root_name == "var":
            var = module.variables.get(name)
            if var is None:
                return None
            declared = parse_type(var.type_expr)[0] if var.type_expr is not None else None
            if declared is None or isinstance(declared, AnyType):
                return _AS_WRITTEN if root else None
            return constraint_shape(declared)
        local = module.locals.get(name)
        if local is None or name in seen:
            return None
        seen.add(name)
        try:
            return shape_of(local.expr, resolve)
        finally:
            seen.discard(name)

    def resource(root_name: str, steps: list[str | None]) -> tuple[Shape | None, int]:
        """A resource's (or data source's) value and how many steps its address took."""
        mode, head = (Mode.DATA, 2) if root_name == "data" else (Mode.MANAGED, 1)
        names = [root_name, *steps][head - 1 : head + 1]
        type_name, name = (names + [None, None])[:2]
        if type_name is None or name is None:
            return None, head
        address = f"{'data.' if mode is Mode.DATA else ''}{type_name}.{name}"
        res = module.resources.get(address)
        schema = registry.resource_schema(mode, type_name) if res is not None else None
        if res is None or schema is None:
            return None, head
        shape = block_shape(schema.block)
        if address not in seen:  # a cycle is validate's to report
            seen.add(address)
            try:
                dynamic = dynamic_shapes(res.body, schema.block, resolve)
            finally:
                seen.discard(address)
            if dynamic:
                shape = replace(shape, fields=tuple((k, dynamic.get(k, s)) for k, s in shape.fields))
        if res.count is not None:
            return Shape("tuple", element=shape), head  # every instance has the body's shape
        if res.for_each is not None:
            return Shape("object", element=shape), head
        return shape, head

    def module_output(steps: list[str | None], nodes: list) -> tuple[Shape | None, int]:
        """module.NAME.OUT (module.NAME[KEY].OUT under count or for_each): the output's expression,
        read in the called module; and how many steps the reference to it took."""
        name = steps[0] if steps else None
        if not name:
            return None, 1
        call, child = module.module_calls.get(name), (children or {}).get(name)
        if call is None or child is None:
            return None, 1
        head = 2 if call.count is not None or call.for_each is not None else 1
        if head == 2 and not (len(nodes) > 1 and isinstance(nodes[1], ast.Index)):
            return None, head  # the whole set of instances
        output = child.module.outputs.get(steps[head]) if len(steps) > head and steps[head] else None
        if output is None:
            return None, head + 1
        inner = called.get(name)
        if inner is None:
            inner = called[name] = resolver(child.module, root=False, children=child.children)
        return shape_of(output.value, inner), head + 1

    def resolve(expr: ast.Expr) -> Shape | None:
        unwound = unwind_traversal(expr)
        if unwound is None:
            return None
        root_var, nodes = unwound
        steps = [n.name if isinstance(n, ast.GetAttr) else None for n in nodes]
        shape: Shape | None
        if root_var.name in ("var", "local"):
            shape, head = (named(root_var.name, steps[0]) if steps and steps[0] else None), 1
        elif root_var.name == "module":
            shape, head = module_output(steps, nodes)
        else:
            shape, head = resource(root_var.name, steps)
        for node in nodes[head:]:
            if shape is None:
                return None
            shape = shape.field(node.name) if isinstance(node, ast.GetAttr) else shape.item(0)
        return shape

    return resolve

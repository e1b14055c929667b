"""Which collections a reference to a resource's attribute reads, from the provider's schema.

``azurerm_key_vault_key.k.key_opts`` is a list of strings and ``azurerm_key_vault.kv.tags`` a map:
terraform prints them ``tolist([...])`` and ``tomap({...})`` (apply's "Outputs:", ``output``,
``console``) and records their types so. The expression alone doesn't say it; the schema does.
``resolver(module)`` answers for the references written in one module: a resource or data source
of that module, any attribute or nested block under it, and the instance steps of ``count``
(a tuple of objects) and ``for_each`` (an object of objects) between them.
"""

from __future__ import annotations

from collections.abc import Callable

from providers.schema import BlockSchema, Kind, Nesting, Type
from reconciler import providers_registry as registry
from reconciler.addresses import Mode
from reconciler.config import ast
from reconciler.config.model import Module
from reconciler.config.references import unwind_traversal
from reconciler.value_shapes import Shape

_COLLECTIONS = {Kind.LIST: "list", Kind.SET: "set", Kind.MAP: "map"}
_NESTINGS = {Nesting.LIST: "list", Nesting.SET: "set"}


def type_shape(t: Type) -> Shape | None:
    """The shape of a schema type: a list, set or map (of its element's shape); None otherwise."""
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


def resolver(module: Module) -> Callable[[ast.Expr], Shape | None]:
    """The shape of a reference written in ``module``, where the schema tells one."""

    def resolve(expr: ast.Expr) -> Shape | None:
        unwound = unwind_traversal(expr)
        if unwound is None:
            return None
        root, nodes = unwound
        steps = [n.name if isinstance(n, ast.GetAttr) else None for n in nodes]
        mode, head = (Mode.DATA, 2) if root.name == "data" else (Mode.MANAGED, 1)
        names = [root.name, *steps][head - 1 : head + 1]
        type_name, name = (names + [None, None])[:2]
        if type_name is None or name is None:
            return None
        address = f"{'data.' if mode is Mode.DATA else ''}{type_name}.{name}"
        res = module.resources.get(address)
        schema = registry.resource_schema(mode, type_name) if res is not None else None
        if res is None or schema is None:
            return None
        shape: Shape | None = block_shape(schema.block)
        if res.count is not None:
            shape = Shape("tuple", element=shape)  # every instance has the body's shape
        elif res.for_each is not None:
            shape = Shape("object", element=shape)
        for node in nodes[head:]:
            if shape is None:
                return None
            shape = shape.field(node.name) if isinstance(node, ast.GetAttr) else shape.item(0)
        return shape

    return resolve

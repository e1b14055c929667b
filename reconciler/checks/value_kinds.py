"""Arguments given a reference to the wrong kind of value, found before any value is known.

``encryption { key_id = azurerm_key_vault.example.id }`` type-checks (both are strings) and
fails at apply, after the vault exists. Providers declare what each attribute means
(``ProviderSchema.value_kinds``: a key URI, a key vault's ARM id, a principal id...); this
check follows each argument's direct references (through parentheses, conditionals, list
items and ``"${...}"``) and reports one that produces another kind, at the reference.
"""

from __future__ import annotations

from collections.abc import Iterator

from providers.schema import ValueKinds
from reconciler import providers_registry as registry
from reconciler.addresses import Mode
from reconciler.config import ast
from reconciler.config.model import Module, Resource
from reconciler.config.references import Reference, references
from reconciler.diagnostics import Diagnostic, error

CODE = "value_kind"


def _type_key(mode: Mode, type_name: str) -> str:
    return f"data.{type_name}" if mode is Mode.DATA else type_name


def _kinds_for(type_name: str) -> ValueKinds | None:
    schema = registry.schema_for(registry.provider_name_for_type(type_name))
    return schema.value_kinds if schema is not None else None


def _attributes_at(body: ast.Body, path: tuple[str, ...]) -> Iterator[ast.Attribute]:
    """The attributes at a dotted path, through nested blocks and ``dynamic`` blocks' content."""
    if len(path) == 1:
        attr = body.attribute(path[0])
        if attr is not None:
            yield attr
        return
    for block in body.blocks:
        if block.type == path[0]:
            yield from _attributes_at(block.body, path[1:])
        elif block.type == "dynamic" and block.labels[:1] == (path[0],):
            for content in block.body.blocks_of("content"):
                yield from _attributes_at(content.body, path[1:])


def _direct(expr: ast.Expr) -> Iterator[Reference]:
    """References whose value becomes the argument's value (or one of its list items) as it is."""
    match expr:
        case ast.Parens(expr=inner):
            yield from _direct(inner)
        case ast.Conditional(true=t, false=f):
            yield from _direct(t)
            yield from _direct(f)
        case ast.TupleCons(items=items):
            for item in items:
                yield from _direct(item)
        case ast.Template(parts=(ast.TemplateInterp(expr=inner),)):
            yield from _direct(inner)
        case ast.Variable() | ast.GetAttr() | ast.Index():
            found = references(expr)
            if len(found) == 1:
                yield found[0]


def _produced(ref: Reference) -> tuple[str, str] | None:
    """(kind, producer text) of a resource attribute reference, when its provider declares one."""
    if ref.root == "data" and len(ref.subject) >= 3:
        type_name, key = ref.subject[1], f"data.{ref.subject[1]}"
    elif ref.is_resource and len(ref.subject) >= 2:
        type_name, key = ref.subject[0], ref.subject[0]
    else:
        return None
    path = ".".join(
        step for i, step in enumerate(ref.remaining) if isinstance(step, str) and not ref.is_index(i)
    )
    kinds = _kinds_for(type_name)
    kind = kinds.produces.get((key, path)) if kinds is not None else None
    return (kind, f"{'.'.join(ref.subject)}.{path}") if kind else None


def check_resource_kinds(resource: Resource) -> list[Diagnostic]:
    kinds = _kinds_for(resource.type)
    if kinds is None:
        return []
    out: list[Diagnostic] = []
    for path, accepted in kinds.accepted_by(_type_key(resource.mode, resource.type)).items():
        for attr in _attributes_at(resource.body, tuple(path.split("."))):
            for ref in _direct(attr.expr):
                produced = _produced(ref)
                if produced is None or produced[0] in accepted:
                    continue
                out.append(_wrong_kind(resource, path, ref, produced, accepted, kinds))
    return out


def _wrong_kind(
    resource: Resource,
    path: str,
    ref: Reference,
    produced: tuple[str, str],
    accepted: tuple[str, ...],
    kinds: ValueKinds,
) -> Diagnostic:
    kind, text = produced
    wanted = [kinds.kinds[k] for k in accepted if k in kinds.kinds]
    needs = " or ".join(k.description for k in wanted)
    fix = " or ".join(k.where for k in wanted if k.where)
    have = kinds.kinds[kind].description if kind in kinds.kinds else kind
    return error(
        CODE,
        f'Wrong kind of value for "{path}"',
        f"{text} is {have}, but {path} needs {needs}." + (f" Use {fix}." if fix else ""),
        address=resource.address,
        range=ref.pos.range(),
    )


def check_value_kinds(module: Module) -> list[Diagnostic]:
    return [d for resource in module.resources.values() for d in check_resource_kinds(resource)]

"""Provider schemas in the JSON form of `terraform providers schema -json` (format 1.0).

Each provider becomes ``{"provider": ..., "resource_schemas": ..., "data_source_schemas": ...}``
under its full address. A block lists ``attributes`` and ``block_types`` (left out when empty)
and a ``description_kind`` of "plain"; an attribute has its type in cty's JSON form ("string",
["list", "string"], "dynamic" for any value) and the flags that are true; a nested block its
``nesting_mode`` and the item counts that are not zero - the shapes terraform 1.11 prints for
its own terraform_data (checked side by side). The descriptions are vaultform's own words.
"""

from __future__ import annotations

from typing import Any

from providers.schema import Attribute, BlockSchema, Kind, NestedBlock, ProviderSchema, ResourceSchema, Type

FORMAT_VERSION = "1.0"


def type_json(t: Type) -> Any:
    if t.kind is Kind.ANY:
        return "dynamic"
    if t.kind in (Kind.LIST, Kind.SET, Kind.MAP):
        return [t.kind.value, type_json(t.element) if t.element is not None else "dynamic"]
    return t.kind.value


def _attribute(attr: Attribute) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type_json(attr.type)}
    if attr.description:
        out["description"] = attr.description
    out["description_kind"] = "plain"
    for name, on in (
        ("deprecated", bool(attr.deprecated)),
        ("required", attr.required),
        ("optional", attr.optional),
        ("computed", attr.computed),
        ("sensitive", attr.sensitive),
    ):
        if on:
            out[name] = True
    return out


def _nested(nested: NestedBlock) -> dict[str, Any]:
    out: dict[str, Any] = {
        "nesting_mode": nested.nesting.value,
        "block": block_json(nested.block, nested.description),
    }
    if nested.min_items:
        out["min_items"] = nested.min_items
    if nested.max_items:
        out["max_items"] = nested.max_items
    return out


def block_json(block: BlockSchema, description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if block.attributes:
        out["attributes"] = {a.name: _attribute(a) for a in sorted(block.attributes, key=lambda a: a.name)}
    if block.blocks:
        out["block_types"] = {b.name: _nested(b) for b in sorted(block.blocks, key=lambda b: b.name)}
    if description:
        out["description"] = description
    out["description_kind"] = "plain"
    return out


def _resource(schema: ResourceSchema) -> dict[str, Any]:
    return {"version": schema.version, "block": block_json(schema.block, schema.description)}


def provider_json(schema: ProviderSchema) -> dict[str, Any]:
    config = schema.provider_config
    out: dict[str, Any] = {
        "provider": {"version": 0, "block": block_json(config)}
        if config.attributes or config.blocks
        else {"version": 0}
    }
    if schema.resources:
        out["resource_schemas"] = {name: _resource(s) for name, s in sorted(schema.resources.items())}
    if schema.data_sources:
        out["data_source_schemas"] = {name: _resource(s) for name, s in sorted(schema.data_sources.items())}
    return out


def schemas_json(schemas: list[ProviderSchema]) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "provider_schemas": {s.address: provider_json(s) for s in sorted(schemas, key=lambda s: s.address)},
    }

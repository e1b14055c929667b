"""Make what a handler read from Azure look exactly like what the catalog plans.

Handlers map Azure's JSON to attribute values; this module then conforms that
mapping to the type's schema, generically:

* only the schema's attributes and blocks are kept, and every one is present;
* enum values (permissions, SKUs, states) take the catalog's spelling when they
  match case-insensitively;
* "nothing" keeps the reference's form: Azure answering ``[]``/``{}``/``""``
  where the plan had null (or the reverse) is not a difference (Terraform's SDK
  treats them alike too);
* an optional attribute with a default that Azure leaves out reads as the default;
* an optional attribute without a default that the reference left unset reads as
  unset when Azure reports its zero value or its own default (Terraform's SDK
  treats an unset primitive and its zero value alike);
* sets, and lists of enum values (permissions, key operations), keep the
  reference's order when they hold the same members;
* nested blocks are conformed element by element against the reference's blocks.

The reference is the planned object after create/update, the prior state on
refresh, and nothing on import.
"""

from __future__ import annotations

from typing import Any, overload

from providers.schema import Attribute, BlockSchema, Kind, NestedBlock, Nesting, ResourceSchema
from reconciler.values import UNKNOWN


def _is_empty(v: Any) -> bool:
    """null, or an empty string, list or map (not False, not 0)."""
    return v is None or (isinstance(v, (str, list, tuple, dict)) and len(v) == 0)


def _canon(v: Any, choices: tuple) -> Any:
    if isinstance(v, str):
        low = v.lower()
        for c in choices:
            if isinstance(c, str) and c.lower() == low:
                return c
    return v


def _is_zero(v: Any) -> bool:
    return v is False or v == "" or (isinstance(v, (int, float)) and not isinstance(v, bool) and v == 0)


def _attribute(attr: Attribute, v: Any, ref: Any, has_ref: bool, implicit: dict[str, Any]) -> Any:
    if v is None and attr.default is not None and not attr.computed:
        v = attr.default
    left_unset = has_ref and ref is None and not attr.required and not attr.computed and attr.default is None
    # left unset: Azure's zero value (false, 0, "") or its documented default is "unset"
    if left_unset and ((v == implicit[attr.name]) if attr.name in implicit else _is_zero(v)):
        return None
    if attr.enum:
        if isinstance(v, list):
            v = [_canon(x, attr.enum) for x in v]
        else:
            v = _canon(v, attr.enum)
    if attr.type.kind is Kind.NUMBER and isinstance(v, float) and v.is_integer():
        v = int(v)
    if has_ref and ref is not UNKNOWN and _is_empty(v) and _is_empty(ref):
        return ref
    unordered = attr.type.kind is Kind.SET or (attr.type.kind is Kind.LIST and bool(attr.enum))
    # keep the reference's order for a set (or a list of enum values, such as
    # permissions and key operations, whose order Azure doesn't keep) with the same members
    if (
        unordered
        and isinstance(v, list)
        and isinstance(ref, list)
        and sorted(map(repr, v)) == sorted(map(repr, ref))
    ):
        return list(ref)
    return v


def _block_items(v: Any) -> list[dict[str, Any]]:
    if v is None or v is UNKNOWN:
        return []
    if isinstance(v, dict):
        return [v]
    return [x for x in v if isinstance(x, dict)]


def _nested(nb: NestedBlock, v: Any, ref: Any, has_ref: bool, implicit: dict[str, Any], unset: bool) -> Any:
    items = _block_items(v)
    refs = _block_items(ref) if has_ref else []
    out = [
        conform_block(nb.block, item, refs[i] if i < len(refs) else None, i < len(refs) or unset, None, unset)
        for i, item in enumerate(items)
    ]
    if nb.nesting is Nesting.SINGLE:
        return out[0] if out else None
    if not out and has_ref and ref is None:
        return None
    return out


def conform_block(
    schema: BlockSchema,
    state: dict[str, Any],
    ref: dict[str, Any] | None,
    has_ref: bool = True,
    implicit: dict[str, Any] | None = None,
    unset: bool = False,
) -> dict[str, Any]:
    """``unset``: an attribute the reference doesn't mention counts as left unset."""
    ref = ref if isinstance(ref, dict) else {}
    out: dict[str, Any] = {}
    for attr in schema.attributes:
        out[attr.name] = _attribute(
            attr,
            state.get(attr.name),
            ref.get(attr.name),
            has_ref and (unset or attr.name in ref),
            implicit or {},
        )
    for nb in schema.blocks:
        out[nb.name] = _nested(
            nb, state.get(nb.name), ref.get(nb.name), has_ref and nb.name in ref, implicit or {}, unset
        )
    return out


@overload
def conform(
    schema: ResourceSchema | None,
    state: dict[str, Any],
    reference: dict[str, Any] | None = None,
    implicit: dict[str, Any] | None = None,
) -> dict[str, Any]: ...


@overload
def conform(
    schema: ResourceSchema | None,
    state: None,
    reference: dict[str, Any] | None = None,
    implicit: dict[str, Any] | None = None,
) -> None: ...


def conform(
    schema: ResourceSchema | None,
    state: dict[str, Any] | None,
    reference: dict[str, Any] | None = None,
    implicit: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """``state`` conformed to ``schema`` against ``reference`` (see the module doc).

    ``implicit``: top-level attributes whose value Azure fills in when nobody set it
    (e.g. a key vault's public network access, on by default)."""
    if state is None or schema is None:
        return state
    return conform_block(schema.block, state, reference, reference is not None, implicit)


def conform_imported(
    schema: ResourceSchema | None, state: dict[str, Any] | None, implicit: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """An imported object: no configuration is known, so the likeliest one is assumed
    (every optional argument without a default left unset), so that the first plan
    after an import doesn't see zero values as changes."""
    if state is None or schema is None:
        return state
    return conform_block(schema.block, state, {}, True, implicit, unset=True)

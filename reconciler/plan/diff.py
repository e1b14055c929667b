"""Plan one resource instance: a pure function of schema, configuration and prior object.

1. ``proposed_after`` - the object the configuration asks for: configured values,
   defaults for unset optional arguments, the prior value (or unknown) for computed ones.
2. ``changed_paths`` - deepdiff between the prior object and that proposal, with sets
   compared as sets and unknown values always counting as a change.
3. ``decide`` - no-op, update or replace (a changed force-new path, a tainted object, a
   ``-replace`` request or a ``replace_triggered_by`` trigger), and the refusals the
   schema itself declares (``ChangeRule``: one-way, fixed once set, final values).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from providers.schema import (
    Attribute,
    BlockSchema,
    ChangeKind,
    ChangeRule,
    Kind,
    NestedBlock,
    Nesting,
    ResourceSchema,
    folded,
    zero_value,
)
from reconciler.diagnostics import Diagnostic, error, warning
from reconciler.plan.model import Action, Reason
from reconciler.values import UNKNOWN, is_wholly_known

Path = tuple[Any, ...]
_UNKNOWN_MARK = "\x00(known after apply)"


# --------------------------------------------------------------------------- proposal


def proposed_after(
    schema: BlockSchema, config: dict[str, Any] | None, prior: dict[str, Any] | None
) -> dict[str, Any]:
    config = config or {}
    out: dict[str, Any] = {}
    for attr in schema.attributes:
        out[attr.name] = _propose_attr(attr, config.get(attr.name), prior)
    for nb in schema.blocks:
        out[nb.name] = _propose_block(nb, config.get(nb.name), prior.get(nb.name) if prior else None)
    return out


def _computed_only(attr: Attribute) -> bool:
    return attr.computed and not attr.optional and not attr.required


def _propose_attr(attr: Attribute, configured: Any, prior: dict[str, Any] | None) -> Any:
    if not attr.reconciled and prior is not None and attr.name in prior:
        return prior[attr.name]  # accepted, never applied: the object keeps what it has
    if _computed_only(attr) or (configured is None and attr.computed):
        if prior is not None and attr.name in prior:
            return prior[attr.name]
        return UNKNOWN
    if configured is None:
        if attr.default is None and prior is not None and _is_zero(attr, prior.get(attr.name)):
            return prior[attr.name]  # Azure reads an unset argument back as its zero value
        return attr.default
    return configured


def _is_zero(attr: Attribute, value: Any) -> bool:
    return value is not None and value is not UNKNOWN and value == zero_value(attr.type)


def _propose_block(nb: NestedBlock, configured: Any, prior: Any) -> Any:
    if configured is UNKNOWN:
        return UNKNOWN
    prior_items = _items(prior)
    items = _items(configured)
    if not items:
        if nb.computed and prior_items:
            return prior
        return None if nb.nesting is Nesting.SINGLE else []
    proposed = []
    for i, item in enumerate(items):
        match = _match_prior(nb, item, prior_items, i)
        proposed.append(proposed_after(nb.block, item, match))
    if nb.nesting is Nesting.SINGLE:
        return proposed[0]
    return proposed


def _items(value: Any) -> list[dict[str, Any]]:
    if value is None or value is UNKNOWN:
        return []
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)]


def _match_prior(
    nb: NestedBlock, item: dict[str, Any], prior_items: list[dict[str, Any]], index: int
) -> dict[str, Any] | None:
    if nb.nesting is not Nesting.SET:
        return prior_items[index] if index < len(prior_items) else None
    keys = [a.name for a in nb.block.attributes if not _computed_only(a)]
    for p in prior_items:
        if all(_canonical(p.get(k)) == _canonical(item.get(k)) for k in keys if item.get(k) is not None):
            return p
    return None


# --------------------------------------------------------------------------- comparison


def _canonical(value: Any) -> Any:
    """Comparable form: unknowns marked, sets (lists of scalars) sorted, tuples as lists."""
    if value is UNKNOWN:
        return _UNKNOWN_MARK
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def _canonical_by_schema(schema: BlockSchema, value: dict[str, Any] | None) -> dict[str, Any]:
    """The comparable form of an object: only what vaultform reconciles.

    Keys outside the schema (provider-private facts such as a vault's item history) and
    arguments accepted but not reconciled are left out; an unset optional argument equals
    its type's zero value (an omitted bool is false, an omitted list is empty), as Azure
    and azurerm read them back.
    """
    value = value or {}
    out: dict[str, Any] = {}
    for attr in schema.attributes:
        if not attr.reconciled:
            continue
        v = folded(attr, value.get(attr.name))
        if v is None:
            v = zero_value(attr.type)
        if attr.type.kind is Kind.SET and isinstance(v, (list, tuple)):
            out[attr.name] = sorted((_canonical(x) for x in v), key=repr)
        else:
            out[attr.name] = _canonical(v)
    for nb in schema.blocks:
        if not nb.reconciled:
            continue
        v = value.get(nb.name)
        if v is UNKNOWN:
            out[nb.name] = _UNKNOWN_MARK
            continue
        items = [_canonical_by_schema(nb.block, x) for x in _items(v)]
        out[nb.name] = sorted(items, key=repr) if nb.nesting is Nesting.SET else items
    return out


def changed_paths(schema: BlockSchema, prior: dict[str, Any], after: dict[str, Any]) -> list[Path]:
    """Paths (attribute names, block indexes) whose value differs, unknowns included."""
    if prior == after:
        return []  # equal objects have equal comparable forms: an unchanged object needs neither
    a = _canonical_by_schema(schema, prior)
    b = _canonical_by_schema(schema, after)
    if a == b:
        return []  # the common case, answered without building a diff
    # imported here: loading deepdiff is about a tenth of a second, and a plan with nothing
    # to change never needs it
    from deepdiff import DeepDiff

    diff = DeepDiff(a, b, view="tree", verbose_level=0)
    paths: set[Path] = set()
    for levels in diff.values():
        for level in levels:
            paths.add(tuple(level.path(output_format="list")))
    return sorted(paths, key=repr)


# --------------------------------------------------------------------------- schema lookups


def attribute_at(schema: BlockSchema, path: Path) -> tuple[Attribute | None, list[NestedBlock]]:
    """The attribute a path ends in (if any) and the nested blocks it passes through."""
    blocks: list[NestedBlock] = []
    current = schema
    for step in path:
        if isinstance(step, int):
            continue
        nb = current.block_map.get(step)
        if nb is not None:
            blocks.append(nb)
            current = nb.block
            continue
        return current.attribute_map.get(step), blocks
    return None, blocks


def to_attribute(schema: BlockSchema, path: Path) -> Path:
    """``path`` cut after the attribute it reaches: a change inside a list, set, map or object
    value is the attribute's change, as terraform reports what forces a replacement (the plugin
    SDK's RequiresReplace paths stop at the attribute; block indexes stay)."""
    for end in range(1, len(path) + 1):
        if attribute_at(schema, path[:end])[0] is not None:
            return path[:end]
    return path


def forces_replacement(schema: BlockSchema, path: Path) -> bool:
    attr, blocks = attribute_at(schema, path)
    return any(b.force_new for b in blocks) or bool(attr and attr.force_new)


# --------------------------------------------------------------------------- decision


@dataclass(frozen=True)
class InstanceRequest:
    schema: ResourceSchema
    address: str
    config: dict[str, Any] | None  # evaluated, coerced, defaults applied; None: no longer configured
    prior: dict[str, Any] | None  # the object as it is now (refreshed, or as recorded)
    tainted: bool = False
    replace_requested: bool = False
    replace_triggered: bool = False
    create_before_destroy: bool = False
    ignore_changes: tuple[Path, ...] = ()
    ignore_all_changes: bool = False
    prevent_destroy: bool = False


@dataclass
class InstanceDecision:
    action: Action
    after: dict[str, Any] | None
    replace_paths: tuple[Path, ...] = ()
    changed: tuple[Path, ...] = ()
    reason: Reason = Reason.NONE
    diagnostics: list[Diagnostic] = field(default_factory=list)


def decide(req: InstanceRequest) -> InstanceDecision:
    block = req.schema.block
    if req.config is None:
        if req.prior is None:
            return InstanceDecision(Action.NO_OP, None)
        decision = InstanceDecision(Action.DELETE, None, reason=Reason.DELETE_BECAUSE_NO_RESOURCE_CONFIG)
        _refuse_destroy(req, decision)
        return decision
    after = proposed_after(block, req.config, req.prior)
    if req.prior is None:
        for attr in block.attributes:  # an echo of nothing is nothing (terraform_data's output
            if attr.echoes and after.get(attr.echoes) is None:  # without an input), as terraform plans it
                after[attr.name] = None
        return InstanceDecision(Action.CREATE, after, diagnostics=final_value_warnings(block, None, after))
    after = _apply_ignore_changes(req, after)
    changed = tuple(changed_paths(block, req.prior, after))
    changed += _unknown_echoes(block, after, changed)
    replace_paths = tuple(
        dict.fromkeys(to_attribute(block, p) for p in changed if forces_replacement(block, p))
    )
    replace = Action.CREATE_THEN_DELETE if req.create_before_destroy else Action.DELETE_THEN_CREATE
    if req.tainted:
        decision = InstanceDecision(replace, after, replace_paths, changed, Reason.REPLACE_BECAUSE_TAINTED)
    elif req.replace_requested:
        decision = InstanceDecision(replace, after, replace_paths, changed, Reason.REPLACE_BY_REQUEST)
    elif req.replace_triggered:
        decision = InstanceDecision(replace, after, replace_paths, changed, Reason.REPLACE_BY_TRIGGERS)
    elif replace_paths:
        decision = InstanceDecision(
            replace, after, replace_paths, changed, Reason.REPLACE_BECAUSE_CANNOT_UPDATE
        )
    elif changed:
        decision = InstanceDecision(Action.UPDATE, after, (), changed)
    else:
        return InstanceDecision(Action.NO_OP, after)
    if decision.action.is_replace:
        after = proposed_after(block, req.config, None)  # a new object: computed values are new too
        for attr in block.attributes:  # ... but unset arguments read back as zero, as before
            if (
                after.get(attr.name) is None
                and not attr.computed
                and _is_zero(attr, req.prior.get(attr.name))
            ):
                after[attr.name] = req.prior[attr.name]
        decision.after = after
        _refuse_destroy(req, decision)
    decision.diagnostics.extend(change_rule_refusals(req, after, changed))
    # a replacement is a new object: a final value it is created with is as final
    prior_object = None if decision.action.is_replace else req.prior
    decision.diagnostics.extend(final_value_warnings(block, prior_object, after))
    return decision


def _unknown_echoes(block: BlockSchema, after: dict[str, Any], changed: tuple[Path, ...]) -> tuple[Path, ...]:
    """An attribute that echoes a changed one (terraform_data's output of its input) is known
    only after apply, as Terraform plans it, so what reads it is planned to change too."""
    if not changed:
        return ()
    moved = {p[0] for p in changed}
    echoing = [a.name for a in block.attributes if a.echoes and a.echoes in moved and a.name not in moved]
    for name in echoing:
        after[name] = UNKNOWN
    return tuple((name,) for name in echoing)


def _refuse_destroy(req: InstanceRequest, decision: InstanceDecision) -> None:
    if not req.prevent_destroy:
        return
    verb = "destroy" if decision.action is Action.DELETE else "replace"
    decision.diagnostics.append(
        error(
            "prevent_destroy",
            f"Instance cannot be {'destroyed' if verb == 'destroy' else 'replaced'}",
            f"{req.address} has lifecycle.prevent_destroy set (it is recorded in state, so it protects the "
            f"object even after its block is removed). The plan would {verb} it. If that is really what you "
            "want, set prevent_destroy = false, apply, and then make the change.",
            address=req.address,
        )
    )


def _apply_ignore_changes(req: InstanceRequest, after: dict[str, Any]) -> dict[str, Any]:
    if req.prior is None:
        return after
    if req.ignore_all_changes:
        block = req.schema.block
        kept = dict(after)
        for name in list(kept):
            attr = block.attribute_map.get(name)
            if name in req.prior and not (attr and _computed_only(attr)):
                kept[name] = req.prior[name]
        return kept
    out = dict(after)
    for path in req.ignore_changes:
        _copy_path(req.prior, out, path)
    return out


def _copy_path(src: dict[str, Any], dst: dict[str, Any], path: Path) -> None:
    if not path:
        return
    s, d = src, dst
    for step in path[:-1]:
        try:
            s = s[step]
            d = d[step]
        except (KeyError, IndexError, TypeError):
            return
    last = path[-1]
    with contextlib.suppress(KeyError, IndexError, TypeError):
        d[last] = s[last]


# --------------------------------------------------------------------------- schema refusals


def _value_at(value: Any, path: Path) -> Any:
    for step in path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _refused(rule: ChangeRule, before: Any, after: Any) -> bool:
    before = None if before in ([], {}) else before
    after = None if after in ([], {}) else after
    if after is UNKNOWN or not is_wholly_known(after):
        return False
    if rule.kind is ChangeKind.FIXED_ONCE_SET:
        return before is not None and after is not None and before != after
    if rule.kind is ChangeKind.ONE_WAY:
        return before != rule.value and after == rule.value and before is not None
    if rule.kind is ChangeKind.FINAL_VALUE:
        return bool(before == rule.value and after != rule.value)
    return False


def change_rule_refusals(
    req: InstanceRequest, after: dict[str, Any], changed: Iterable[Path]
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    seen: set[Path] = set()
    for path in changed:
        attr, blocks = attribute_at(req.schema.block, path)
        rule_path = path
        rule = attr.change_rule if attr else None
        if rule is None:
            for nb in reversed(blocks):
                if nb.change_rule is not None:
                    rule = nb.change_rule
                    rule_path = _prefix_to_block(path, nb.name)
                    break
        if rule is None:
            continue
        top = tuple(s for s in rule_path if not isinstance(s, int))
        if top in seen:
            continue
        before, now = _value_at(req.prior, rule_path), _value_at(after, rule_path)
        if _refused(rule, before, now):
            seen.add(top)
            shown = ".".join(str(s) for s in top)
            out.append(
                error(rule.code, _refusal_summary(shown, before, now), rule.message, address=req.address)
            )
    return out


_FINAL: dict[
    int, tuple[BlockSchema, tuple[tuple[str, ChangeRule], ...]]
] = {}  # id(block) -> (block, its rules)


def _final_value_rules(block: BlockSchema) -> tuple[tuple[str, ChangeRule], ...]:
    """(attribute, rule) for the attributes of ``block`` with a final value, looked up once per
    schema (every create and update of a plan asks)."""
    cached = _FINAL.get(id(block))
    if cached is None or cached[0] is not block:
        final = tuple(
            (a.name, a.change_rule)
            for a in block.attributes
            if a.change_rule is not None and a.change_rule.kind is ChangeKind.FINAL_VALUE
        )
        cached = _FINAL[id(block)] = (block, final)
    return cached[1]


def final_value_warnings(
    block: BlockSchema, before: dict[str, Any] | None, after: dict[str, Any]
) -> list[Diagnostic]:
    """A warning for each attribute this plan sets to a value it can never leave (a vault's
    immutability Locked): the step is one way, and the plan is the last place to say so."""
    out: list[Diagnostic] = []
    for name, rule in _final_value_rules(block):
        now = after.get(name)
        if now != rule.value or (before is not None and before.get(name) == rule.value):
            continue
        out.append(
            warning(
                "final_value",
                f"{name} = {_show(now)} can't be undone",
                f"{rule.message} Apply this only if that is meant; once applied, no later plan can change it.",
            )
        )
    return out


def _refusal_summary(shown: str, before: Any, now: Any) -> str:
    if now in (None, [], {}):
        return f"Refused: {shown} can't be removed"
    if isinstance(before, (dict, list)) or isinstance(now, (dict, list)):
        return f"Refused: {shown} can't change"
    return f"Refused: {shown} can't change from {_show(before)} to {_show(now)}"


def _prefix_to_block(path: Path, name: str) -> Path:
    for i, step in enumerate(path):
        if step == name:
            return path[: i + 1]
    return path


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)

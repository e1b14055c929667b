"""The human plan: what vaultform will do, in the shape Terraform users read every day.

``render_plan`` prints, in order: the cloud the plan targets, the legend of the action
symbols the plan uses, the refusals (error diagnostics: nothing will be applied), the
warnings and advisories, one block per resource change (no-ops skipped), the output
changes and the summary. Unknown values show as ``(known after apply)``, sensitive ones as
``(sensitive value)``; everything else is shown whole, with no truncation.

The schema of each change's type (``schema_of(mode, type_name)``, by default the provider
registry's ``resource_schema``) tells nested blocks from attributes, sets from lists, maps
from objects and which attributes are sensitive; without a schema the values' own shapes
decide. The object bodies themselves are drawn by ``reconciler.plan.render_body``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from providers.schema import Mode, ResourceSchema
from reconciler.diagnostics import Diagnostic, Diagnostics, SourceCache, render_text
from reconciler.plan.model import Action, OutputChange, Plan, Reason, ResourceChange
from reconciler.plan.model import natural_order as _natural
from reconciler.plan.render_body import BodyRenderer, Palette, Sensitivity
from reconciler.providers_registry import resource_schema
from state.addresses import address_order, parse_address

SchemaOf = Callable[[Mode, str], "ResourceSchema | None"]

# the legend, in the order terraform prints it: (action, what the symbol means)
LEGEND: tuple[tuple[Action, str], ...] = (
    (Action.CREATE, "create"),
    (Action.UPDATE, "update in-place"),
    (Action.DELETE, "destroy"),
    (Action.DELETE_THEN_CREATE, "destroy and then create replacement"),
    (Action.CREATE_THEN_DELETE, "create replacement and then destroy"),
    (Action.READ, "read (data resources)"),
)

HEADLINE: dict[Action, str] = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in-place",
    Action.DELETE_THEN_CREATE: "must be replaced",
    Action.CREATE_THEN_DELETE: "must be replaced",
    Action.DELETE: "will be destroyed",
    Action.READ: "will be read during apply",
    Action.FORGET: "will no longer be managed by vaultform, but will not be destroyed",
}

# a reason that changes the headline itself (replacements only)
REASON_HEADLINE: dict[Reason, str] = {
    Reason.REPLACE_BECAUSE_TAINTED: "is tainted, so must be replaced",  # terraform's words (sic)
    Reason.REPLACE_BY_REQUEST: "will be replaced, as requested",
    Reason.REPLACE_BY_TRIGGERS: "will be replaced due to changes in replace_triggered_by",
}

# a reason shown on its own comment line under the headline; {resource}, {key}, {module} filled in
REASON_NOTE: dict[Reason, str] = {
    # terraform names the resource without its module here (jsonformat/plan.go)
    Reason.DELETE_BECAUSE_NO_RESOURCE_CONFIG: "(because {resource} is not in configuration)",
    Reason.DELETE_BECAUSE_COUNT_INDEX: "(because index {key} is out of range for count)",
    Reason.DELETE_BECAUSE_EACH_KEY: "(because key {key} is not in for_each map)",
    Reason.DELETE_BECAUSE_NO_MODULE: "(because {module} is not in configuration)",
    Reason.READ_BECAUSE_CONFIG_UNKNOWN: "(config refers to values not yet known)",
    Reason.READ_BECAUSE_DEPENDENCY_PENDING: "(depends on a resource with changes pending)",
}


# terraform's note for an object whose key is of the wrong kind, by the kind of key it has
_WRONG_REPETITION: dict[type, str] = {
    type(None): "(because resource uses count or for_each)",
    int: "(because resource does not use count)",
    str: "(because resource does not use for_each)",
}


def schema_lookup(schema_of: SchemaOf | None) -> SchemaOf:
    """The lookup the renderers use: the caller's, or the provider registry's."""
    return schema_of if schema_of is not None else resource_schema


def change_schema(change: ResourceChange, schema_of: SchemaOf) -> ResourceSchema | None:
    return schema_of(change.mode, change.type)


# --------------------------------------------------------------------------- counting


@dataclass(frozen=True)
class ChangeCounts:
    """How many instances a set of changes adds, changes, destroys, replaces and reads.

    As in Terraform's summary, a replacement counts once as an add and once as a destroy.
    """

    add: int = 0
    change: int = 0
    destroy: int = 0
    replace: int = 0
    read: int = 0
    imports: int = 0
    forget: int = 0  # not in the sentence: terraform's summary leaves them out (its warning lists them)

    @classmethod
    def of(cls, changes: Iterable[ResourceChange]) -> ChangeCounts:
        changes = list(changes)
        actions = [c.action for c in changes]
        return cls(
            add=sum(1 for a in actions if a is Action.CREATE or a.is_replace),
            change=sum(1 for a in actions if a is Action.UPDATE),
            destroy=sum(1 for a in actions if a is Action.DELETE or a.is_replace),
            replace=sum(1 for a in actions if a.is_replace),
            read=sum(1 for a in actions if a is Action.READ),
            imports=sum(1 for c in changes if c.importing),
            forget=sum(1 for a in actions if a is Action.FORGET),
        )

    @property
    def any(self) -> bool:
        return bool(
            self.add
            or self.change
            or self.destroy
            or self.replace
            or self.read
            or self.imports
            or self.forget
        )

    def sentence(self) -> str:
        imported = f"{self.imports} to import, " if self.imports else ""
        return f"{imported}{self.add} to add, {self.change} to change, {self.destroy} to destroy"

    def short(self) -> str:
        """Only the non-zero parts, e.g. '1 to add, 1 to read'."""
        parts = [
            (self.imports, "to import"),
            (self.add, "to add"),
            (self.change, "to change"),
            (self.destroy, "to destroy"),
            (self.read, "to read"),
            (self.forget, "to forget"),
        ]
        return ", ".join(f"{n} {what}" for n, what in parts if n)


def counts_by_type(changes: Iterable[ResourceChange]) -> dict[str, ChangeCounts]:
    """Counts per resource type (data sources prefixed ``data.``), sorted by type."""
    groups: dict[str, list[ResourceChange]] = {}
    for c in changes:
        key = f"data.{c.type}" if c.mode is Mode.DATA else c.type
        groups.setdefault(key, []).append(c)
    out = {k: ChangeCounts.of(v) for k, v in sorted(groups.items())}
    return {k: v for k, v in out.items() if v.any}


# --------------------------------------------------------------------------- ordering


def visible_changes(plan: Plan) -> list[ResourceChange]:
    """The changes a reader sees: no-ops dropped unless imported or moved, in terraform's order of
    addresses (the root module's first, then shallower modules before deeper; keys as numbers)."""
    moved = {new for _old, new in plan.moved}
    shown = [c for c in plan.changes if c.action is not Action.NO_OP or c.importing or c.address in moved]
    return sorted(shown, key=lambda c: address_order(parse_address(c.address)))


def visible_outputs(plan: Plan) -> list[OutputChange]:
    return sorted((o for o in plan.outputs if o.action is not Action.NO_OP), key=lambda o: o.name)


# --------------------------------------------------------------------------- one change


def _key_text(change: ResourceChange) -> str:
    if isinstance(change.index, str):
        return f'["{change.index}"]'
    return f"[{change.index}]"


def headline(change: ResourceChange) -> str:
    """'will be created', 'must be replaced'... (the words after the address)."""
    if change.action is Action.NO_OP:
        return "will be imported" if change.importing else "has no changes"
    if change.action.is_replace and change.reason in REASON_HEADLINE:
        return REASON_HEADLINE[change.reason]
    return HEADLINE[change.action]


def _notes(change: ResourceChange) -> list[str]:
    notes: list[str] = []
    if change.importing and change.action is not Action.NO_OP:
        notes.append(f'(imported from "{change.importing}")')
    if change.importing and change.generated_config:
        notes.append("(config will be generated)")
    if change.action is Action.FORGET:
        notes.append("(destroy = false is set in the configuration)")
    if change.reason is Reason.DELETE_BECAUSE_WRONG_REPETITION and change.action is Action.DELETE:
        notes.append(_WRONG_REPETITION[type(change.index)])
    template = REASON_NOTE.get(change.reason)
    if template and (change.action is Action.DELETE or change.action is Action.READ):
        notes.append(
            template.format(
                resource=f"{change.type}.{change.name}", key=_key_text(change), module=change.module
            )
        )
    named = [p for p in change.phases if p]
    if named and change.action not in (Action.DELETE, Action.READ, Action.NO_OP):
        steps = " and ".join(named)
        if "" in change.phases:
            notes.append(
                f"(applied in steps: the object first, then its {steps} once what it needs is in place)"
            )
        else:
            notes.append(f"(only its {steps} step runs)")
    return notes


def render_change(
    change: ResourceChange,
    *,
    color: bool = False,
    schema_of: SchemaOf | None = None,
    moved_from: str | None = None,
) -> str:
    """One change: the comment headline, any notes, and the object body. An object a moved block
    renamed says where it was, as terraform's plan does."""
    palette = Palette(color)
    schema = change_schema(change, schema_lookup(schema_of))
    # a forgotten object's lines stand one column to the left, as in terraform's plan
    margin = " " if change.action is Action.FORGET else "  "
    only_moved = moved_from is not None and change.action is Action.NO_OP and not change.importing
    if only_moved:
        lines = [f"{margin}{palette.bold(f'# {moved_from} has moved to {change.address}')}"]
    else:
        lines = [f"{margin}{palette.bold('# ' + change.address)} {headline(change)}"]
    lines += [f"{margin}# {n}" for n in _notes(change)]
    if moved_from is not None and not only_moved:
        lines.append(f"{margin}# (moved from {moved_from})")  # after the reason, as terraform 1.11
    symbol = change.action.symbol
    kind = "data" if change.mode is Mode.DATA else "resource"
    lines.append(
        " " * (len(margin) + 1 - len(symbol))
        + palette.symbol(symbol)
        + f' {kind} "{change.type}" "{change.name}" {{'
    )
    renderer = BodyRenderer(
        palette,
        Sensitivity.of(change.hidden_paths, schema),
        frozenset(tuple(p) for p in change.replace_paths),
        show_unchanged=change.action is Action.NO_OP and moved_from is None,
    )
    if change.action is Action.READ:
        before, after = None, change.after or {}
    elif change.action is Action.DELETE:
        before, after = change.before or {}, None
    elif change.action is Action.FORGET:  # the object stays as it is: shown unchanged
        before = after = change.before or {}
    elif change.action is Action.CREATE:
        before, after = None, change.after or {}
    else:
        before, after = change.before or {}, change.after or {}
    lines += renderer.body(schema.block if schema else None, before, after, 1, ())
    lines.append("    }")
    return "\n".join(lines)


def render_outputs(outputs: list[OutputChange], *, color: bool = False, names: Iterable[str] = ()) -> str:
    """The 'Changes to Outputs:' section ('' when no output changes). ``names``: every output the
    plan has, the unchanged too - terraform lines the names up over all of them."""
    if not outputs:
        return ""
    palette = Palette(color)
    entries = []
    for o in outputs:
        renderer = BodyRenderer(
            palette, Sensitivity.everything() if o.sensitive else Sensitivity(), frozenset()
        )
        before = None if o.action is Action.CREATE else o.before
        after = None if o.action is Action.DELETE else o.after
        entries.append((o.name, *renderer.value_change(before, after, 0, (), quote_keys=False)))
    width = max(len(name) for name in [*(name for name, _, _ in entries), *names])
    lines = [palette.bold("Changes to Outputs:")]
    for name, sym, sub in entries:
        lines.append(BodyRenderer.line_for(palette, 0, sym, f"{name.ljust(width)} = {sub[0]}"))
        lines.extend(sub[1:])
    return "\n".join(lines)


# --------------------------------------------------------------------------- whole plan


def _legend(changes: list[ResourceChange], palette: Palette) -> str:
    used = {c.action for c in changes}
    lines = ["Resource actions are shown with these symbols:"]
    for action, meaning in LEGEND:
        if action in used:
            symbol = action.symbol
            lines.append(" " * (3 - len(symbol)) + palette.symbol(symbol) + f" {meaning}")
    return "\n".join(lines)


def is_refusal(diag: Diagnostic) -> bool:
    """A domain refusal (R1..R18, prevent_destroy) rather than a mistake in the configuration."""
    return bool(re.fullmatch(r"R\d+", diag.code)) or diag.code == "prevent_destroy"


def _refusals(errors: list[Diagnostic], palette: Palette, **diag_opts: Any) -> str:
    if any(is_refusal(d) for d in errors):
        head = palette.paint("vaultform refuses this plan: nothing will be applied.", "1", "31")
    else:
        head = palette.paint("The plan has errors: nothing will be applied.", "1", "31")
    what = (
        "Each error below says why and what to do instead. Change the configuration (or the "
        "objects) as it says, then run plan again."
    )
    return f"{head}\n{what}\n\n" + render_text(errors, color=palette.enabled, **diag_opts).rstrip("\n")


def _summary(plan: Plan, changes: list[ResourceChange], errors: list[Diagnostic], palette: Palette) -> str:
    counts = ChangeCounts.of(changes)
    if errors:
        codes = ", ".join(sorted({d.code for d in errors}, key=_natural))
        n = len(errors)
        word = "Refused" if any(is_refusal(d) for d in errors) else "Errors"
        first = palette.paint(f"{word}: {n} error{'s' if n != 1 else ''} ({codes}).", "1", "31")
        lines = [f"{first} Nothing will be applied; the plan had {counts.sentence()}."]
    else:
        lines = [palette.bold(f"Plan: {counts.sentence()}.")]
    for type_name, c in counts_by_type(changes).items():
        lines.append(f"  {type_name}: {c.short()}")
    return "\n".join(lines)


def _compact(d: Diagnostic, display_path: Callable[[str], str] | None) -> str:
    """One warning as terraform's compact form lists it: '- summary' and where."""
    line = f"- {d.summary}"
    if d.range is not None:
        shown = display_path(d.range.file) if display_path else d.range.file
        line += f"\n  on {shown} line {d.range.line}"
    return line


def render_plan(
    plan: Plan,
    *,
    color: bool,
    schema_of: SchemaOf | None = None,
    sources: SourceCache | None = None,
    display_path: Callable[[str], str] | None = None,
    compact_warnings: bool = False,
) -> str:
    """The whole human plan as one string ending in a newline; deterministic for a plan.

    ``compact_warnings`` (-compact-warnings): when nothing is an error, warnings are listed by
    their summaries and places only, as terraform's compact form does."""
    palette = Palette(color)
    schema_of = schema_lookup(schema_of)
    diag_opts: dict[str, Any] = {"sources": sources, "display_path": display_path}
    diags = Diagnostics(list(plan.diagnostics)).sorted()
    errors = [d for d in diags if d.is_error]
    others = [d for d in diags if not d.is_error]
    changes = visible_changes(plan)
    outputs = visible_outputs(plan)

    parts: list[str] = []
    if plan.cloud:
        parts.append(f"{palette.bold('Target:')} {plan.cloud}")
    if any(action in {c.action for c in changes} for action, _meaning in LEGEND):
        parts.append(_legend(changes, palette))  # (moved objects alone have no symbol, as terraform's)
    if errors:
        parts.append(_refusals(errors, palette, **diag_opts))
    if others and compact_warnings and not errors:
        parts.append(
            palette.bold("Warnings:") + "\n\n" + "\n".join(_compact(d, display_path) for d in others)
        )
    elif others:
        parts.append(
            palette.bold("Warnings and advisories:")
            + "\n\n"
            + render_text(others, color=color, **diag_opts).rstrip("\n")
        )
    if plan.refresh_only and not plan.outside_changes and not outputs and not errors:
        parts.append(  # terraform's words when the refresh found nothing to record
            palette.bold("No changes.") + " Your infrastructure still matches the configuration.\n\n"
            "vaultform has checked that the real remote objects still match the result of your most "
            "recent changes, and found no differences."
        )
        return "\n\n".join(parts) + "\n"
    if plan.refresh_only:
        n = sum(1 for read in plan.refreshed.values() if read is not None)
        gone = len(plan.refreshed) - n
        forgets = f", and forgets the {gone} that no longer exist{'s' if gone == 1 else ''}" if gone else ""
        parts.append(
            f"This is a refresh-only plan: applying it records the {n} object{'s' if n != 1 else ''} "
            f"read just now in state, as {'it is' if n == 1 else 'they are'}{forgets}; nothing in the "
            "cloud changes."
        )
    if not changes and not outputs:
        if errors:
            parts.append(_summary(plan, changes, errors, palette))
        elif plan.destroy:  # terraform's words for a destroy with nothing in state
            parts.append(
                palette.bold("No changes.") + " No objects need to be destroyed.\n\n"
                "Either you have not created any objects yet or the existing objects were already "
                "deleted outside of vaultform."
            )
        else:
            compared = (
                "the stored state and the real objects"
                if plan.read_real_objects
                else "the stored state (not with the real objects: -refresh=false)"
            )
            parts.append(
                palette.bold("No changes.") + " Your infrastructure matches the configuration.\n\n"
                f"vaultform compared the configuration with {compared} and found nothing to do."
            )
        return "\n\n".join(parts) + "\n"
    if changes:
        lead = (
            "The refused plan holds these actions; none of them will be applied:"
            if errors
            else "vaultform will perform the following actions:"
        )
        parts.append(lead)
        moved_from = {new: old for old, new in plan.moved}
        parts.extend(
            render_change(c, color=color, schema_of=schema_of, moved_from=moved_from.get(c.address))
            for c in changes
        )
    if changes or errors:  # the count comes before the outputs' changes, as in terraform's plan
        parts.append(_summary(plan, changes, errors, palette))
    if outputs:
        parts.append(render_outputs(outputs, color=color, names=[o.name for o in plan.outputs]))
    if not (changes or errors):
        parts.append(  # terraform's words (and line break), with vaultform's name
            "You can apply this plan to save these new output values to the vaultform\n"
            "state, without changing any real infrastructure."
        )
    return "\n\n".join(parts) + "\n"

"""How to undo drift: the plan first, then the provider's out-of-band remedy, else accept it.

``fix_for`` prefers the plan: when `vaultform plan` already proposes to change the
attribute (or re-create the object) the fix is a normal apply. What vaultform doesn't
reconcile has the provider's hint (``DriftRules.remedy``), and anything else the
configuration doesn't care about can be accepted into state.
"""

from __future__ import annotations

from reconciler.drift.model import ChangeKind, Fix, FixKind

PLAN_VERBS = {
    "create": "re-creates the object",
    "update": "restores it in place",
    "delete-then-create": "replaces the object",
    "create-then-delete": "replaces the object",
    "delete": "deletes the object (the configuration no longer has it)",
}


def fix_for(kind: ChangeKind, *, plan_action: str, plan_changes_it: bool, remedy: str | None) -> Fix:
    """``plan_changes_it``: the plan changes this attribute or object; ``remedy``: the provider's
    out-of-band hint, if it has one."""
    if plan_changes_it:
        verb = PLAN_VERBS.get(plan_action, "restores it")
        return Fix(FixKind.PLAN, f"`vaultform apply` {verb}; review it with `vaultform plan` first")
    if remedy:
        return Fix(FixKind.OUT_OF_BAND, remedy)
    if kind is ChangeKind.DELETED:
        return Fix(
            FixKind.ACCEPT, "the configuration no longer has it: `vaultform apply -refresh-only` forgets it"
        )
    return Fix(
        FixKind.ACCEPT,
        "the configuration doesn't set it: `vaultform apply -refresh-only` records the "
        "new value, or set it in the configuration to have vaultform enforce it",
    )

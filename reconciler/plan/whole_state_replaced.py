"""The plan that swaps one estate for another: called out before its changes.

When every object the state manages is to be deleted while every resource the configuration
declares is to be created - not one address in common - the state is almost certainly not
this configuration's (a state file copied from another directory, a wrong ``-state``).
Applying it would destroy that other estate. Lineage memory (``state.lineage_memory``)
refuses such a state when the directory remembers its own; this warning covers the rest (a
directory that never ran, ``-allow-lineage-change``) and travels with the plan, in text and in
``-json``. A ``-destroy`` plan and a ``-target`` plan are never called out.
"""

from __future__ import annotations

from reconciler.addresses import Mode
from reconciler.diagnostics import Diagnostic, warning
from reconciler.plan.model import Action, Plan
from reconciler.plan.walk import PlanOptions
from state.model import State

CODE = "whole_state_replaced"


def _managed_in_state(state: State) -> set[str]:
    return {
        str(addr)
        for addr, res, _inst in state.instances()
        if getattr(res.mode, "value", res.mode) == "managed"
    }


def whole_state_replaced(plan: Plan, state: State, options: PlanOptions) -> list[Diagnostic]:
    """[the warning] when ``plan`` deletes all of ``state`` and creates all it declares; else []."""
    if plan.destroy or plan.refresh_only or options.targets:
        return []
    managed = [c for c in plan.changes if c.mode is Mode.MANAGED]
    deleted = {c.address for c in managed if c.action is Action.DELETE}
    created = [c for c in managed if c.action is Action.CREATE]
    in_state = _managed_in_state(state)
    if not in_state or not created or not in_state <= deleted:
        return []
    if any(c.action not in (Action.CREATE, Action.DELETE) for c in managed):
        return []  # something in state is kept or changed: the configuration knows this state
    return [
        warning(
            CODE,
            f"This plan deletes all {len(in_state)} objects in the state and creates all "
            f"{len(created)} the configuration declares",
            f"Not one resource of the configuration is in the state (lineage {state.lineage}), and "
            "everything the state manages would be destroyed. That is what a plan against another "
            "configuration's state looks like - a state file copied in from another directory, or a "
            "wrong -state. Check that this is this configuration's state before you apply; if it is "
            "not, put the right state back: applying would destroy the estate the state manages.",
        )
    ]

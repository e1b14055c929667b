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

from reconciler.addresses import Mode, parse_address
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
    renamed = _renamed_modules(in_state, {c.address for c in created})
    moved = (
        " If the module call was renamed, say so and every object stays as it is: "
        + " ".join(f"moved {{ from = module.{old} to = module.{new} }}" for old, new in renamed)
        + "."
        if renamed
        else ""
    )
    return [
        warning(
            CODE,
            f"This plan deletes all {len(in_state)} objects in the state and creates all "
            f"{len(created)} the configuration declares",
            f"Not one resource of the configuration is in the state (lineage {state.lineage}), and "
            "everything the state manages would be destroyed. That is what a plan against another "
            "configuration's state looks like - a state file copied in from another directory, or a "
            "wrong -state. Check that this is this configuration's state before you apply; if it is "
            "not, put the right state back: applying would destroy the estate the state manages." + moved,
        )
    ]


def _renamed_modules(deleted: set[str], created: set[str]) -> list[tuple[str, str]]:
    """(old, new) module call names when the objects the plan deletes and creates are the same
    but for the name of the module call they are in (``module.estate["prod"].x`` becomes
    ``module.cmk["prod"].x``); [] when they are not all alike."""

    def split(address: str) -> tuple[str, str]:
        """``module.estate["prod"].x`` -> (``estate``, ``["prod"].x``); ("", address) at the root."""
        path = parse_address(address).resource.module
        if not path:
            return "", address
        return path[0].name, address[len(f"module.{path[0].name}") :]

    old, new = [split(a) for a in sorted(deleted)], [split(a) for a in sorted(created)]
    olds, news = {name for name, _ in old}, {name for name, _ in new}
    if len(olds) != 1 or len(news) != 1 or "" in olds | news:
        return []
    if sorted(rest for _, rest in old) != sorted(rest for _, rest in new):
        return []
    return [(olds.pop(), news.pop())]

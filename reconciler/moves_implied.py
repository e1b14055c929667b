"""The moves terraform makes without a ``moved`` block: ``count`` added or removed.

terraform 1.11 renames ``x`` to ``x[0]`` in state when ``count`` is added to a resource that
had none, and ``x[0]`` to ``x`` when a resource has neither ``count`` nor ``for_each`` any
more, so the object is kept instead of destroyed and created again. Nothing of the sort
happens for ``for_each`` (there is no key to pick). A resource that a ``moved`` block names
at either end is left to that block: its author may want to keep another index than 0.

The moves are worked out from the state as it was read (before the ``moved`` blocks run) and
applied after them. One whose new address already holds an object is not made; terraform
warns about it and plans the old object's destroy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.addresses import InstanceAddress, Mode, ResourceAddress
from reconciler.diagnostics import Diagnostic, warning
from state.model import State


@dataclass(frozen=True)
class ImpliedMove:
    source: InstanceAddress
    target: InstanceAddress


def implied_moves(state: State, tree, explicit: set[ResourceNames]) -> list[ImpliedMove]:
    """The moves the configuration's use of ``count`` implies for the objects in ``state``,
    but for the resources in ``explicit`` (named by a ``moved`` block). Every plan asks, for
    every object: the usual answer (a resource as its configuration repeats it) costs a look-up."""
    found = []
    modules: dict[str, Any] = {}  # a module's address in state -> its configuration, or None
    for res in state.resources:
        if res.mode is not Mode.MANAGED:
            continue
        node = modules.get(res.module, _UNSEEN)
        if node is _UNSEEN:
            names = tuple(step.name for step in res.address.module) if res.module else ()
            node = modules[res.module] = _module_tree(tree, names)
        config = node.module.resources.get(f"{res.type}.{res.name}") if node is not None else None
        if config is None:
            continue
        if config.count is not None:
            source, target = None, 0
        elif config.for_each is None:
            source, target = 0, None
        else:
            continue
        if res.instance(source) is None:
            continue
        address = res.address
        if resource_names(address) not in explicit:
            found.append(ImpliedMove(InstanceAddress(address, source), InstanceAddress(address, target)))
    return found


_UNSEEN = object()


def apply_implied_moves(
    state: State, moves: list[ImpliedMove]
) -> tuple[State, list[tuple[str, str]], list[Diagnostic]]:
    """The state with ``moves`` made, the (from, to) addresses moved, and a warning naming the
    moves an object at the new address blocked (in terraform 1.11's words)."""
    done: list[tuple[str, str]] = []
    blocked: list[ImpliedMove] = []
    for move in moves:
        inst = state.instance(move.source)
        if inst is None:
            continue
        if state.instance(move.target) is not None:
            blocked.append(move)
            continue
        res = state.resource(move.source)
        assert res is not None  # it holds the instance just found
        state = state.without_instance(move.source).with_instance(
            move.target, inst, provider=res.provider, prevent_destroy=res.prevent_destroy
        )
        done.append((str(move.source), str(move.target)))
    return state, done, [_unresolved(blocked)] if blocked else []


def _unresolved(blocked: list[ImpliedMove]) -> Diagnostic:
    listed = "\n".join(f"  - {m.source} could not move to {m.target}" for m in blocked)
    return warning(
        "moves_unresolved",
        "Unresolved resource instance address changes",
        "vaultform tried to adjust resource instance addresses in the prior state based on change "
        "information recorded in the configuration, but some adjustments did not succeed due to "
        f"existing objects already at the intended addresses:\n{listed}\n\n"
        "vaultform has planned to destroy these objects. If vaultform's proposed changes aren't "
        'appropriate, you must first resolve the conflicts using the "vaultform state" subcommands '
        "and then create a new plan.",
    )


def _module_tree(tree, names: tuple[str, ...]):
    node = tree
    for name in names:
        node = node.children.get(name)
        if node is None:
            return None
    return node


# a resource named with its module as call names from the root, its instance keys left out:
# (call names, mode, type, name)
ResourceNames = tuple[tuple[str, ...], Mode, str, str]


def resource_names(address: ResourceAddress) -> ResourceNames:
    return (tuple(step.name for step in address.module), address.mode, address.type, address.name)

"""Which objects a targeted plan refreshes: the targets and what they depend on, as terraform does.

``-target`` narrows the plan to the targets and their dependencies (for a destroy, and what
depends on the targets), and terraform reads only those from the cloud. An object outside that
scope keeps what state records: a key behind a key vault's firewall is not read to plan opening
the firewall again (it couldn't be: its read is what the firewall refuses). Dependencies are the
ones state records for each instance (a dependency on a whole resource means each of its
instances).
"""

from __future__ import annotations

from reconciler.plan.assemble import targets_address
from state.addresses import InstanceAddress
from state.model import State


def targeted_scope(state: State, targets: tuple[str, ...], *, destroy: bool) -> set[str] | None:
    """The instance addresses (text) a plan with ``targets`` reads; None (read everything) when a
    target names nothing in state yet: what an object still to be created depends on is known
    only from the configuration, so nothing is left unread on its account."""
    deps: dict[InstanceAddress, set[InstanceAddress]] = {}
    by_resource: dict[object, set[InstanceAddress]] = {}
    for iaddr, _rstate, istate in state.instances():
        by_resource.setdefault(iaddr.resource, set()).add(iaddr)
        deps[iaddr] = set(istate.dependencies)
    resolved = {a: _instances(ds, by_resource) for a, ds in deps.items()}
    chosen: set[InstanceAddress] = set()
    for target in targets:
        named = {a for a in deps if targets_address(target, str(a))}
        if not named:
            return None
        chosen |= named
    if destroy:  # what depends on a target goes with it
        dependents: dict[InstanceAddress, set[InstanceAddress]] = {}
        for a, ds in resolved.items():
            for d in ds:
                dependents.setdefault(d, set()).add(a)
        chosen = _closure(chosen, dependents)
    return {str(a) for a in _closure(chosen, resolved)}


def _closure(
    start: set[InstanceAddress], edges: dict[InstanceAddress, set[InstanceAddress]]
) -> set[InstanceAddress]:
    out = set(start)
    stack = list(start)
    while stack:
        for nxt in edges.get(stack.pop(), set()):
            if nxt not in out:
                out.add(nxt)
                stack.append(nxt)
    return out


def _instances(
    recorded: set[InstanceAddress], by_resource: dict[object, set[InstanceAddress]]
) -> set[InstanceAddress]:
    out: set[InstanceAddress] = set()
    for d in recorded:
        out |= {d} if d.key is not None else by_resource.get(d.resource, set())
    return out

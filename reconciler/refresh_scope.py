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


def targeted_scope(state: State, targets: tuple[str, ...], *, destroy: bool) -> set[str]:
    """The instance addresses (text) a plan with ``targets`` reads."""
    deps: dict[InstanceAddress, set[InstanceAddress]] = {}
    by_resource: dict[object, set[InstanceAddress]] = {}
    for iaddr, _rstate, istate in state.instances():
        by_resource.setdefault(iaddr.resource, set()).add(iaddr)
        deps[iaddr] = set(istate.dependencies)
    resolved = {a: _instances(ds, by_resource) for a, ds in deps.items()}
    dependents: dict[InstanceAddress, set[InstanceAddress]] = {}
    if destroy:
        for a, ds in resolved.items():
            for d in ds:
                dependents.setdefault(d, set()).add(a)
    chosen = {a for a in deps if any(targets_address(t, str(a)) for t in targets)}
    stack = list(chosen)
    while stack:
        a = stack.pop()
        for nxt in resolved.get(a, set()) | dependents.get(a, set()):
            if nxt not in chosen:
                chosen.add(nxt)
                stack.append(nxt)
    return {str(a) for a in chosen}


def _instances(
    recorded: set[InstanceAddress], by_resource: dict[object, set[InstanceAddress]]
) -> set[InstanceAddress]:
    out: set[InstanceAddress] = set()
    for d in recorded:
        out |= {d} if d.key is not None else by_resource.get(d.resource, set())
    return out

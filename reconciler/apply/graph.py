"""The apply graph: one node per operation, built from a plan.

A created or updated object is one step (``StepId(address)``); each later phase of it is
another (``StepId(address, "encryption")``: the key assignment); a deletion is
``StepId(address, destroy=True)``. Edges come from the plan's dependencies, the
provider's ordering edges (DOMAIN.md O1-O5) and the destroy order (an object is deleted
before whatever it depended on, and after the updates that stop needing it).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from reconciler.addresses import InstanceAddress, Node, parse_address
from reconciler.diagnostics import Diagnostic, error
from reconciler.graph.dag import Graph
from reconciler.plan.model import Action, Plan, ResourceChange

log = logging.getLogger(__name__)


class Op(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    PHASE = "phase"  # a later phase of a created or updated object
    DELETE = "delete"
    READ = "read"
    NOOP = "noop"
    FORGET = "forget"  # out of state only: nothing is asked of the provider


@dataclass(frozen=True, slots=True)
class StepId:
    """An apply graph node: a graph ``Node`` (the object or a later phase), or its deletion."""

    address: InstanceAddress
    phase: str = ""
    destroy: bool = False

    @classmethod
    def of(cls, node: Node) -> StepId:
        return cls(node.address, node.phase)

    @property
    def node(self) -> Node:
        return Node(self.address, self.phase)

    def __str__(self) -> str:
        if self.destroy:
            return f"{self.address} (destroy)"
        return f"{self.address}#{self.phase}" if self.phase else str(self.address)


@dataclass(frozen=True)
class Step:
    id: StepId
    op: Op
    change: ResourceChange
    phase: str = ""
    deposed: bool = False  # a create-then-delete replacement's old object


def steps_for(change: ResourceChange) -> list[Step]:
    a = parse_address(change.address)
    live, gone = StepId(a), StepId(a, destroy=True)
    later = [Step(StepId(a, p), Op.PHASE, change, p) for p in change.phases if p]
    action = change.action
    if action is Action.NO_OP:
        return [Step(live, Op.NOOP, change)]
    if action is Action.READ:
        return [Step(live, Op.READ, change)]
    if action is Action.DELETE:
        return [Step(gone, Op.DELETE, change)]
    if action is Action.FORGET:
        return [Step(gone, Op.FORGET, change)]
    if action is Action.CREATE:
        return [Step(live, Op.CREATE, change)] + later
    if action is Action.UPDATE:
        base = [Step(live, Op.UPDATE, change)] if "" in change.phases else []
        return base + later
    if action is Action.DELETE_THEN_CREATE:
        return [Step(gone, Op.DELETE, change), Step(live, Op.CREATE, change)] + later
    if action is Action.CREATE_THEN_DELETE:
        return [Step(live, Op.CREATE, change)] + later + [Step(gone, Op.DELETE, change, deposed=True)]
    raise ValueError(f"no steps for {action}")  # pragma: no cover - the enum is closed


@dataclass
class ApplyGraph:
    graph: Graph
    steps: dict[StepId, Step]

    def order(self) -> list[StepId]:
        return self.graph.order()


def cycle_error(cycles: list[list]) -> Diagnostic:
    """The steps that wait for each other, and the usual cause; placed on the first object of
    the cycle that waits as a whole (the grant that depends on its vault, say)."""
    whole = [step for cycle in cycles for step in cycle if not step.phase and not step.destroy]
    return error(
        "apply_cycle",
        "The apply order has a cycle",
        "These steps wait for each other: "
        + "; ".join(" -> ".join(str(step) for step in c) for c in cycles)
        + ". A `depends_on` on a vault waits for its key assignment too, so a grant the key "
        "assignment needs can't depend on the vault that way: refer to the vault's identity "
        "(identity[0].principal_id) instead. Otherwise this is a bug in the ordering rules or a "
        "configuration that needs two applies; use -target to apply one side first.",
        address=str(whole[0].address) if whole else None,
    )


def apply_order_cycle(
    plan: Plan, prior_dependencies: Mapping[InstanceAddress, Iterable[InstanceAddress]]
) -> Diagnostic | None:
    """The plan's apply order has a cycle: said at plan time rather than when the apply starts.
    Only the providers' ordering edges and later phases can make one (the configuration's own
    references are checked for cycles when it is loaded), so a plan without them isn't looked at."""
    if not plan.edges or all(c.action is Action.NO_OP for c in plan.changes):
        return None
    cycles = build_apply_graph(plan, prior_dependencies).graph.cycles()
    return cycle_error(cycles) if cycles else None


def build_apply_graph(
    plan: Plan,
    prior_dependencies: Mapping[InstanceAddress, Iterable[InstanceAddress]] | None = None,
    checked_when_unchanged: Callable[[ResourceChange], bool] | None = None,
) -> ApplyGraph:
    """``prior_dependencies``: what each object depended on in the prior state (its recorded
    dependencies). An object updated to stop using another that this plan deletes (a vault
    detaching the identity that goes) no longer names it in its configuration; the state still
    does, and the update must finish before the deletion starts.

    ``checked_when_unchanged``: which objects with nothing to do still have a step that looks at
    them - their postconditions, which terraform 1.11 evaluates again at apply, after what they
    depend on is applied (a condition on a value known only after apply can't be judged sooner)."""
    g = Graph()
    steps: dict[StepId, Step] = {}
    chains: list[tuple[ResourceChange, list[Step]]] = []
    for change in plan.changes:
        chain = steps_for(change)
        chains.append((change, chain))
        for s in chain:
            steps[s.id] = s
            g.add(s.id)
        for before, after in zip(chain, chain[1:]):
            g.connect(before.id, after.id)

    def node_for(ref: Node) -> StepId | None:
        """The step a dependency on ``ref`` (an object or one of its phases) waits for.

        None when there is nothing to wait for: an update that only changes a later phase
        (a new key for a vault) leaves the object itself as it is, so what depends on the
        object (a grant naming the vault's identity) needn't wait for the key assignment.
        """
        step = StepId.of(ref)
        if step in steps and steps[step].op is not Op.DELETE:
            return step
        base = StepId(ref.address)
        if base in steps and steps[base].op is not Op.DELETE:
            return base
        return None

    for change, chain in chains:
        first_live = next((s for s in chain if s.op is not Op.DELETE), None)
        # an object with nothing to do waits for nothing: edges into it only order what
        # doesn't run, and recorded dependencies through a later phase (a vault's key
        # assignment after the grant naming the vault) would close a cycle there
        if first_live is not None and first_live.op is not Op.NOOP:
            for dep in change.depends_on:
                src = node_for(dep)
                if src is not None and src != first_live.id:
                    log.debug("apply order: %s before %s (it depends on %s)", src, first_live.id, dep)
                    g.connect(src, first_live.id)
        for s in chain:
            if s.op is Op.PHASE:
                for dep in change.phase_depends_on.get(s.phase, ()):
                    src = node_for(dep)
                    if src is not None and src != s.id:
                        g.connect(src, s.id)

    for first, then, _why in plan.edges:
        src, dst = node_for(first), _target_for(then, steps, node_for)
        if src is not None and dst is not None and src != dst and steps[dst].op is not Op.NOOP:
            log.debug("apply order: %s before %s (rule: %s)", src, dst, _why)
            g.connect(src, dst)

    _destroy_edges(plan, g, steps, prior_dependencies or {})
    if checked_when_unchanged is not None:
        _wait_to_check(chains, g, node_for, checked_when_unchanged)
    return ApplyGraph(g, steps)


def _wait_to_check(chains, g: Graph, node_for, checked: Callable[[ResourceChange], bool]) -> None:
    """An unchanged object whose conditions are checked at apply waits for what it depends on.
    A dependency recorded through a later phase of another object can lead back to it (a
    vault's key assignment waits for the grant naming the vault); such an edge would close a
    cycle and is left out: the check then runs with the values the plan knew."""
    for change, chain in chains:
        if len(chain) != 1 or chain[0].op is not Op.NOOP or not checked(change):
            continue
        here = chain[0].id
        for dep in change.depends_on:
            src = node_for(dep)
            if src is not None and src != here and not g.reaches(here, src):
                g.connect(src, here)


def _target_for(ref: Node, steps: dict[StepId, Step], node_for) -> StepId | None:
    """Where an ordering edge ends; an edge into a phase that isn't applied is moot."""
    if StepId.of(ref) in steps:
        return StepId.of(ref)
    if ref.phase:
        return None
    return node_for(ref)


def _destroy_edges(
    plan: Plan,
    g: Graph,
    steps: dict[StepId, Step],
    prior_dependencies: Mapping[InstanceAddress, Iterable[InstanceAddress]],
) -> None:
    """Deletions run against the recorded dependencies: dependents first.

    Dependencies through a later phase (a vault's key assignment needs the grant that
    names the vault) can point both ways; an edge that would close a cycle is skipped,
    since either order is then safe to delete in.
    """
    by_address = {parse_address(c.address): c for c in plan.changes}
    chains = {a: steps_for(c) for a, c in by_address.items()}
    deleting = {a for a, chain in chains.items() if any(s.op is Op.DELETE for s in chain)}
    # the last step of each object's update, its later phases included
    last_live = {
        a: live[-1].id for a, chain in chains.items() if (live := [s for s in chain if s.op is not Op.DELETE])
    }
    deleting_by_resource: dict[object, set[InstanceAddress]] = {}
    for a in deleting:
        deleting_by_resource.setdefault(a.resource, set()).add(a)
    for address, change in by_address.items():
        direct = {d.address for d in change.depends_on}
        for recorded in prior_dependencies.get(address, ()):  # state records resources, not instances
            direct |= (
                {recorded} if recorded.key is not None else deleting_by_resource.get(recorded.resource, set())
            )
        through_phases = {d.address for ds in change.phase_depends_on.values() for d in ds} - direct
        own_live, own_destroy = StepId(address), StepId(address, destroy=True)
        for dep in sorted(direct & deleting, key=str) + sorted(through_phases & deleting, key=str):
            if dep == address:
                continue
            dep_destroy = StepId(dep, destroy=True)
            if own_destroy in steps:
                # dependents go first when both are deleted - a replacement's old object too: a
                # resource group replaced with its key vault is deleted after the key vault is
                source = own_destroy
            elif own_live in steps and _stops_using(steps[own_live].op, by_address[dep].action):
                # an update that stops using it (or uses its replacement) runs first, every phase of
                # it: a vault's key assignment with its new identity is what stops it unwrapping
                # through the old identity's grant
                source = last_live.get(address, own_live)
            else:
                continue
            if not g.g.has_edge(source, dep_destroy) and g.reaches(dep_destroy, source):
                continue
            log.debug("apply order: %s before %s (dependents are destroyed first)", source, dep_destroy)
            g.connect(source, dep_destroy)


def _stops_using(op: Op, dependency: Action) -> bool:
    """Whether a dependent's step ``op`` must finish before ``dependency``'s old object is deleted.

    A deleted object goes after the updates of what used it. A replacement made first
    (create_before_destroy) goes after what moves to the new object: the updates and creates of
    its dependents - terraform destroys the deposed object last, and Azure refuses some deletes
    while the object is in use (a backup policy that still protects a VM: BMSUserErrorPolicyInUse).
    """
    if dependency is Action.DELETE:
        return op in (Op.UPDATE, Op.NOOP)
    if dependency is Action.CREATE_THEN_DELETE:
        return op in (Op.UPDATE, Op.CREATE)
    return False

"""Apply a plan: the orchestration `apply`, `destroy` and the saved-plan apply share.

Builds the apply graph, evaluates each step with the final values of what it depends
on, runs the steps through the executor while the recorder keeps state on disk, then
records the outputs. Commands only parse their flags, call these and render what they
return: nothing here prints (progress goes through the ``Progress`` the caller passes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler import importing
from reconciler import session as steps
from reconciler.addresses import Mode
from reconciler.apply.evaluator import ApplyEvaluator, data_source_change
from reconciler.apply.executor import ApplyOptions, ApplyResult, Executor
from reconciler.apply.graph import build_apply_graph, cycle_error
from reconciler.apply.progress import ProgressReporter
from reconciler.apply.recorder import StateRecorder
from reconciler.config.evaluator import value_source
from reconciler.diagnostics import Diagnostic, DiagnosticsError, error
from reconciler.plan.model import Action, Plan
from reconciler.plan.sensitivity import output_sensitivity
from reconciler.plan.walk import PlanOptions
from reconciler.reference_shapes import resolver
from reconciler.value_shapes import output_type
from reconciler.values import UNKNOWN, is_wholly_known, unknown_as_null, unmark
from state.errors import StateError
from state.model import State


@dataclass
class ApplyOutcome:
    """What an apply did: the executor's result (None when no step ran), the state as it was
    left, and diagnostics about the outputs."""

    state: State
    result: ApplyResult | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.result is None or self.result.ok


def apply_plan(
    session: steps.Session,
    plan: Plan,
    refreshed: dict[str, dict | None] | None,
    options: PlanOptions,
    progress: ProgressReporter,
    *,
    parallelism: int = 10,
) -> ApplyOutcome:
    """Apply ``plan`` (already approved) and record every result; ``session.state`` is left
    as the state on disk."""
    if plan.moved:  # renames from moved blocks are saved before anything else happens
        session.state = session.backend.write(session.state)
    _store_as_encryption_writes(session)
    recorder = StateRecorder(
        session.backend, session.state, providers=session.providers, write_behind=True, clock=session.clock
    )
    failed: list[Diagnostic] = []  # the steps' failures, said too when the state can't be saved
    try:
        outcome = _apply_recorded(session, plan, refreshed, options, progress, recorder, parallelism, failed)
    except DiagnosticsError as exc:
        raise DiagnosticsError([*failed, *exc.diagnostics]) from None
    finally:
        try:
            session.state = recorder.close()  # every result on disk before the lock is released
        except DiagnosticsError as exc:
            raise DiagnosticsError([*failed, *exc.diagnostics]) from None
    outcome.state = session.state
    return outcome


def _apply_recorded(
    session, plan: Plan, refreshed, options: PlanOptions, progress, recorder, parallelism, failed: list
) -> ApplyOutcome:
    imported = importing.record_imports(recorder, plan, progress.imported)
    if options.refresh_only:
        recorder.accept_refreshed(plan.refreshed)
        # the outputs as the refreshed objects give them (a key rotated out of band: its id)
        evaluator = ApplyEvaluator(steps.plan_request(session, refreshed, options), plan)
        evaluator.publish_all()
        return ApplyOutcome(
            recorder.state, None, _record_outputs(session, evaluator, recorder) + evaluator.checks_final()
        )
    evaluator = ApplyEvaluator(steps.plan_request(session, refreshed, options), plan)
    graph = build_apply_graph(
        plan,
        {address: inst.dependencies for address, _res, inst in session.state.instances()},
        checked_when_unchanged=evaluator.has_postconditions,
    )
    cycles = graph.graph.cycles()
    if cycles:
        raise DiagnosticsError(cycle_error(cycles))
    evaluator.publish_all()
    _record_data_reads(plan, recorder)
    result = Executor(
        graph,
        evaluator,
        session.providers,
        recorder,
        progress,
        ApplyOptions(parallelism=max(1, parallelism)),
        clock=session.clock,
        lock_lost=session.backend.lock_lost,
    ).run()
    failed += [d for _, d in result.failed]
    result.counts["imported"] = imported
    # objects the plan leaves alone are recorded as the refresh read them (a key rotated out of band)
    recorder.accept_refreshed(
        {
            c.address: c.before
            for c in plan.changes
            if c.mode is Mode.MANAGED and c.action is Action.NO_OP and c.address in plan.refreshed
        }
    )
    # an object whose step failed or never ran (a deletion of an old one aside): the outputs made
    # of it keep what state records
    unfinished = [*(node for node, _ in result.failed), *result.skipped]
    evaluator.unsettled(graph.steps[node].change for node in unfinished if not node.destroy)
    diagnostics: list[Diagnostic] = []
    if not options.destroy:
        # with -target, the outputs the plan left out keep what state holds (as terraform's)
        planned = {o.name for o in plan.outputs} if options.targets else None
        diagnostics = (
            _record_outputs(session, evaluator, recorder, planned, settled=not unfinished)
            + evaluator.checks_final()
        )
    elif not options.targets:  # a targeted destroy leaves the outputs as they are, as terraform's
        recorder.outputs({}, {})
        if result.ok:
            recorder.data_sources_forgotten()
    return ApplyOutcome(recorder.state, result, diagnostics)


def _store_as_encryption_writes(session: steps.Session) -> None:
    """A state read through an encryption fallback (an old key, or unencrypted data being migrated)
    is stored again as the method writes it, even when the apply changes nothing; otherwise the
    write below is skipped as it changes nothing."""
    if session.encryption is None or session.encryption.state is None or session.state_stamp is None:
        return  # no encryption, or no state stored yet
    try:
        session.state = session.backend.write(session.state)
    except StateError as exc:
        raise DiagnosticsError(error("state", exc.summary, exc.detail)) from None


def record_outputs_only(
    session: steps.Session, plan: Plan, refreshed: dict[str, dict | None] | None, options: PlanOptions
) -> ApplyOutcome:
    """Nothing to apply: record the outputs' current values (a new or changed output block)."""
    if options.destroy:
        return ApplyOutcome(session.state)
    evaluator = ApplyEvaluator(steps.plan_request(session, refreshed, options), plan)
    evaluator.publish_all()
    _store_as_encryption_writes(session)
    recorder = StateRecorder(session.backend, session.state)
    _record_data_reads(plan, recorder)  # as terraform's apply with nothing to change records them
    # with -target, the outputs the plan left out keep what state holds, as after an apply
    planned = {o.name for o in plan.outputs} if options.targets else None
    diagnostics = _record_outputs(session, evaluator, recorder, planned) + evaluator.checks_final()
    return ApplyOutcome(recorder.state, None, diagnostics)


def _record_data_reads(plan: Plan, recorder: StateRecorder) -> None:
    """The data sources the plan read, into state (what ``console`` and the next plan's
    references see)."""
    changes = plan.changes_by_address()
    for address, value in plan.data_values.items():
        change = changes.get(address) or data_source_change(address)
        if change is not None:
            recorder.data_read(change, value, plan.data_sensitive_paths.get(address, ()))


def _record_outputs(
    session,
    evaluator: ApplyEvaluator,
    recorder: StateRecorder,
    planned: set[str] | None = None,
    settled: bool = True,
) -> list[Diagnostic]:
    """The root outputs into state; ``planned``: when set, only these are evaluated afresh (a
    targeted apply), the others keep their recorded values. ``settled``: every step of the apply
    finished, so what is still unknown (an index a counted resource lacks) is stored null, as
    terraform stores it; after a failed step an unknown output keeps its recorded value instead."""
    values, found = evaluator.outputs_final(planned)
    unknown: frozenset[str] = frozenset()
    if settled:
        unknown = frozenset(name for name, value in values.items() if unmark(value)[0] is UNKNOWN)
        values = {name: unknown_as_null(value) for name, value in values.items()}
    # an output whose precondition is false once its values are known fails the apply, as
    # terraform's "Module output value precondition failed"; its new value is not recorded
    failed = [d for d in found if d.is_error]
    declared = session.validated.tree.module.outputs
    for name, decl in declared.items():
        places = {v.condition.pos.range() for v in decl.preconditions}
        if any(d.range in places for d in failed):
            values.pop(name, None)
    if planned is not None:  # the others keep what state holds
        kept = recorder.state.outputs
        values = {
            name: values[name] if name in planned else kept[name].value
            for name in declared
            if (name in planned and name in values) or (name not in planned and name in kept)
        }
    sensitive: dict[str, bool] = {}
    diagnostics: list[Diagnostic] = list(failed)
    for name, decl in declared.items():
        sensitive[name], diag = output_sensitivity(
            name, decl, name in values and name in evaluator.marked_outputs, at_apply=True
        )
        if diag is not None:
            diagnostics.append(diag)
    stored = _storable(values, recorder.state)
    tree = session.validated.tree
    resolve = resolver(tree.module, children=tree.children)
    types = {}
    for name, value in stored.items():
        if not is_wholly_known(values.get(name)) or (planned is not None and name not in planned):
            # the last recorded value, kept with its type
            recorded = recorder.state.outputs[name].type
        else:
            decl = declared.get(name)
            recorded = (
                output_type(value, decl.value, resolve, value_source(decl.value, evaluator.root_scope()))
                if decl is not None
                else None
            )
        if recorded is not None:
            types[name] = recorded
    recorder.outputs(stored, sensitive, types, unknown=unknown)
    return diagnostics


def _storable(values: dict[str, Any], state: State) -> dict[str, Any]:
    """Outputs state can hold: one whose value isn't known (its resource failed) keeps its last
    recorded value, or waits for the next apply."""
    out = {}
    for name, value in values.items():
        if is_wholly_known(value):
            out[name] = value
        elif name in state.outputs:
            out[name] = state.outputs[name].value
    return out

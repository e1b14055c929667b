"""`vaultform apply [DIR]` and `vaultform destroy [DIR]`: plan, ask, apply in order."""

from __future__ import annotations

import os

from reconciler import importing
from reconciler import session as steps
from reconciler.apply.evaluator import ApplyEvaluator, data_source_change
from reconciler.apply.executor import ApplyOptions, Executor
from reconciler.apply.graph import build_apply_graph
from reconciler.apply.recorder import StateRecorder
from reconciler.cli.common import (
    add_config_flags,
    add_plan_flags,
    confirm,
    plan_options,
    positive_int,
    state_lock,
)
from reconciler.cli.flags import flag
from reconciler.cli.output import Output
from reconciler.diagnostics import DiagnosticsError, error, warning
from reconciler.plan.model import Action
from reconciler.plan.walk import PlanOptions
from reconciler.values import is_wholly_known


def setup(parser) -> None:
    add_config_flags(parser)
    add_plan_flags(parser)
    flag(parser, "auto-approve", action="store_true", help="apply without asking")


def setup_destroy(parser) -> None:
    add_config_flags(parser)
    flag(
        parser,
        "refresh",
        nargs="?",
        const=True,
        default=True,
        type=lambda t: t.lower() not in ("false", "0", "no"),
        help="read objects first (default true)",
    )
    flag(parser, "target", action="append", default=[], metavar="ADDRESS", help="destroy only this")
    flag(
        parser,
        "parallelism",
        type=positive_int,
        default=10,
        metavar="N",
        help="operations at once (default 10)",
    )
    flag(parser, "auto-approve", action="store_true", help="destroy without asking")


def run(args, out: Output) -> int:
    if os.path.isfile(args.dir):  # a saved plan (`vaultform plan -out FILE`) instead of a directory
        from reconciler.cli.cmd_apply_saved import run_saved

        return run_saved(args, out)
    return _apply(args, out, plan_options(args), "apply")


def run_destroy(args, out: Output) -> int:
    options = PlanOptions(destroy=True, targets=tuple(args.target))
    return _apply(args, out, options, "destroy")


def _apply(args, out: Output, options: PlanOptions, operation: str) -> int:
    session = steps.open_session(args.dir, cli_vars=args.var, var_files=args.var_file, state_path=args.state)
    try:
        with state_lock(session, operation, args):
            for resolved in steps.recover_pending(session, persist=True):
                out.print(f"Recovered {resolved.describe()}")
            refreshed = steps.refresh(session, args.parallelism) if args.refresh else None
            plan = importing.plan_with_imports(session, options, refreshed)
            from reconciler.plan.render_text import render_plan

            out.print(render_plan(plan, color=out.color))
            if plan.errored:
                return 1
            if not plan.has_changes and not options.refresh_only:
                _write_outputs(session, plan, refreshed, options, out, apply_nothing=True)
                return 0
            question = (
                "Do you really want to destroy all resources?"
                if options.destroy
                else "Do you want to perform these actions?"
            )
            if not confirm(out, question, args):
                out.print("\nApply cancelled.")
                return 1
            return _execute(session, plan, refreshed, options, args, out)
    finally:
        session.close()


def _execute(session, plan, refreshed, options: PlanOptions, args, out: Output) -> int:
    if plan.moved:  # renames from moved blocks are saved before anything else happens
        session.state = session.backend.write(session.state)
    recorder = StateRecorder(session.backend, session.state, providers=session.providers, write_behind=True)
    try:
        return _execute_recorded(session, plan, refreshed, options, args, out, recorder)
    finally:
        session.state = recorder.close()  # every result on disk before the lock is released


def _execute_recorded(session, plan, refreshed, options: PlanOptions, args, out: Output, recorder) -> int:
    importing.record_imports(recorder, plan)
    if options.refresh_only:
        recorder.accept_refreshed(plan.refreshed)
        out.print("\nApply complete! The state now holds the cloud's current values.")
        return 0
    graph = build_apply_graph(plan)
    cycles = graph.graph.cycles()
    if cycles:
        raise DiagnosticsError(
            error(
                "apply_cycle",
                "The apply order has a cycle",
                "These steps wait for each other: "
                + "; ".join(" -> ".join(c) for c in cycles)
                + ". This is a bug in the ordering rules or a configuration that needs two applies; "
                "use -target to apply one side first.",
            )
        )
    evaluator = ApplyEvaluator(steps.plan_request(session, refreshed, options), plan)
    evaluator.publish_all()
    for address, value in plan.data_values.items():
        change = next((c for c in plan.changes if c.address == address), None)
        recorder.data_read(change or data_source_change(address), value)
    from reconciler.apply.progress import Progress

    progress = Progress(out.out, color=out.color)
    out.print("")
    result = Executor(
        graph,
        evaluator,
        session.providers,
        recorder,
        progress,
        ApplyOptions(parallelism=max(1, args.parallelism)),
    ).run()
    # objects the plan leaves alone are recorded as the refresh read them (a key rotated out of band)
    recorder.accept_refreshed(
        {
            c.address: c.before
            for c in plan.changes
            if c.mode == "managed" and c.action is Action.NO_OP and c.address in plan.refreshed
        }
    )
    session.state = recorder.state
    if not options.destroy:
        values, diags = evaluator.outputs_final()
        sensitive = _sensitive_outputs(session, values, evaluator.marked_outputs, out)
        recorder.outputs(_storable(values, recorder.state), sensitive)
    else:
        recorder.outputs({}, {})
    failures = [(node, diag) for node, diag in result.failed]
    progress.summary(result.counts, failures, verb="Destroy" if options.destroy else "Apply")
    out.diagnostics([d for _, d in failures])
    if result.interrupted:
        out.err.write("\nInterrupted: operations that had started finished and are recorded in state.\n")
    _print_outputs(recorder.state, out)
    return 0 if result.ok else 1


def _write_outputs(session, plan, refreshed, options, out: Output, apply_nothing: bool) -> None:
    if options.destroy:
        return
    evaluator = ApplyEvaluator(steps.plan_request(session, refreshed, options), plan)
    evaluator.publish_all()
    values, _diags = evaluator.outputs_final()
    sensitive = _sensitive_outputs(session, values, evaluator.marked_outputs, out)
    recorder = StateRecorder(session.backend, session.state)
    recorder.outputs(_storable(values, recorder.state), sensitive)
    out.print("\nApply complete! Resources: 0 added, 0 changed, 0 destroyed.")
    _print_outputs(recorder.state, out)


def _sensitive_outputs(session, values: dict, marked: set[str], out: Output) -> dict[str, bool]:
    """Declared sensitive outputs, and any whose value carried a sensitive mark."""
    declared = session.validated.tree.module.outputs
    sensitive = {name: o.sensitive for name, o in declared.items()}
    for name in values:
        if not sensitive.get(name) and name in marked:
            sensitive[name] = True
            out.diagnostics(
                [
                    warning(
                        "sensitive_output",
                        f'Output "{name}" carries a sensitive value',
                        f'It is stored and shown as sensitive. Add sensitive = true to output "{name}".',
                        range=declared[name].pos.range() if name in declared else None,
                    )
                ]
            )
    return sensitive


def _storable(values: dict, state) -> dict:
    """Outputs state can hold: one whose value isn't known (its resource failed) keeps its last
    recorded value, or waits for the next apply."""
    out = {}
    for name, value in values.items():
        if is_wholly_known(value):
            out[name] = value
        elif name in state.outputs:
            out[name] = state.outputs[name].value
    return out


def _print_outputs(state, out: Output) -> None:
    if not state.outputs:
        return
    out.print("\nOutputs:\n")
    for name in sorted(state.outputs):
        o = state.outputs[name]
        shown = "<sensitive>" if o.sensitive else _show(o.value)
        out.print(f"{name} = {shown}")


def _show(value) -> str:
    import json

    return json.dumps(value) if not isinstance(value, str) else f'"{value}"'

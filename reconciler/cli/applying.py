"""Apply an approved plan and render what happened: shared by `apply`, `destroy` and the
saved-plan apply. The work is ``reconciler.apply.run``'s; this module only renders."""

from __future__ import annotations

import json

from reconciler.apply.progress import Progress
from reconciler.apply.run import apply_plan, record_outputs_only
from reconciler.cli.output import Output
from reconciler.plan.walk import PlanOptions


def apply_and_render(session, plan, refreshed, options: PlanOptions, parallelism: int, out: Output) -> int:
    progress = Progress(out.out, color=out.color, clock=session.clock.monotonic)
    if not options.refresh_only:
        out.print("")
    outcome = apply_plan(session, plan, refreshed, options, progress, parallelism=parallelism)
    if outcome.result is None:
        out.print("\nApply complete! The state now holds the cloud's current values.")
        return 0
    out.diagnostics(outcome.diagnostics)
    result = outcome.result
    failures = [(str(node), diag) for node, diag in result.failed]
    progress.summary(result.counts, failures, verb="Destroy" if options.destroy else "Apply")
    out.diagnostics([d for _, d in failures])
    if result.interrupted:
        out.err.write("\nInterrupted: operations that had started finished and are recorded in state.\n")
    print_outputs(outcome.state, out)
    return 0 if result.ok else 1


def outputs_and_render(session, plan, refreshed, options: PlanOptions, out: Output) -> None:
    """Nothing to apply: record the outputs and say so."""
    if options.destroy:
        return
    outcome = record_outputs_only(session, plan, refreshed, options)
    out.diagnostics(outcome.diagnostics)
    out.print("\nApply complete! Resources: 0 added, 0 changed, 0 destroyed.")
    print_outputs(outcome.state, out)


def print_outputs(state, out: Output) -> None:
    if not state.outputs:
        return
    out.print("\nOutputs:\n")
    for name in sorted(state.outputs):
        o = state.outputs[name]
        shown = "<sensitive>" if o.sensitive else _show(o.value)
        out.print(f"{name} = {shown}")


def _show(value) -> str:
    return json.dumps(value) if not isinstance(value, str) else f'"{value}"'

"""Apply an approved plan and render what happened: shared by `apply`, `destroy` and the
saved-plan apply. The work is ``reconciler.apply.run``'s; this module only renders."""

from __future__ import annotations

import dataclasses

from providers.drift_protocol import ChangeKind
from reconciler.apply.progress import Progress, ProgressReporter
from reconciler.cli.json_ui import JsonProgress, resource_identity
from reconciler.cli.output import Output, display_path
from reconciler.diagnostic_places import all_placed
from reconciler.diagnostics import Diagnostic, error
from reconciler.drift.in_plan import critical_warnings, outside_changes, render_outside
from reconciler.plan.model import Action
from reconciler.plan.render_text import render_plan
from reconciler.plan.targeting import applied_with_targets_warning
from reconciler.plan.walk import CHECK_FAILED, PlanOptions
from reconciler.value_shapes import shape_of_type
from reconciler.value_text import format_value


def note_outside_changes(session, refreshed, plan, out: Output) -> list:
    """Before the plan: what the refresh found changed outside vaultform (terraform's note),
    and a warning in the plan for each change that breaks backups or restores."""
    records = outside_changes(session, refreshed, plan)
    if plan.refresh_only:  # what a refresh-only plan has to record
        plan.outside_changes = len({r.address for r in records})
    plan.diagnostics.extend(critical_warnings(records, refused=any(d.is_error for d in plan.diagnostics)))
    if out.json_ui is not None:
        for address in sorted({r.address for r in records}):
            gone = any(r.kind is ChangeKind.DELETED and not r.path for r in records if r.address == address)
            action = "delete" if gone else "update"
            out.json_ui.emit(
                "resource_drift",
                f"{address}: Drift detected ({action})",
                change={"resource": resource_identity(address), "action": action},
            )
    elif records:
        out.print(render_outside(records, color=out.color))
    return records


def show_plan(plan, out: Output, *, compact_warnings: bool = False, applying: bool = False) -> None:
    """The plan before apply: Terraform's text, or under -json its planned-change messages.
    ``applying``: the plan is about to be applied, and the check blocks' assertions are told after
    the apply, against what it made (as terraform's apply does), not here."""
    if applying and any(d.code == CHECK_FAILED for d in plan.diagnostics):
        plan = dataclasses.replace(plan, diagnostics=[d for d in plan.diagnostics if d.code != CHECK_FAILED])
    if out.json_ui is None:
        out.print(
            render_plan(
                plan,
                color=out.color,
                sources=out.sources,
                display_path=display_path,
                compact_warnings=compact_warnings,
            )
        )
        return
    ui = out.json_ui
    ui.diagnostics(plan.diagnostics)
    ui.planned_changes(plan)
    ui.change_summary(plan.counts(), "plan", imported=sum(1 for c in plan.changes if c.importing))
    ui.plan_outputs(plan)


def apply_and_render(
    session,
    plan,
    refreshed,
    options: PlanOptions,
    parallelism: int,
    out: Output,
    command: str = "apply",
    *,
    shown_plan: bool = True,
) -> int:
    """``command``: the one the user ran; as terraform's, `destroy` ends "Destroy complete!" and
    shows no outputs, `apply` ends "Apply complete!" whatever it did (apply -destroy too).
    ``shown_plan``: the plan was just shown (a blank line parts it from the progress); a saved
    plan's apply starts with its first step."""
    progress: ProgressReporter
    if out.json_ui is not None:
        progress = JsonProgress(out.json_ui, clock=session.clock.monotonic)
    else:
        progress = Progress(out.out, color=out.color, clock=session.clock.monotonic)
        steps = any(c.action is not Action.NO_OP or c.importing for c in plan.changes)
        if not options.refresh_only and shown_plan and steps:  # a blank line before the first step's
            out.print("")
    from reconciler.apply.run import apply_plan  # the apply engine is loaded only to apply

    outcome = apply_plan(session, plan, refreshed, options, progress, parallelism=parallelism)
    if outcome.result is None:  # a refresh-only apply: the state takes what the refresh read
        _nothing_applied(outcome, out, command)
        return 0
    result = outcome.result
    tree = session.validated.module_tree
    output_errors = [d for d in outcome.diagnostics if d.is_error]
    out.diagnostics(all_placed(result.warnings + [d for d in outcome.diagnostics if not d.is_error], tree))
    if output_errors and result.ok:
        # the objects are applied and recorded; an output's precondition failed on their values:
        # as terraform, the error ends the apply (no "Apply complete!", exit 1)
        out.diagnostics(output_errors)
        return 1
    if options.targets:
        out.diagnostics([applied_with_targets_warning()])
    # each failure points at the block of the object it names, as terraform's do
    placed_failures = all_placed([d for _, d in result.failed], tree)
    failures = [(str(node), diag) for (node, _), diag in zip(result.failed, placed_failures, strict=True)]
    if result.interrupted:
        # as terraform's: an interrupted apply doesn't end "Apply complete!" but "execution halted"
        out.diagnostics([d for _, d in failures] + [halted()])
        return 1
    progress.summary(result.counts, failures, verb="Destroy" if command == "destroy" else "Apply")
    out.diagnostics([d for _, d in failures])
    if not result.ok:
        return 1  # as terraform's apply: no outputs after a failed apply (they are in state)
    if command != "destroy":
        print_outputs(outcome.state, out)
    return 0


def _say(out: Output, text: str) -> None:
    if out.json_ui is not None:
        out.json_ui.emit("log", text.strip())
    else:
        out.print(text)


def outputs_and_render(
    session, plan, refreshed, options: PlanOptions, out: Output, command: str = "apply"
) -> None:
    """Nothing to apply: record the outputs and say so (a destroy has none to record)."""
    if options.destroy:
        _nothing_applied(None, out, command)
        return
    from reconciler.apply.run import record_outputs_only

    _nothing_applied(record_outputs_only(session, plan, refreshed, options), out, command)


def _nothing_applied(outcome, out: Output, command: str) -> None:
    """An apply that changed no object ends as terraform's does: the summary of nothing, then the
    outputs (``outcome``: what was recorded; None for a destroy, which shows none)."""
    if outcome is not None:
        out.diagnostics(outcome.diagnostics)
    if out.json_ui is not None:
        out.json_ui.change_summary({}, "destroy" if command == "destroy" else "apply")
    elif command == "destroy":
        out.print("\nDestroy complete! Resources: 0 destroyed.")
    else:
        out.print("\nApply complete! Resources: 0 added, 0 changed, 0 destroyed.")
    if outcome is not None:
        print_outputs(outcome.state, out)


def print_outputs(state, out: Output) -> None:
    if out.json_ui is not None:
        out.json_ui.applied_outputs(state.outputs)
        return
    if not state.outputs:
        return
    out.print("\nOutputs:\n\n")  # a blank line under the heading, as terraform prints it
    for name in sorted(state.outputs):
        o = state.outputs[name]
        shown = "<sensitive>" if o.sensitive else format_value(o.value, shape=shape_of_type(o.type))
        out.print(f"{name} = {shown}")


def halted() -> Diagnostic:
    """What an interrupted apply ends with: terraform's summary, vaultform's account of the state."""
    return error(
        "interrupted",
        "execution halted",
        "Interrupted: operations that had started finished and are recorded in state; the rest did "
        "not start. Run plan to see what is left to do.",
    )

"""`vaultform plan [DIR]`: refresh, plan, show - and change nothing."""

from __future__ import annotations

from pathlib import Path

from reconciler import importing
from reconciler import session as steps
from reconciler.apply.progress import format_duration
from reconciler.cli.applying import note_outside_changes
from reconciler.cli.common import add_config_flags, add_plan_flags, plan_options, state_lock, variable_prompt
from reconciler.cli.flags import flag
from reconciler.cli.output import Output
from reconciler.diagnostics import DiagnosticsError, error


def setup(parser) -> None:
    add_config_flags(parser)
    add_plan_flags(parser)
    flag(
        parser,
        "json",
        action="store_true",
        help="Terraform's machine-readable UI: one JSON message a line (the plan itself: show -json PLANFILE)",
    )
    flag(
        parser, "markdown", metavar="FILE", default=None, help="also write the plan as markdown (PR comment)"
    )
    flag(parser, "detailed-exitcode", action="store_true", help="exit 2 when there are changes, 0 when none")
    flag(
        parser,
        "out",
        metavar="FILE",
        default=None,
        help="save the plan to FILE, for `vaultform apply FILE` (secrets sealed with the key in "
        "VAULTFORM_PLAN_KEY, else ~/.vaultform/plan.key)",
    )


def refresh_reporter(out: Output):
    """What a refresh says of each object it reads: Terraform's 'Refreshing state...' lines."""
    if out.json_ui is not None:
        return out.json_ui.refreshing

    def report(address: str, id_value: str | None, done: bool) -> None:
        if not done:
            out.print(f"{address}: Refreshing state... [id={id_value}]")

    return report


def data_read_reporter(out: Output):
    """What planning says of each data source it reads: Terraform's 'Reading...' and 'Read complete
    after 0s [id=...]' lines (internal/command/views/hook_ui.go, PreApply/PostApply with plans.Read)."""
    if out.json_ui is not None:
        return out.json_ui.reading

    def report(address: str, done: bool, id_value: str | None, elapsed: float) -> None:
        if not done:
            out.print(f"{address}: Reading...")
        else:
            suffix = f" [id={id_value}]" if id_value else ""
            out.print(f"{address}: Read complete after {format_duration(elapsed)}{suffix}")

    return report


def make(args, operation: str = "plan", out: Output | None = None):
    session = steps.open_session(
        args.dir,
        cli_vars=args.var,
        var_files=args.var_file,
        state_path=args.state,
        ask=variable_prompt(args, out) if out is not None else None,
    )
    report = refresh_reporter(out) if out is not None else None
    if out is not None:
        session.data_reads = data_read_reporter(out)
    try:
        with state_lock(session, operation, args):
            refreshed = steps.refresh(session, args.parallelism, report=report) if args.refresh else None
            plan = importing.plan_with_imports(session, plan_options(args), refreshed)
            if out is not None:
                note_outside_changes(session, refreshed, plan, out)
    except BaseException:
        session.close()
        raise
    return session, plan


def show(plan, args, out: Output) -> None:
    from reconciler.plan.render_markdown import render_markdown
    from reconciler.plan.render_text import render_plan

    if out.json_ui is not None:
        ui = out.json_ui
        ui.diagnostics(plan.diagnostics)
        ui.planned_changes(plan)
        ui.change_summary(plan.counts(), "plan", imported=sum(1 for c in plan.changes if c.importing))
        ui.plan_outputs(plan)
    else:
        out.print(
            render_plan(plan, color=out.color, compact_warnings=getattr(args, "compact_warnings", False))
        )
    if getattr(args, "markdown", None):
        try:
            Path(args.markdown).write_text(render_markdown(plan))
        except OSError as exc:
            raise DiagnosticsError(
                error(
                    "markdown_write",
                    f"Could not write the markdown plan to {args.markdown}",
                    f"{exc.strerror or exc}. Give -markdown a file in a directory that "
                    "exists and can be written.",
                )
            ) from exc


def run(args, out: Output) -> int:
    session, plan = make(args, out=out)
    try:
        show(plan, args, out)
        if plan.errored:
            return 1
        if getattr(args, "out", None):
            save(session, plan, args, out)
        if args.detailed_exitcode and plan.has_changes:
            return 2
        return 0
    finally:
        session.close()


def save(session, plan, args, out: Output) -> None:
    from reconciler import backend_select
    from reconciler.plan.planfile import save_plan

    save_plan(
        plan,
        args.out,
        config_dir=session.root,
        state_path=args.state,
        options=plan_options(args),
        sensitive_variables=session.sensitive_variables,
        tree=session.validated.tree,
        encryption=session.encryption.plan if session.encryption is not None else None,
        workspace=backend_select.current_workspace(session.root),
    )
    if not getattr(args, "json", False):
        out.print(
            f"\nSaved the plan to: {args.out}\n\nTo perform exactly these actions, run:\n"
            f"  vaultform apply {args.out}"
        )

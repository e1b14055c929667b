"""`vaultform plan [DIR]`: refresh, plan, show - and change nothing."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from reconciler import genconfig, importing
from reconciler import session as steps
from reconciler.apply.progress import format_delay, format_duration
from reconciler.cli import collector
from reconciler.cli.applying import note_outside_changes, show_plan
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
    flag(
        parser,
        "generate-config-out",
        metavar="PATH",
        default=None,
        help="(experimental) for import blocks whose target has no resource block, read each object "
        "and write its resource block into a new file at PATH (relative to DIR), which must not already "
        "exist; the plan includes those blocks. Nothing is written when an object can't be read; the file may still "
        "be written if the plan itself errors",
    )


def refresh_reporter(out: Output):
    """What a refresh says of each object it reads: Terraform's 'Refreshing state...' lines."""
    if out.json_ui is not None:
        return out.json_ui.refreshing

    def report(address: str, id_value: str | None, done: bool) -> None:
        if not done:
            out.print(f"{address}: Refreshing state... [id={id_value}]")

    return report


def import_read_reporter(out: Output):
    """What planning says of each object an import block reads: terraform's "Preparing import..."
    and "Refreshing state..." lines, or under -json the refresh it streams for the read."""
    if out.json_ui is not None:
        return out.json_ui.refreshing

    def report(address: str, id_value: str, done: bool) -> None:
        if not done:
            out.print(f"{address}: Preparing import... [id={id_value}]")
            out.print(f"{address}: Refreshing state... [id={id_value}]")

    return report


def read_wait_reporter(out: Output):
    """What resolving a crashed run's operations says while Azure refuses a read for now (a grant
    the stopped run made still on its way): the apply's own words for a wait."""

    def report(address: str, reason: str, delay: float) -> None:
        first = (reason.strip().splitlines() or [""])[0].rstrip(" .")
        if out.json_ui is not None:
            out.json_ui.emit(
                "log", f"{address}: {first}; checking again in {format_delay(delay)}", level="info"
            )
        else:
            out.print(f"{address}: {first}; checking again in {format_delay(delay)}...")

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


def generate_target(args) -> str | None:
    """Where -generate-config-out writes: a relative path is taken in the configuration directory,
    whose next plan must find the blocks (terraform 1.11 plans the working directory, where a
    relative path lands, also with -chdir); an absolute one as given."""
    path: str | None = getattr(args, "generate_config_out", None)
    if not path or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(args.dir, path))


def check_generate_target(args) -> None:
    """Terraform's refusals before anything is read (internal/backend/local/backend_plan.go)."""
    path = generate_target(args)
    if not path:
        return
    options = plan_options(args)
    if options.destroy or options.refresh_only:
        raise DiagnosticsError(
            error(
                "generate_config_mode",
                "Invalid generate-config-out flag",
                "Config can only be generated during a normal plan operation, and not during a "
                "refresh-only or destroy plan.",
            )
        )
    problem = genconfig.check_target(path)
    if problem is not None:
        raise DiagnosticsError(problem)


def _generate(session, path: str) -> list[tuple[str, str, str]]:
    """Read the objects of import blocks without resource blocks and plan with their blocks."""
    generated = importing.generate_config(session)
    if generated:
        text = genconfig.file_text([(ident, block) for _address, ident, block in generated])
        steps.with_generated_config(session, path, text)
    return generated


def _write_generated(plan, generated: list[tuple[str, str, str]], path: str) -> None:
    """Write the file (before the plan is shown, as terraform does) and mark the changes it configures."""
    genconfig.write(path, genconfig.file_text([(ident, block) for _address, ident, block in generated]))
    blocks = {address: block for address, _ident, block in generated}
    plan.changes = [
        replace(c, generated_config=blocks[c.address]) if c.address in blocks and c.importing else c
        for c in plan.changes
    ]
    plan.diagnostics.append(genconfig.experimental_warning())


def make(args, operation: str = "plan", out: Output | None = None):
    plan_options(args)  # a malformed -target or -replace is refused before anything is read
    check_generate_target(args)
    with collector.loading():  # the configuration and the state live to the end of the command
        session = steps.open_session(
            args.dir,
            variables=args.variable_flags,
            state_path=args.state,
            ask=variable_prompt(args, out) if out is not None else None,
        )
    report = refresh_reporter(out) if out is not None else None
    if out is not None:
        session.data_reads = data_read_reporter(out)
        session.read_waits = read_wait_reporter(out)
        session.import_reads = import_read_reporter(out)
    generate_out = generate_target(args)
    try:
        with state_lock(session, operation, args):
            generated = _generate(session, generate_out) if generate_out else []
            refreshed = (
                steps.refresh(
                    session,
                    args.parallelism,
                    report=report,
                    every_object=args.destroy or getattr(args, "refresh_only", False),
                    targets=plan_options(args).targets,
                    destroy=args.destroy,
                )
                if args.refresh
                else None
            )
            with collector.paused(keep=True):  # the walk makes next to no garbage cycles; the plan is kept
                plan = importing.plan_with_imports(session, plan_options(args), refreshed)
            if generated and generate_out:
                _write_generated(plan, generated, generate_out)
            if out is not None:
                note_outside_changes(session, refreshed, plan, out)
    except BaseException:
        session.close()
        raise
    return session, plan


def show(plan, args, out: Output) -> None:
    from reconciler.plan.render_markdown import render_markdown

    show_plan(plan, out, compact_warnings=getattr(args, "compact_warnings", False))
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
        if any(c.generated_config for c in plan.changes) and not getattr(args, "json", False):
            out.print("\n" + genconfig.written_message(generate_target(args) or ""))
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
    if not getattr(args, "json", False) and plan.has_changes:  # as terraform's: said of a plan to apply
        out.print(
            f"\nSaved the plan to: {args.out}\n\nTo perform exactly these actions, run:\n"
            f"  vaultform apply {args.out}"
        )

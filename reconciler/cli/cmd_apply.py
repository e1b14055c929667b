"""`vaultform apply [DIR]` and `vaultform destroy [DIR]`: plan, ask, apply in order."""

from __future__ import annotations

import argparse
import os

from reconciler import backend_select, importing
from reconciler import session as steps
from reconciler.cli.applying import apply_and_render, note_outside_changes, outputs_and_render, show_plan
from reconciler.cli.cmd_apply_saved import run_saved
from reconciler.cli.cmd_plan import (
    data_read_reporter,
    import_read_reporter,
    read_wait_reporter,
    refresh_reporter,
)
from reconciler.cli.common import (
    add_config_flags,
    add_plan_flags,
    confirm,
    plan_mode_conflict,
    plan_options,
    positive_int,
    state_lock,
    variable_prompt,
)
from reconciler.cli.flags import bool_flag, flag
from reconciler.cli.output import Output
from reconciler.diagnostics import Diagnostic, DiagnosticsError, error
from reconciler.plan.walk import PlanOptions

# as terraform asks it: nothing in the cloud changes, and there is no undo
# terraform's questions before it applies: (the question, what follows it, the word when refused)
QUESTIONS: dict[str, tuple[str, str, str]] = {
    "apply": (
        "Do you want to perform these actions?",
        "vaultform will perform the actions described above.\n  Only 'yes' will be accepted to approve.",
        "Apply cancelled.",
    ),
    "destroy": (
        "Do you really want to destroy all resources?",
        "vaultform will destroy all your managed infrastructure, as shown above.\n"
        "  There is no undo. Only 'yes' will be accepted to confirm.",
        "Destroy cancelled.",
    ),
    "refresh-only": (
        "Would you like to update the state to reflect these detected changes?",
        "vaultform will write these changes to the state without modifying any real infrastructure.\n"
        "  There is no undo. Only 'yes' will be accepted to confirm.",
        "Apply cancelled.",
    ),
}
JSON_HELP = "Terraform's machine-readable UI: one JSON message a line (needs -auto-approve or a saved plan)"


def setup(parser) -> None:
    add_config_flags(parser)
    add_plan_flags(parser)
    flag(parser, "auto-approve", action="store_true", help="apply without asking")
    flag(parser, "json", action="store_true", help=JSON_HELP)


def setup_destroy(parser) -> None:
    add_config_flags(parser)
    bool_flag(parser, "refresh", True, "read objects first (default true)")
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
    flag(parser, "refresh-only", action="store_true", help=argparse.SUPPRESS)  # refused, as terraform's
    flag(parser, "json", action="store_true", help=JSON_HELP)


def run(args, out: Output) -> int:
    if os.path.isfile(args.dir):  # a saved plan (`vaultform plan -out FILE`) instead of a directory
        return run_saved(args, out)
    if not os.path.exists(args.dir):  # which of the two was meant can't be told: name both
        raise DiagnosticsError(
            error(
                "no_configuration",
                f"Nothing at {args.dir}: no saved plan and no configuration directory",
                "Give apply the file `vaultform plan -out FILE` wrote (a refused or failed plan writes "
                "none), or the directory that holds your .tf files.",
            )
        )
    _refuse(_approval_problem(args, out), plan_mode_conflict(args))
    return _apply(args, out, plan_options(args), "apply")


def run_destroy(args, out: Output) -> int:
    _refuse(
        _approval_problem(args, out),
        error(
            "usage",
            "Invalid mode option",
            'The -refresh-only option is not valid for "vaultform destroy".',
        )
        if args.refresh_only
        else None,
    )
    options = PlanOptions(destroy=True, targets=tuple(args.target))
    return _apply(args, out, options, "destroy")


def _approval_problem(args, out: Output) -> Diagnostic | None:
    """-json can't ask for approval: terraform 1.11's words when neither a saved plan nor
    -auto-approve stands in for it."""
    if out.json_ui is None or args.auto_approve:
        return None
    return error(
        "usage",
        "Plan file or auto-approve required",
        "vaultform cannot ask for interactive approval when -json is set. You can either apply a "
        "saved plan file, or enable the -auto-approve option.",
    )


def _refuse(*problems: Diagnostic | None) -> None:
    """Every flag problem at once, in terraform's order, before anything is read."""
    found = [p for p in problems if p is not None]
    if found:
        raise DiagnosticsError(found)


def _apply(args, out: Output, options: PlanOptions, operation: str) -> int:
    session = steps.open_session(
        args.dir,
        variables=args.variable_flags,
        state_path=args.state,
        ask=variable_prompt(args, out) if out is not None else None,
    )
    session.data_reads = data_read_reporter(out)
    session.read_waits = read_wait_reporter(out)
    session.import_reads = import_read_reporter(out)
    try:
        with state_lock(session, operation, args):
            for resolved in steps.recover_pending(session, persist=True):
                out.print(f"Recovered {resolved.describe()}")
            refreshed = (
                steps.refresh(
                    session,
                    args.parallelism,
                    report=refresh_reporter(out),
                    every_object=options.destroy or options.refresh_only,
                    targets=options.targets,
                    destroy=options.destroy,
                )
                if args.refresh
                else None
            )
            plan = importing.plan_with_imports(session, options, refreshed)
            outside = note_outside_changes(session, refreshed, plan, out)
            show_plan(plan, out, compact_warnings=args.compact_warnings, applying=True)
            if plan.errored:
                return 1
            if options.refresh_only and not outside:
                outputs_and_render(session, plan, refreshed, options, out, operation)  # as terraform's
                return 0
            if not plan.has_changes and not options.refresh_only:
                outputs_and_render(session, plan, refreshed, options, out, operation)
                return 0
            kind = "destroy" if options.destroy else "refresh-only" if options.refresh_only else "apply"
            question, terms, refused = QUESTIONS[kind]
            workspace = backend_select.current_workspace(session.root)
            if workspace != "default" and kind != "refresh-only":  # terraform names any other one
                question = f'{question[:-1]} in workspace "{workspace}"?'
            if not confirm(out, question, terms, args):
                out.print(f"\n{refused}")
                return 1
            return apply_and_render(session, plan, refreshed, options, args.parallelism, out, operation)
    finally:
        session.close()

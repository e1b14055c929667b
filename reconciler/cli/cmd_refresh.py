"""`vaultform refresh [DIR]`: take the cloud's current values into state, without asking.

Terraform keeps `terraform refresh` as the older spelling of `apply -refresh-only -auto-approve`,
and many scripts still run it. As terraform's (backend/local refresh, 1.11): the reads, then the
outputs; no plan is shown and nothing is asked. An empty state is a warning, not an error.
"""

from __future__ import annotations

from reconciler import session as steps
from reconciler.apply.progress import Progress, ProgressReporter
from reconciler.apply.run import apply_plan
from reconciler.cli.applying import print_outputs
from reconciler.cli.cmd_apply import JSON_HELP
from reconciler.cli.cmd_plan import data_read_reporter, read_wait_reporter, refresh_reporter
from reconciler.cli.common import add_config_flags, positive_int, state_lock, variable_prompt
from reconciler.cli.flags import flag
from reconciler.cli.json_ui import JsonProgress
from reconciler.cli.output import Output
from reconciler.diagnostics import warning
from reconciler.plan.targeting import applied_with_targets_warning
from reconciler.plan.walk import PlanOptions

EMPTY_STATE = warning(
    "empty_state",
    "Empty or non-existent state",
    "There are currently no remote objects tracked in the state, so there is nothing to refresh.",
)


def setup(parser) -> None:
    add_config_flags(parser)
    flag(parser, "target", action="append", default=[], metavar="ADDRESS", help="refresh only this")
    flag(parser, "parallelism", type=positive_int, default=10, metavar="N", help="reads at once (default 10)")
    flag(parser, "json", action="store_true", help=JSON_HELP.split(" (")[0])


def run(args, out: Output) -> int:
    session = steps.open_session(
        args.dir,
        variables=args.variable_flags,
        state_path=args.state,
        ask=variable_prompt(args, out),
    )
    session.data_reads = data_read_reporter(out)
    session.read_waits = read_wait_reporter(out)
    options = PlanOptions(refresh_only=True, targets=tuple(args.target))
    try:
        with state_lock(session, "refresh", args):
            if not any(True for _ in session.state.instances()):
                out.diagnostics([EMPTY_STATE])
                return 0
            for resolved in steps.recover_pending(session, persist=True):
                out.print(f"Recovered {resolved.describe()}")
            refreshed = steps.refresh(
                session,
                args.parallelism,
                report=refresh_reporter(out),
                every_object=True,
                targets=options.targets,
            )
            plan = steps.plan(session, options, refreshed)
            if plan.errored:
                out.diagnostics(plan.diagnostics)
                return 1
            progress: ProgressReporter = (
                JsonProgress(out.json_ui, clock=session.clock.monotonic)
                if out.json_ui is not None
                else Progress(out.out, color=out.color, clock=session.clock.monotonic)
            )
            outcome = apply_plan(session, plan, refreshed, options, progress, parallelism=args.parallelism)
            out.diagnostics([d for d in plan.diagnostics if not d.is_error] + outcome.diagnostics)
            if options.targets:
                out.diagnostics([applied_with_targets_warning()])
            print_outputs(outcome.state, out)
            return 0
    finally:
        session.close()

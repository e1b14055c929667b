"""`vaultform drift [DIR]`: read every managed object, compare with state and configuration, change nothing.

Exit 0 no drift, 2 drift (changed, deleted or unmanaged objects), 1 error (including
objects that could not be read when nothing else drifted).
"""

from __future__ import annotations

from pathlib import Path

from reconciler import session as steps
from reconciler.apply.progress import format_delay
from reconciler.cli.common import add_config_flags, positive_int, state_lock
from reconciler.cli.flags import flag
from reconciler.cli.output import Output
from reconciler.diagnostics import DiagnosticsError, error
from reconciler.drift.render import render_json, render_markdown, render_text
from reconciler.drift.run import drift_report


def setup(parser) -> None:
    add_config_flags(parser)
    flag(parser, "json", action="store_true", help="the report as JSON (reconciler/drift/SCHEMA.md)")
    flag(parser, "markdown", metavar="FILE", default=None, help="also write the report as markdown")
    flag(parser, "parallelism", type=positive_int, default=10, metavar="N", help="reads at once (default 10)")


def run(args, out: Output) -> int:
    def progress(line: str) -> None:
        out.err.write(f"drift: {line}\n")
        out.err.flush()

    session = steps.open_session(args.dir, variables=args.variable_flags, state_path=args.state)
    session.read_waits = lambda address, reason, delay: progress(
        f"{address}: {(reason.strip().splitlines() or [''])[0].rstrip(' .')}; checking again in {format_delay(delay)}"
    )
    try:
        with state_lock(session, "drift", args):
            report = drift_report(session, args.parallelism, progress)
    finally:
        session.close()
    if args.json:
        out.print(render_json(report))
    else:
        out.print(render_text(report, color=out.color))
    if args.markdown:
        try:
            Path(args.markdown).write_text(render_markdown(report))
        except OSError as exc:
            raise DiagnosticsError(
                error(
                    "markdown_write",
                    f"Can't write {args.markdown}",
                    f"{exc.strerror or exc}; choose a writable path for -markdown.",
                )
            ) from exc
    return report.exit_code

"""`vaultform force-unlock [DIR] LOCK_ID [-force]`: remove a lock left behind by a run that ended.

Only a lock whose id is named, and that no live process holds, is removed
(``state.lock.force_unlock``); a running run's lock is never taken away. Without ``-force``
vaultform asks first, because removing a lock that is in use lets two runs write at once.
"""

from __future__ import annotations

import argparse
import sys

from reconciler.cli.common import force_unlock_command
from reconciler.cli.flags import UsageError, bool_flag, flag
from reconciler.cli.output import Output
from reconciler.cli.state_files import backend_for
from reconciler.diagnostics import DiagnosticsError, error
from state.lock import LockError


def setup(parser) -> None:
    parser.usage = "vaultform force-unlock [options] [DIR] LOCK_ID"
    # [DIR] LOCK_ID: told apart by their number in run() (argparse would take a lone word for DIR)
    parser.add_argument("words", nargs="*", metavar="[DIR] LOCK_ID", help=argparse.SUPPRESS)
    flag(parser, "force", action="store_true", help="do not ask for confirmation")
    flag(parser, "state", metavar="PATH", default=None, help="state file (default: DIR/vaultform.tfstate)")
    flag(parser, "no-color", action="store_true", help="no colour in the output")
    bool_flag(parser, "input", True, "ask for input on a terminal (default true)")


def _with_force(command: str) -> str:
    return command.replace(" force-unlock ", " force-unlock -force ", 1)


def _confirm(out: Output, args, lock_id: str, command) -> bool:
    if args.force:
        return True
    if not args.input or not sys.stdin.isatty():
        raise DiagnosticsError(
            error(
                "approval_needed",
                "Approval needed to remove the lock",
                f"Removing a lock that a run still uses lets two runs write the state at once. There is no "
                f"terminal to ask on: run `{_with_force(command(lock_id))}` once you are sure the run that "
                "held it has ended.",
            )
        )
    out.print(
        f"Do you really want to force-unlock?\n  vaultform will remove the lock {lock_id} on the state. "
        "Only 'yes' will be accepted to confirm.\n"
    )
    out.out.write("  Enter a value: ")
    out.out.flush()
    return sys.stdin.readline().strip() == "yes"


def run(args, out: Output) -> int:
    if not args.words:
        raise UsageError(
            "Expected a single argument: LOCK_ID (the id the locked run printed)"
            "\n\nusage: vaultform force-unlock [options] [DIR] LOCK_ID"
        )
    if len(args.words) > 2:
        raise UsageError(
            "force-unlock takes one LOCK_ID (the id a locked run prints), after an optional DIR"
            "\n\nusage: vaultform force-unlock [options] [DIR] LOCK_ID"
        )
    directory, lock_id = args.words if len(args.words) == 2 else [".", args.words[0]]
    backend = backend_for(args.state, directory)
    command = force_unlock_command(backend, args)
    if not _confirm(out, args, lock_id, command):
        out.print("\nforce-unlock cancelled.")
        return 1
    try:
        info = backend.force_unlock(lock_id, unlock_command=command)
    except LockError as exc:
        raise DiagnosticsError(error("state_lock", exc.summary, exc.detail)) from None
    out.print(
        f"vaultform state has been successfully unlocked!\n\n"
        f"Removed the lock {info.id} ({info.describe()}). The state is unlocked; look at it "
        "(`vaultform state list`) before the next apply, as that run may have stopped midway."
    )
    return 0

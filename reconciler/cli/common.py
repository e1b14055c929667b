"""Flags and steps shared by plan, apply, destroy and drift."""

from __future__ import annotations

import argparse
import getpass
import shlex
import sys
from collections.abc import Callable
from contextlib import contextmanager

from reconciler.cli.flags import bool_flag, flag
from reconciler.config.variables import ValueSource, VariableFlag
from reconciler.diagnostics import Diagnostic, DiagnosticsError, error, warning
from reconciler.plan.walk import PlanOptions
from state import lineage_memory
from state.addresses import parse_address, parse_module
from state.errors import AddressError
from state.lineage_memory import DirectoryMemory
from state.lock import LockError, parse_duration


class _VariableFlagAction(argparse.Action):
    """``-var`` and ``-var-file`` into one list, in the order given: a later one wins."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = list(getattr(namespace, self.dest, None) or [])
        given.append(VariableFlag(self.const, str(values)))
        setattr(namespace, self.dest, given)


def add_variable_flags(parser) -> None:
    """``-var NAME=VALUE`` and ``-var-file FILE``, both into ``args.variable_flags``."""
    for name, source, metavar, help in (
        ("var", ValueSource.CLI, "NAME=VALUE", "set an input variable"),
        ("var-file", ValueSource.VAR_FILE, "FILE", "read variables from a file"),
    ):
        flag(
            parser,
            name,
            action=_VariableFlagAction,
            dest="variable_flags",
            const=source,
            default=[],
            metavar=metavar,
            help=help,
        )


def add_config_flags(parser) -> None:
    parser.add_argument("dir", nargs="?", default=".", help="configuration directory (default: .)")
    add_variable_flags(parser)
    flag(parser, "state", metavar="PATH", default=None, help="state file (default: DIR/vaultform.tfstate)")
    flag(parser, "lock-timeout", metavar="DURATION", default="0s", help="wait this long for the state lock")
    bool_flag(parser, "lock", True, "lock the state while running (default true)")
    flag(parser, "no-color", action="store_true", help="no colour in the output")
    bool_flag(parser, "input", True, "ask for input on a terminal (default true)")
    flag(parser, "compact-warnings", action="store_true", help="list warnings by their summaries only")
    flag(
        parser,
        "allow-lineage-change",
        action="store_true",
        help="accept a state of another lineage than this configuration last used, and remember it",
    )


def add_plan_flags(parser) -> None:
    bool_flag(parser, "refresh", True, "read every managed object first (default true)")
    flag(
        parser,
        "target",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="plan only this and what it needs",
    )
    flag(
        parser,
        "replace",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="plan to replace this instance",
    )
    flag(parser, "destroy", action="store_true", help="plan to destroy every managed object")
    flag(parser, "refresh-only", action="store_true", help="only take the cloud's current values into state")
    flag(
        parser,
        "parallelism",
        type=positive_int,
        default=10,
        metavar="N",
        help="operations at once (default 10)",
    )


def positive_int(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def plan_mode_conflict(args) -> Diagnostic | None:
    """terraform 1.11's refusal of two plan modes at once (plan and apply)."""
    if getattr(args, "destroy", False) and getattr(args, "refresh_only", False):
        return error(
            "usage",
            "Incompatible plan mode options",
            "The -destroy and -refresh-only options are mutually-exclusive.",
        )
    return None


def plan_options(args, *, destroy: bool | None = None) -> PlanOptions:
    conflict = plan_mode_conflict(args)
    if conflict is not None:
        raise DiagnosticsError(conflict)
    return PlanOptions(
        destroy=args.destroy if destroy is None else destroy,
        refresh_only=getattr(args, "refresh_only", False),
        targets=checked_addresses(args.target, "target", modules=True),
        replace=checked_addresses(args.replace, "replace", modules=False),
    )


def checked_addresses(texts, flag_name: str, *, modules: bool) -> tuple[str, ...]:
    """-target and -replace addresses, each an error (as terraform's) when it isn't one."""
    for text in texts:
        try:
            if modules and text.startswith("module."):
                try:
                    parse_module(text)
                    continue
                except AddressError:
                    pass
            parse_address(text)
        except AddressError as exc:
            raise DiagnosticsError(
                error(
                    "invalid_address",
                    f'Invalid {flag_name} "{text}"',
                    f"{exc.problem[:1].upper()}{exc.problem[1:]}. Write a resource address as Terraform does: "
                    "terraform_data.x, "
                    'terraform_data.x[0], terraform_data.x["a"]'
                    + (" or module.name." if modules else " (-replace names one resource instance)."),
                )
            ) from None
    return tuple(texts)


def force_unlock_command(backend, args) -> Callable[[str], str]:
    """The ``vaultform force-unlock`` command that finds ``backend``'s lock from where the user
    stands: with the global -chdir, the configuration directory or -state, as this run got them."""
    chdir = getattr(args, "global_chdir", None)
    head = ["vaultform"] + ([f"-chdir={chdir}"] if chdir else []) + ["force-unlock"]
    return lambda lock_id: shlex.join(head + backend.unlock_arguments() + [lock_id])


@contextmanager
def state_lock(session, operation: str, args, *, unlock_command: Callable[[str], str] | None = None):
    """Hold the state lock (unless -lock=false) while the block runs, once the stored state
    proved to be this configuration's (``check_lineage``). ``unlock_command`` is the command a
    refusal offers, when ``force_unlock_command`` wouldn't reach this state."""
    if not args.lock:
        check_lineage(session, args)
        yield None
        return
    try:
        timeout = parse_duration(args.lock_timeout)
    except ValueError as exc:
        raise DiagnosticsError(error("usage", "Invalid -lock-timeout", str(exc))) from None
    try:
        lock = session.backend.lock(
            operation, timeout, unlock_command=unlock_command or force_unlock_command(session.backend, args)
        )
    except LockError as exc:
        raise DiagnosticsError(error("state_locked", exc.summary, exc.detail)) from None
    try:
        if lock.taken_over is not None:
            _say_taken_over(lock.taken_over, args)
        check_lineage(session, args)
        yield lock
    finally:
        lock.release()


def check_lineage(session, args) -> None:
    """Refuse a stored state of another lineage than the configuration directory last used
    (``state.lineage_memory``), unless -allow-lineage-change; a bare backend (``state`` commands)
    has no configuration and is not checked here."""
    root = getattr(session, "root", None)
    if root is None:
        return
    backend, memory = session.backend, DirectoryMemory(root)
    before = memory.recall(backend.identity())
    try:
        verdict = lineage_memory.check(
            memory,
            backend.identity(),
            backend.describe(),
            backend.stored_lineage(),
            session.state.lineage,
            allow_change=getattr(args, "allow_lineage_change", False),
        )
    except lineage_memory.LineageChange as exc:
        raise DiagnosticsError(error("state_lineage_changed", exc.summary, exc.detail)) from None
    if verdict is lineage_memory.Verdict.ACCEPTED and before is not None:
        _say(
            warning(
                "state_lineage_accepted",
                "This configuration now uses a state of another lineage",
                f"{backend.describe()} holds lineage {session.state.lineage}; this configuration used "
                f"{before.lineage} before. As -allow-lineage-change says, the new lineage is remembered "
                "from now on.",
            ),
            args,
        )


def _say_taken_over(takeover, args) -> None:
    diag = warning(
        "state_lock_taken_over",
        f"Took over the state lock of {takeover.previous.who}, whose run ended",
        takeover.describe() + " Anything that run left half-done is recovered from the state before "
        "this run goes on.",
    )
    _say(diag, args)


def _say(diag, args) -> None:
    out = getattr(args, "output_to", None)
    if out is not None:
        out.diagnostics([diag])
    else:
        sys.stderr.write(f"Warning: {diag.summary}\n{diag.detail}\n")


def variable_prompt(args, out) -> Callable | None:
    """With -input (the default): ask for a required variable nothing set, as terraform does
    ("var.NAME", its description, "Enter a value:") - on a terminal, or from what is piped in
    (``echo hello | vaultform plan``); a sensitive one unechoed on a terminal. An input that ends
    before the answer answers nothing: the variable is then reported unset."""
    if not getattr(args, "input", False):
        return None

    def ask(spec) -> str | None:
        out.print(f"var.{spec.name}")
        if spec.description:
            out.print(f"  {spec.description}\n")
        if spec.sensitive and sys.stdin.isatty():
            return getpass.getpass("  Enter a value: ")
        out.out.write("  Enter a value: ")
        out.out.flush()
        try:
            line = sys.stdin.readline()
        except (OSError, ValueError):  # no input to read (closed, or not readable)
            line = ""
        out.print("")
        return line.rstrip("\n") if line else None

    return ask


def confirm(out, question: str, terms: str, args) -> bool:
    """terraform's question, answered on standard input - a terminal, or what is piped in
    (``echo yes | vaultform apply``); -input=false, or an input that ends first, is an error."""
    if getattr(args, "auto_approve", False):
        return True
    if not args.input:
        raise _approval_needed("-input=false lets vaultform ask nothing")
    out.print(f"\n{question}\n  {terms}")
    out.print("")
    out.out.write("  Enter a value: ")
    out.out.flush()
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):  # no input to read (closed, or not readable)
        answer = ""
    if not answer:
        raise _approval_needed("the input ended before an answer")
    return answer.strip() == "yes"


def _approval_needed(why: str) -> DiagnosticsError:
    return DiagnosticsError(
        error(
            "approval_needed",
            "Approval needed",
            f"vaultform asks before it changes anything, and {why}. Answer yes on its input, run with "
            "-auto-approve to apply without asking (for pipelines), or apply a saved plan.",
        )
    )

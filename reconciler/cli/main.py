"""Entry point of the `vaultform` command.

Commands are data: each is a module with ``setup(parser)`` and ``run(args, out) -> int``
listed in ``COMMANDS``; commands contributed by providers (``vaultform cloud``) come from
the ``vaultform.commands`` entry-point group, each a ``register(subparsers)`` function.
Nothing escapes as a traceback: user errors are diagnostics, anything else is reported
as an internal error (``VAULTFORM_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
import traceback

from providers import bundled  # commands of plug-ins whose entry points are not installed
from reconciler import __version__, log
from reconciler.cli import cmd_version, collector, completion
from reconciler.cli.env_args import EnvArgsError, with_env_args
from reconciler.cli.flags import HelpRequested, Parser, UsageError
from reconciler.cli.output import Output
from reconciler.config import paths
from reconciler.diagnostics import DiagnosticsError, error
from reconciler.providers_registry import plugins
from state.errors import StateError

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("reconciler.cli.cmd_init", "Prepare the directory: install remote modules, check providers"),
    "get": ("reconciler.cli.cmd_get", "Install the modules the configuration calls (init's module step)"),
    "validate": (
        "reconciler.cli.cmd_validate",
        "Check the configuration: syntax, schema, references, cycles",
    ),
    "plan": ("reconciler.cli.cmd_plan", "Show what apply would change, and what vaultform refuses"),
    "apply": ("reconciler.cli.cmd_apply", "Make the cloud match the configuration, in the order Azure needs"),
    "refresh": (
        "reconciler.cli.cmd_refresh",
        "Take the cloud's current values into state (apply -refresh-only -auto-approve)",
    ),
    "destroy": (
        "reconciler.cli.cmd_apply:destroy",
        "Destroy every managed object (still subject to the refusals)",
    ),
    "drift": (
        "reconciler.cli.cmd_drift",
        "Compare the cloud with state and configuration; say what each change breaks",
    ),
    "audit": ("reconciler.cli.cmd_audit", "Check every Recovery Services vault's customer-managed key setup"),
    "fmt": ("reconciler.cli.cmd_fmt", "Rewrite configuration files to Terraform's canonical format"),
    "graph": ("reconciler.cli.cmd_graph", "Show the order apply follows, with the CMK ordering rules"),
    "show": ("reconciler.cli.cmd_show", "Show the state, or a saved plan"),
    "output": ("reconciler.cli.cmd_output", "Show output values from the state"),
    "console": ("reconciler.cli.cmd_console", "Evaluate expressions against the configuration and the state"),
    "state": ("reconciler.cli.cmd_state", "Look at and repair the state: list, show, rm, mv, pull, push"),
    "workspace": ("reconciler.cli.cmd_workspace", "Workspaces: list, show, new, select, delete"),
    "import": ("reconciler.cli.cmd_import", "Bring an existing object under management"),
    "taint": ("reconciler.cli.cmd_taint", "Mark an object to be replaced by the next apply"),
    "untaint": ("reconciler.cli.cmd_taint:untaint", "Take the replacement mark off an object"),
    "force-unlock": (
        "reconciler.cli.cmd_force_unlock",
        "Remove a state lock left behind by a run that ended",
    ),
    "providers": ("reconciler.cli.cmd_providers", "Show the providers the configuration and the state need"),
    "version": ("reconciler.cli.cmd_version", "Show the vaultform version"),
    "completion": ("reconciler.cli.cmd_completion", "Print the shell line that completes vaultform commands"),
}

# commands whose -json is Terraform's machine-readable UI: a stream of JSON lines
STREAMING_JSON = ("plan", "apply", "destroy", "refresh")

# the exit code when no command is given, as terraform's
NO_COMMAND_EXIT = 127


def _plugin_registrars():
    found = plugins("vaultform.commands")
    for name, target in {**bundled.COMMANDS, **found}.items():
        if name in COMMANDS:
            continue
        mod_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(mod_name)
        except ImportError:
            continue
        yield name, getattr(module, attr)


def build_parser(argv: list[str] | None = None) -> Parser:
    """The parser; only the command being run (or, for help, every command) is imported.

    Commands pull in the engine, the Azure SDK and the emulator, which costs seconds;
    ``vaultform validate`` shouldn't pay for ``vaultform cloud``.
    """
    wanted = next((a for a in argv if not a.startswith("-")), None) if argv is not None else None
    parser = Parser(
        prog="vaultform",
        description="Declarative reconciler for Azure Backup encryption with customer-managed keys.",
    )
    parser.add_argument("-v", "-version", "--version", action="store_true", help="show the version")
    parser.add_argument("-json", action="store_true", help=argparse.SUPPRESS)  # -version -json
    parser.add_argument("--json:false", dest="json", action="store_false", help=argparse.SUPPRESS)
    parser.bool_flags.add("json")  # -version -json=true, as terraform takes it
    parser.add_argument(
        "-chdir",
        metavar="DIR",
        help="switch to DIR before running the command, written "
        "-chdir=DIR before the command name (paths given to the command are then relative to DIR)",
    )
    parser.add_argument(
        "-install-autocomplete", action="store_true", help="add shell completion to ~/.bashrc and ~/.zshrc"
    )
    parser.add_argument(
        "-uninstall-autocomplete", action="store_true", help="take shell completion out again"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, (target, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text, prog=f"vaultform {name}")
        parser.command_parsers[name] = p
        if wanted is not None and name != wanted:
            continue
        module_name, _, variant = target.partition(":")
        module = importlib.import_module(module_name)
        suffix = f"_{variant}" if variant else ""
        getattr(module, f"setup{suffix}")(p)
        p.set_defaults(func=getattr(module, f"run{suffix}"))
    if wanted is None or wanted not in COMMANDS:
        for _name, register in _plugin_registrars():
            register(sub)
    return parser


def split_chdir(argv: list[str]) -> tuple[str | None, list[str]]:
    """Terraform's global ``-chdir=DIR`` (or ``-chdir DIR``), given before the command name."""
    directory: str | None = None
    rest: list[str] = []
    words = iter(enumerate(argv))
    for i, word in words:
        if not word.startswith("-"):  # the command name: what follows is the command's
            return directory, rest + argv[i:]
        name, eq, value = word.partition("=")
        if name not in ("-chdir", "--chdir"):
            rest.append(word)
            continue
        if not eq:
            value = next(words, (0, ""))[1]
        if not value:
            raise UsageError(
                "-chdir needs a directory, written as -chdir=DIR before the command name, "
                "e.g. vaultform -chdir=examples/quickstart output"
            )
        directory = value
    return directory, rest


def _help_command(argv: list[str]) -> list[str]:
    """``vaultform help [COMMAND]`` is ``vaultform [COMMAND] -help``."""
    if argv[:1] == ["help"]:
        return [*argv[1:2], "-help"]
    return argv


def _flags_of(command: str) -> list[str]:
    parser = build_parser([command]).command_parsers.get(command)
    if parser is None:
        return []
    return [
        option
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("-") and not option.startswith("--") and ":" not in option
    ]


def _complete(out: Output) -> int:
    line = os.environ.get("COMP_LINE", "")
    try:
        point = int(os.environ.get("COMP_POINT", len(line)))
    except ValueError:
        point = len(line)
    names = [*COMMANDS, *bundled.COMMANDS, "help"]
    for word in completion.candidates(line, point, dict.fromkeys(names), _flags_of):
        out.out.write(word + "\n")
    return 0


def _hear_interrupts() -> None:
    """Ctrl-C (SIGINT) and SIGTERM both stop the run gracefully: running operations finish and are
    recorded, nothing new starts, the lock is released; a second signal stops at once. terraform does
    the same for both (commands.go makeShutdownCh, signal_unix.go: SIGTERM is forwarded like an
    interrupt), and SIGTERM is what a CI runner or Kubernetes sends to cancel a job - without a handler
    the process would die mid-apply with operations in flight and unrecorded.

    SIGINT is heard even when the process was started with it ignored: a shell without job control
    starts background commands (``vaultform apply &``, a CI step's children) so, and Python then never
    raises KeyboardInterrupt. terraform catches it in that case too (Go's signal.Notify installs its
    handler over an inherited SIG_IGN)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signum == signal.SIGINT and signal.getsignal(signum) not in (signal.SIG_IGN, signal.SIG_DFL):
            continue  # Python's own KeyboardInterrupt handler is already there
        signal.signal(signum, signal.default_int_handler)


def main(argv: list[str] | None = None, *, output: Output | None = None) -> int:
    out = output or Output()
    if argv is None and "COMP_LINE" in os.environ:  # the shell asks what may come next
        return _complete(out)
    whole_process = argv is None  # the process's own command line: it ends when this returns
    argv = list(sys.argv[1:] if argv is None else argv)
    if whole_process:
        _hear_interrupts()
    try:
        with collector.running():
            try:
                log.configure(stderr=out.err)
                # the command only: arguments can carry secrets (-var), which never reach the log
                command = next((a for a in argv if not a.startswith("-")), "")
                logging.getLogger("reconciler.cli").info("vaultform %s, command %r", __version__, command)
                return _main(argv, out)
            finally:
                log.reset()
    finally:
        if whole_process:
            collector.leave_to_exit()


def _main(argv: list[str], out: Output) -> int:
    try:
        directory, argv = split_chdir(argv)
        previous = os.getcwd()
        if directory is not None:
            os.chdir(directory)
    except UsageError as exc:
        out.err.write(f"Error: {exc}\n")
        return 1
    except OSError as exc:
        out.err.write(f"Error: Invalid -chdir option: cannot change to {directory}: {exc.strerror or exc}\n")
        return 1
    try:
        with paths.started_in(previous):
            return _dispatch(argv, out, directory)
    finally:
        if directory is not None:
            os.chdir(previous)


def _global_only(args, parser: Parser, out: Output) -> int:
    """No command: the version, installing completion, or the list of commands."""
    if args.version:
        return cmd_version.run(args, out)
    if args.install_autocomplete or args.uninstall_autocomplete:
        changed = completion.install() if args.install_autocomplete else completion.uninstall()
        verb = "Added completion to" if args.install_autocomplete else "Removed completion from"
        out.print(f"{verb} {', '.join(changed)}." if changed else "Nothing to change.")
        return 0
    parser.print_help(out.out)
    return NO_COMMAND_EXIT


_GO_FALSE = frozenset({"0", "f", "F", "false", "FALSE", "False"})  # strconv.ParseBool's false


def _chosen_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The parser of the innermost command chosen (``cloud rotate-key``, ``workspace new``), so an
    error shows the usage of what was typed, not of vaultform as a whole."""
    while True:
        chosen = None
        for action in parser._actions:  # argparse keeps its subcommands there and nowhere public
            if isinstance(action, argparse._SubParsersAction):
                chosen = action.choices.get(getattr(args, action.dest, None) or "")
        if chosen is None:
            return parser
        parser = chosen


def _dispatch(argv: list[str], out: Output, chdir: str | None = None) -> int:
    try:
        argv = with_env_args(argv, {*COMMANDS, *bundled.COMMANDS}, os.environ)
    except EnvArgsError as exc:
        out.err.write(f"Error: {exc}\n")
        return 1
    try:
        argv = _help_command(argv)
        parser = build_parser(argv)
        args, extra = parser.parse_known_args(argv)
        if extra:
            command = _chosen_parser(parser, args)
            word = extra[0]
            what = (  # the flag's name without its value, as Go's flag package (terraform) names it
                f"flag provided but not defined: -{word.lstrip('-').partition('=')[0]}"
                if word.startswith("-")
                else f"unexpected {word!r}"
            )
            command.error(what)
        args.global_chdir, args.output_to = chdir, out  # for messages that name a command to run
        if not getattr(args, "func", None):
            return _global_only(args, parser, out)
        if getattr(args, "input", False) and os.environ.get("TF_INPUT", "") in _GO_FALSE:
            args.input = False  # as terraform's Meta.Input(): TF_INPUT=false wins over -input
        if getattr(args, "no_color", False):
            out.no_color = True
        if getattr(args, "json", False) and getattr(args, "command", None) in STREAMING_JSON:
            from reconciler.cli.json_ui import JsonUi  # lazy: start-up (pulls in the planner)

            out.json_ui = JsonUi(out.out)
            out.json_ui.version()
        return int(args.func(args, out) or 0)
    except HelpRequested as request:
        request.parser.print_help(out.out)
        return 0
    except UsageError as exc:
        out.err.write(f"Error: {exc}\n")
        return 1
    except DiagnosticsError as exc:
        out.diagnostics(exc.diagnostics)
        return 1
    except StateError as exc:  # an unreadable state file is the user's to fix, not a bug
        out.diagnostics(
            [
                error(
                    "state",
                    exc.summary,
                    exc.detail
                    or "Restore the previous version from the .backup file next to it, "
                    "or point -state at the right file.",
                )
            ]
        )
        return 1
    except KeyboardInterrupt:  # a second Ctrl-C in apply, or one where no graceful stop is offered
        # as terraform 1.11 ends an operation interrupted twice (command/meta.go RunOperation): exit 1
        out.diagnostics(
            [
                error(
                    "interrupted",
                    "operation canceled",
                    "vaultform stopped without waiting for what was in progress. The calls an apply "
                    "sent to Azure were recorded in the state before they were sent, and the next run "
                    "finds out what they did; run plan to see what is left to do.",
                )
            ]
        )
        return 1
    except BrokenPipeError:
        return 1
    except Exception as exc:  # a bug in vaultform, never the user's fault
        if os.environ.get("VAULTFORM_DEBUG"):
            traceback.print_exc(file=out.err)
        out.err.write(
            f"\nError: internal error in vaultform: {type(exc).__name__}: {exc}\n\n"
            "  This is a bug in vaultform, not in your configuration. Run again with\n"
            "  VAULTFORM_DEBUG=1 to see the details, and report them with the command you ran.\n"
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

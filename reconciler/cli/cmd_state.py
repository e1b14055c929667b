"""`vaultform state list|show|rm|mv|pull|push`: look at and repair the stored state.

Every subcommand takes ``-state PATH`` (default ``./vaultform.tfstate``; the global
``vaultform -chdir=DIR state ...`` reads ``DIR/vaultform.tfstate``). Those that write
(rm, mv, push) hold the state lock while they read and write (``-lock=false`` skips it,
``-lock-timeout`` waits for it); the write is the backend's atomic one, keeping the previous
file as ``.backup``. ``rm`` and ``mv`` only change what vaultform remembers: nothing in the
cloud is created, changed or destroyed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from reconciler.cli.cmd_show import render_instance
from reconciler.cli.cmd_state_edit import (
    canonical,
    go_quoted,
    matches,
    move,
    nothing_removed,
    parse_target,
    remove,
    select,
)
from reconciler.cli.common import state_lock
from reconciler.cli.flags import Parser, bool_flag, flag
from reconciler.cli.output import Output
from reconciler.cli.state_files import backend_for, read_state, refuse_directory, write_state
from reconciler.diagnostics import Diagnostic, DiagnosticsError, error
from state.addresses import address_order
from state.backends.local import DEFAULT_STATE_FILE, LocalBackend
from state.errors import StateError
from state.format import decode_state, encode_state
from state.model import State

# --------------------------------------------------------------------------- shared by the state tools


def locked(backend: LocalBackend, operation: str, args, **options: Any):
    """The state lock for a command that writes (``common.state_lock`` on a bare backend)."""
    return state_lock(SimpleNamespace(backend=backend), operation, args, **options)


def add_state_flags(parser, *, writes: bool) -> None:
    flag(parser, "state", metavar="PATH", default=None, help=f"state file (default: ./{DEFAULT_STATE_FILE})")
    flag(parser, "no-color", action="store_true", help="no colour in the output")
    if writes:
        bool_flag(parser, "lock", True, "lock the state while writing (default true)")
        flag(
            parser, "lock-timeout", metavar="DURATION", default="0s", help="wait this long for the state lock"
        )


def _need_state(backend: LocalBackend) -> State:
    state = read_state(backend)
    if state is None:
        raise DiagnosticsError(
            error(
                "state_missing",
                f"No state at {backend.describe()}",
                "Nothing is managed there yet. Give the state file with -state PATH, "
                "or run the command in the configuration's directory.",
            )
        )
    return state


# --------------------------------------------------------------------------- subcommands

SUBCOMMANDS = {
    "list": "List the objects in the state",
    "show": "Show one object in the state with its attributes",
    "rm": "Forget objects without destroying them",
    "mv": "Move an object to another address (rename, into or out of a module)",
    "pull": "Print the state as stored (JSON)",
    "push": "Replace the state with a state file",
}


def setup(parser) -> None:
    sub = parser.add_subparsers(dest="state_command", metavar="SUBCOMMAND", parser_class=Parser)
    sub.required = True
    for name, help_text in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        globals()[f"_setup_{name}"](p)
        p.set_defaults(state_run=globals()[f"_run_{name}"])


def run(args, out: Output) -> int:
    return args.state_run(args, out)


def _setup_list(p) -> None:
    p.add_argument("addresses", nargs="*", metavar="ADDRESS", help="only objects at or under these addresses")
    flag(p, "id", metavar="ID", default=None, help="only the object with this id")
    add_state_flags(p, writes=False)


def _run_list(args, out: Output) -> int:
    backend = backend_for(args.state)
    state = read_state(backend)
    if args.addresses and (state is None or not _selects(state, args.addresses[0])):
        refuse_directory(args.addresses[0], "state list")
    if state is None:  # as terraform: no state at all is an error; an empty state lists nothing
        raise DiagnosticsError(
            error(
                "no_state",
                "No state file was found",
                f"There is no state at {backend.describe()}. State commands need the state of a configuration "
                "that was applied: run them in its directory (vaultform -chdir=DIR state list) or point "
                "-state at the file.",
            )
        )
    targets = [parse_target(t) for t in args.addresses]
    for target in targets:
        if not select(state, [target]):
            raise DiagnosticsError(_unknown(target))
    for addr in sorted(select(state, targets), key=address_order):  # terraform lists in its order
        found = state.instance(addr)
        if args.id is not None and (found is None or found.attributes.get("id") != args.id):
            continue
        out.print(str(addr))
    return 0


def _unknown(target) -> Diagnostic:
    """terraform's error for a state list address that matches nothing (command/state_list.go)."""
    if target.is_module:
        what, summary, since = f"module at {target}", "Unknown module", "this module to the configuration"
    elif target.is_instance:
        what, summary = f"resource instance {target}", "Unknown resource instance"
        since = "its resource to the configuration or have changed the count or for_each arguments"
    else:
        what, summary, since = f"resource {target}", "Unknown resource", "this resource to the configuration"
    return error(
        "state_no_match",
        summary,
        f"The current state contains no {what}. If you've just added {since}, you must run "
        '"vaultform apply" first to update the state.',
    )


def _selects(state: State, word: str) -> bool:
    """Whether ``word`` is an address that selects something in ``state``."""
    try:
        return bool(select(state, [parse_target(word)]))
    except DiagnosticsError:
        return False


def _setup_show(p) -> None:
    p.add_argument(
        "address", metavar="ADDRESS", help="one object, e.g. terraform_data.x or terraform_data.x[0]"
    )
    add_state_flags(p, writes=False)


def _run_show(args, out: Output) -> int:
    state = _need_state(backend_for(args.state))
    target = parse_target(args.address)
    if target.is_module:
        raise DiagnosticsError(
            error(
                "address",
                f"{args.address} is a module, not an object",
                "Give one object's address; `vaultform state list module.NAME` lists them.",
            )
        )
    # one instance, exactly: an address without the key of a counted resource names none of its
    # instances (terraform 1.11 fails the same way rather than show [0])
    wanted = str(target)
    found = [(a, r, i) for a, r, i in state.instances() if str(a) == wanted]
    if not found:
        near = [str(a) for a, _, _ in state.instances() if matches(target, a)]
        raise DiagnosticsError(
            error(
                "state_no_match",
                "No instance found for the given address!",
                "This command requires that the address references one specific instance. To view the "
                'available instances, use "vaultform state list". Please modify the address to reference '
                "a specific instance."
                + (f" {args.address} has the instances {', '.join(near)}." if near else ""),
            )
        )
    out.print(render_instance(*found[0]))
    return 0


def _setup_rm(p) -> None:
    p.add_argument("addresses", nargs="+", metavar="ADDRESS", help="objects, resources or modules to forget")
    flag(p, "dry-run", action="store_true", help="only say what would be forgotten")
    add_state_flags(p, writes=True)


def _run_rm(args, out: Output) -> int:
    backend = backend_for(args.state)
    targets = [parse_target(t) for t in args.addresses]
    with locked(backend, "state rm", args):
        state = _need_state(backend)
        new, removed = remove(state, targets)
        verb = "Would remove" if args.dry_run else "Removed"
        for address in removed:
            out.print(f"{verb} {address}")
        if args.dry_run:
            if not removed:
                out.print("Would have removed nothing.")
            return 0
        if not removed:
            raise nothing_removed()
        write_state(backend, new)
    out.print(
        f"Successfully removed {len(removed)} resource instance(s). The objects still exist in the "
        "cloud; vaultform no longer manages them."
    )
    return 0


def _setup_mv(p) -> None:
    p.add_argument("source", metavar="SOURCE", help="the address the object has now")
    p.add_argument("destination", metavar="DESTINATION", help="the address it gets")
    flag(p, "dry-run", action="store_true", help="only say what would move")
    add_state_flags(p, writes=True)


def _run_mv(args, out: Output) -> int:
    backend = backend_for(args.state)
    with locked(backend, "state mv", args):
        state = _need_state(backend)
        new, _pairs = move(state, args.source, args.destination)
        # terraform's words: one line for the address given, however many instances it holds
        verb = "Would move" if args.dry_run else "Move"
        out.print(f"{verb} {go_quoted(canonical(args.source))} to {go_quoted(canonical(args.destination))}")
        if args.dry_run:
            return 0
        write_state(backend, new)
    out.print("Successfully moved 1 object(s).")
    return 0


def _setup_pull(p) -> None:
    add_state_flags(p, writes=False)


def _run_pull(args, out: Output) -> int:
    state = read_state(backend_for(args.state))
    if state is not None:
        out.out.write(encode_state(state))
        out.out.flush()
    return 0


def _setup_push(p) -> None:
    p.add_argument("file", metavar="FILE", help="a state file, or - for standard input")
    flag(p, "force", action="store_true", help="replace even a state of another lineage or a higher serial")
    add_state_flags(p, writes=True)


def _read_pushed(path: str) -> State:
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise DiagnosticsError(error("state", f"Cannot read {path}", exc.strerror or str(exc))) from None
    try:
        return decode_state(data, source="standard input" if path == "-" else path)
    except StateError as exc:
        raise DiagnosticsError(error("state", exc.summary, exc.detail)) from None


def _check_pushed_lineage(backend: Any, pushed: State, args) -> None:
    """A pushed state of another lineage than the configuration here last used is refused
    without -force; with it, its lineage is remembered (``state.lineage_memory``)."""
    from state import lineage_memory

    # the configuration: where its default state file lives, else (another file, a remote
    # backend) the working directory
    path = backend.path if isinstance(backend, LocalBackend) else ""
    named_default = bool(path) and os.path.basename(path) == DEFAULT_STATE_FILE
    config_dir = (os.path.dirname(path) or ".") if named_default else "."
    try:
        lineage_memory.check(
            lineage_memory.DirectoryMemory(config_dir),
            backend.identity(),
            backend.describe(),
            pushed.lineage,
            pushed.lineage,
            allow_change=args.force,
        )
    except lineage_memory.LineageChange as exc:
        raise DiagnosticsError(
            error(
                "state_push",
                f"Refusing to push a state of lineage {exc.found}",
                f"This configuration last used lineage {exc.remembered.lineage} at {exc.where} (remembered in "
                f"{exc.memory}). If you really mean to make {args.file} its state, run again with -force.",
            )
        ) from None


def _run_push(args, out: Output) -> int:
    pushed = _read_pushed(args.file)
    backend = backend_for(args.state)
    with locked(backend, "state push", args):
        current = read_state(backend)
        if current is not None and not args.force:
            if pushed.lineage != current.lineage:
                raise DiagnosticsError(
                    error(
                        "state_push",
                        "Refusing to push a state of another lineage",
                        f"{args.file} has lineage {pushed.lineage}; the stored state {current.lineage}. They "
                        "are different histories, so one would silently replace the other. If you really mean "
                        "to replace the stored state, run again with -force.",
                    )
                )
            if pushed.serial < current.serial:
                raise DiagnosticsError(
                    error(
                        "state_push",
                        "Refusing to push an older state",
                        f"{args.file} has serial {pushed.serial}; the stored state is newer (serial "
                        f"{current.serial}), so pushing would undo later changes. Pull the current state "
                        "(`vaultform state pull`), make your change on it and push that, or use -force.",
                    )
                )
            if pushed.serial == current.serial and not pushed.same_content(current):
                raise DiagnosticsError(
                    error(
                        "state_push",
                        "Refusing to push a different state with the same serial",
                        f"cannot overwrite existing state with serial {current.serial} with a different "
                        f"state that has the same serial. {args.file} and the stored state both have "
                        "that serial but hold different objects, so one of them has changes the other "
                        "lacks. If you edited a pulled state, raise its serial above "
                        f"{current.serial} and push again, or use -force.",
                    )
                )
        _check_pushed_lineage(backend, pushed, args)
        written = write_state(backend, pushed, force=args.force)
    out.print(f"Pushed {args.file} to {backend.describe()} (serial {written.serial}).")
    return 0

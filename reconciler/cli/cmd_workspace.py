"""`vaultform workspace list|show|new|select|delete`: several states for one configuration.

As Terraform's workspace commands (https://developer.hashicorp.com/terraform/cli/commands/workspace):
the selected workspace is kept in .vaultform/environment (Terraform's .terraform/environment),
TF_WORKSPACE overrides it, and ``terraform.workspace`` is its name in expressions. The local
backend keeps a workspace's state in vaultform.tfstate.d/NAME/vaultform.tfstate, the pg backend
in the states row named NAME (``reconciler.backend_select``). new and delete hold the
workspace's state lock (``-lock=false`` skips it, ``-lock-timeout`` waits for it), so a workspace
whose state a running apply holds is not deleted under it (``-force`` skips only the emptiness check).
"""

from __future__ import annotations

import os

from reconciler import backend_select as bs
from reconciler.cli.cmd_state import locked
from reconciler.cli.common import force_unlock_command
from reconciler.cli.flags import Parser, bool_flag, flag
from reconciler.cli.output import Output
from reconciler.cli.state_files import read_state
from reconciler.diagnostics import DiagnosticsError, error

SUBCOMMANDS = {
    "list": "List the workspaces, the selected one marked with *",
    "show": "Show the name of the selected workspace",
    "new": "Create a workspace and select it",
    "select": "Select a workspace",
    "delete": "Delete a workspace",
}


def setup(parser) -> None:
    sub = parser.add_subparsers(dest="workspace_command", metavar="SUBCOMMAND", parser_class=Parser)
    sub.required = True
    for name, help_text in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name in ("new", "select", "delete"):
            p.add_argument("name", metavar="NAME", help="the workspace's name")
        if name == "select":
            bool_flag(p, "or-create", False, "create the workspace when it does not exist")
        if name == "delete":
            flag(p, "force", action="store_true", help="delete even when the workspace's state is not empty")
        if name in ("new", "delete"):  # as terraform 1.11's workspace new and delete
            bool_flag(p, "lock", True, "lock the workspace's state meanwhile (default true)")
            flag(
                p, "lock-timeout", metavar="DURATION", default="0s", help="wait this long for the state lock"
            )
        else:  # select -or-create locks the new workspace's state as new does, with the defaults
            p.set_defaults(lock=True, lock_timeout="0s")
        if name == "list":  # as terraform 1.11: only list still takes the configuration's directory
            p.add_argument("dir", nargs="?", default=".", help="configuration directory (default: .)")
        else:  # new, select and delete take one NAME: `workspace new a b` is an error, not a dir "b"
            p.set_defaults(dir=".")
        flag(p, "no-color", action="store_true", help="no colour in the output")
        p.set_defaults(workspace_run=globals()[f"_run_{name}"])


def run(args, out: Output) -> int:
    return args.workspace_run(args, out)


def _block(args):
    return bs.configured_block(args.dir)


def _check_name(name: str) -> None:
    if not bs.valid_workspace_name(name):
        raise DiagnosticsError(
            error(
                "workspace_name",
                f'The workspace name "{name}" is not allowed',
                "The name must contain only URL safe characters, and no path separators.",
            )
        )


def _refuse_override(what: str) -> None:
    if os.environ.get("TF_WORKSPACE"):
        raise DiagnosticsError(
            error(
                "workspace_overridden",
                "The selected workspace is currently overridden using the TF_WORKSPACE environment variable",
                f"To {what}, either unset TF_WORKSPACE or set it to the workspace you want.",
            )
        )


def _run_list(args, out: Output) -> int:
    current = bs.current_workspace(args.dir)
    for name in bs.list_workspaces(args.dir, _block(args)):
        out.print(("* " if name == current else "  ") + name)
    out.print("")  # terraform's list ends in a blank line
    return 0


def _run_show(args, out: Output) -> int:
    out.print(bs.current_workspace(args.dir))
    return 0


def _run_new(args, out: Output) -> int:
    _check_name(args.name)
    _refuse_override("select a new workspace")
    block = _block(args)
    if args.name in bs.list_workspaces(args.dir, block):
        raise DiagnosticsError(error("workspace_exists", f'Workspace "{args.name}" already exists'))
    _create(args, block)
    bs.select_workspace(args.dir, args.name)
    _say_created(out, args.name)
    return 0


def _locked(backend, operation: str, args):
    """Workspace ``args.name``'s state lock: a refusal's force-unlock command names that workspace,
    which is not the selected one."""
    command = force_unlock_command(backend, args)
    return locked(
        backend,
        operation,
        args,
        unlock_command=lambda lock_id: f"TF_WORKSPACE={args.name} {command(lock_id)}",
    )


def _create(args, block) -> None:
    backend = bs.backend_for(args.dir, block, workspace=args.name)
    try:
        with _locked(backend, "workspace new", args):
            bs.create_workspace(args.dir, block, args.name, backend)
    finally:
        _close(backend)


def _close(backend) -> None:
    close = getattr(backend, "close", None)
    if close:
        close()


def _say_created(out: Output, name: str) -> None:
    """What terraform 1.11 says of a workspace that new or select -or-create made."""
    out.print(
        f'Created and switched to workspace "{name}"!\n\n'
        "You're now on a new, empty workspace. Workspaces isolate their state,\n"
        'so if you run "vaultform plan" vaultform will not see any existing state\n'
        "for this configuration."
    )


def _run_select(args, out: Output) -> int:
    _check_name(args.name)
    _refuse_override("select a workspace")
    block = _block(args)
    if bs.current_workspace(args.dir) == args.name:
        out.print(f'Already on workspace "{args.name}"!')
        return 0
    if args.name not in bs.list_workspaces(args.dir, block):
        if not args.or_create:
            raise DiagnosticsError(
                error(
                    "workspace_missing",
                    f'Workspace "{args.name}" doesn\'t exist.',
                    'You can create this workspace with the "new" subcommand '
                    'or include the "-or-create" flag with the "select" subcommand.',
                )
            )
        _create(args, block)
        bs.select_workspace(args.dir, args.name)
        _say_created(out, args.name)
        return 0
    bs.select_workspace(args.dir, args.name)
    out.print(f'Switched to workspace "{args.name}".')
    return 0


def _run_delete(args, out: Output) -> int:
    _check_name(args.name)
    block = _block(args)
    if args.name == bs.DEFAULT_WORKSPACE:
        raise DiagnosticsError(error("workspace_default", "Cannot delete the default workspace"))
    if args.name not in bs.list_workspaces(args.dir, block):
        raise DiagnosticsError(error("workspace_missing", f'Workspace "{args.name}" doesn\'t exist.'))
    if bs.current_workspace(args.dir) == args.name:
        raise DiagnosticsError(
            error(
                "workspace_active",
                f'Workspace "{args.name}" is your active workspace',
                "You cannot delete the currently active workspace. Please switch to another workspace "
                "and try again.",
            )
        )
    backend = bs.backend_for(args.dir, block, workspace=args.name)
    try:  # a run that holds the workspace's state (an apply) keeps it: the deletion waits for its lock
        with _locked(backend, "workspace delete", args):
            state = read_state(backend)
            tracked = sorted(state.addresses()) if state is not None else []
            if tracked and not args.force:
                raise _not_empty(args.name, tracked)
            bs.delete_workspace(args.dir, block, args.name, backend)
    finally:
        _close(backend)
    out.print(f'Deleted workspace "{args.name}"!')
    if tracked:  # deleted with -force: what it managed is still out there, managed by nobody
        out.print(
            f'WARNING: "{args.name}" was non-empty.\n'
            "The resources managed by the deleted workspace may still exist,\n"
            "but are no longer manageable by vaultform since the state has\n"
            "been deleted.\n\n"
        )
    return 0


def _not_empty(name: str, tracked: list[str]) -> DiagnosticsError:
    listing = "\n".join(f"  - {a}" for a in tracked)
    return DiagnosticsError(
        error(
            "workspace_not_empty",
            f'Workspace "{name}" is not empty',
            f'Workspace "{name}" is currently tracking the following resource instances:\n{listing}\n\n'
            "Deleting this workspace would cause vaultform to lose track of any associated remote "
            "objects, which would then require you to delete them manually outside of vaultform. You "
            "should destroy these objects with vaultform before deleting the workspace.\n\n"
            "If you want to delete this workspace anyway, and have vaultform forget about these "
            "managed objects, use the -force option to disable this safety check.",
        )
    )

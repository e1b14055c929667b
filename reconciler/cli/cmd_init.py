"""`vaultform init [DIR] [-upgrade] [-get=false] [-backend-config=...] [-reconfigure | -migrate-state
[-force-copy]] [-backend=false]`:
prepare a working directory, as terraform init.

It sets up the configuration's backend (``reconciler.cli.init_backend``).

It installs the remote modules the configuration calls into .vaultform/modules (git sources,
registry modules and HTTPS archives; local modules are read where they are), checks that
every provider the configuration needs is one vaultform carries, and says what it found.
For a configuration of local modules only, nothing needs installing, and init says so.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.cli.flags import bool_flag, flag
from reconciler.cli.init_backend import init_backend
from reconciler.cli.output import Output
from reconciler.diagnostics import DiagnosticsError, error
from reconciler.modinstall.install import install_modules
from reconciler.validate import validate_directory


def setup(parser) -> None:
    parser.add_argument("dir", nargs="?", default=".", help="configuration directory (default: .)")
    flag(parser, "upgrade", action="store_true", help="fetch the newest allowed version of every module")
    bool_flag(parser, "get", True, "install modules (default true)")
    flag(parser, "no-color", action="store_true", help="no colour in the output")
    bool_flag(parser, "input", True, "ask for input on a terminal (default true)")
    bool_flag(parser, "backend", True, "set up the backend (default true)")
    flag(
        parser,
        "backend-config",
        action="append",
        default=[],
        metavar="KEY=VALUE|FILE",
        help="complete the backend block: a key=value pair or a file of key = value lines (repeatable)",
    )
    flag(
        parser, "reconfigure", action="store_true", help="set up a changed backend, ignoring the previous one"
    )
    flag(
        parser,
        "migrate-state",
        action="store_true",
        help="set up a changed backend and copy every workspace's state to it (asks first)",
    )
    flag(parser, "force-copy", action="store_true", help="answer yes to the state copy questions")
    bool_flag(parser, "lock", True, "lock the states while copying them (default true)")
    flag(parser, "lock-timeout", metavar="DURATION", default="0s", help="wait this long for a state lock")


def configuration_directory(path: str) -> Path:
    """The directory of .tf files a command was given; an error naming it when there is none."""
    root = Path(path)
    if not root.is_dir():
        raise DiagnosticsError(
            error(
                "no_configuration",
                f"No configuration directory at {root}",
                "Pass the directory of your .tf files.",
            )
        )
    return root


def run(args, out: Output) -> int:
    root = configuration_directory(args.dir)
    if args.get:
        out.print(out.style("Initializing modules...", "1"))
        installed, problems = install_modules(root, upgrade=args.upgrade)
        if problems:
            out.diagnostics(problems)
            out.err.write("\nvaultform init failed: fix the module sources above and run it again.\n")
            return 1
        for item in installed:
            if item.local:
                out.print(f"- {item.key} in {item.directory}")
            elif item.fetched:
                version = f" {item.version}" if item.version else ""
                out.print(f"- {item.key}: fetched {item.source}{version} into {item.directory}")
            else:
                out.print(f"- {item.key}: {item.source} already in {item.directory}")
        if not installed:
            out.print("- no modules are called")
    checked = validate_directory(root)
    provider_problems = [d for d in checked.diagnostics if d.code == "unsupported_provider"]
    if provider_problems:
        out.diagnostics(provider_problems)
        return 1
    tree = checked.tree
    if args.backend and tree is not None and not init_backend(root, tree.module, args, out):
        return 1
    providers = (
        sorted({r.type.split("_", 1)[0] for m in tree.walk() for r in m.module.resources.values()})
        if tree
        else []
    )
    out.print("")
    out.print(out.style("Initializing providers...", "1"))
    for name in providers:
        out.print(f"- {name}: built into vaultform, nothing to install")
    if not providers:
        out.print("- the configuration uses no providers yet")
    remote = args.get and any(not i.local for i in installed)
    out.print("")
    out.print(out.style("vaultform has been successfully initialized!", "32;1"))
    if not remote:
        out.print(
            "\nThis configuration has only local modules, so plan and apply need no init: they read the "
            "directory as it is."
        )
    return 0

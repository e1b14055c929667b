"""`vaultform get [DIR] [-update]`: install the modules the configuration calls, as terraform get.

The module half of `vaultform init` (``reconciler.modinstall``): remote modules are fetched into
.vaultform/modules once, and again with -update for the newest version each call allows. As
terraform's, it names only what it installs: nothing when every module is in place.
"""

from __future__ import annotations

from reconciler.cli.cmd_init import configuration_directory
from reconciler.cli.flags import flag
from reconciler.cli.output import Output
from reconciler.modinstall.install import install_modules


def setup(parser) -> None:
    parser.add_argument("dir", nargs="?", default=".", help="configuration directory (default: .)")
    flag(parser, "update", action="store_true", help="install the newest allowed version of every module")
    flag(parser, "no-color", action="store_true", help="no colour in the output")


def run(args, out: Output) -> int:
    root = configuration_directory(args.dir)
    installed, problems = install_modules(root, upgrade=args.update)
    if problems:
        out.diagnostics(problems)
        return 1
    for item in installed:
        if item.fetched or (args.update and item.local):
            out.print(f"- {item.key} in {item.directory}")
    return 0

"""`vaultform version [-json]` (also `vaultform -version`, `-v`): as `terraform version` prints it."""

from __future__ import annotations

import json
import platform
import sys
from importlib.metadata import entry_points

from reconciler import __version__
from reconciler.cli.flags import flag
from reconciler.cli.output import Output

# the providers vaultform carries, by the source addresses users write in required_providers
_SOURCES = {
    "azurerm": "registry.terraform.io/hashicorp/azurerm",
    "terraform": "terraform.io/builtin/terraform",
}


def setup(parser) -> None:
    flag(parser, "json", action="store_true", help="the version information as a JSON object")


def _platform() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    return f"{sys.platform.replace('win32', 'windows')}_{arch}"


def _providers() -> dict[str, str]:
    names = {ep.name for ep in entry_points(group="vaultform.providers")} or set(_SOURCES)
    return {_SOURCES.get(name, name): __version__ for name in sorted(names)}


def run(args, out: Output) -> int:
    if getattr(args, "json", False):
        info = {
            "vaultform_version": __version__,
            "platform": _platform(),
            "provider_selections": _providers(),
        }
        out.print(json.dumps(info, indent=2))
        return 0
    out.print(f"vaultform v{__version__}\non {_platform()}")
    return 0

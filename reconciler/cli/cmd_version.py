"""`vaultform version [-json]` (also `vaultform -version`, `-v`): as `terraform version` prints it."""

from __future__ import annotations

import json
import sys

from reconciler import __version__
from reconciler import providers_registry as registry
from reconciler.cli.flags import flag
from reconciler.cli.output import Output


def setup(parser) -> None:
    flag(parser, "json", action="store_true", help="the version information as a JSON object")


def _platform() -> str:
    import platform  # loaded when asked: every command starts faster without it

    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    return f"{sys.platform.replace('win32', 'windows')}_{arch}"


def _providers() -> dict[str, str]:
    # sorted by address, as Go's encoding/json writes terraform's map
    return {
        address: __version__
        for address in sorted(map(registry.provider_address, registry.known_provider_names()))
    }


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

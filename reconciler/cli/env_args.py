"""``TF_CLI_ARGS`` and ``TF_CLI_ARGS_<command>``: arguments a pipeline sets once for every run.

As terraform does (main.go ``mergeEnvArgs``): each variable is split as a shell would and
inserted right after the command's name (``state mv`` for ``TF_CLI_ARGS_state_mv``, dashes
as underscores: ``TF_CLI_ARGS_force_unlock``), the command-specific one before the general
one, so an argument written on the command line comes last and wins.
"""

from __future__ import annotations

import shlex
from collections.abc import Collection, Mapping

# commands whose next word names a subcommand
_WITH_SUBCOMMANDS = frozenset({"state", "workspace", "cloud"})


class EnvArgsError(ValueError):
    pass


def with_env_args(argv: list[str], commands: Collection[str], environ: Mapping[str, str]) -> list[str]:
    at = next((i for i, word in enumerate(argv) if not word.startswith("-")), None)
    if at is None or argv[at] not in commands:
        return argv
    name = [argv[at]]
    if argv[at] in _WITH_SUBCOMMANDS and at + 1 < len(argv) and not argv[at + 1].startswith("-"):
        at += 1
        name.append(argv[at])
    extra: list[str] = []
    for variable in ("TF_CLI_ARGS_" + "_".join(name).replace("-", "_"), "TF_CLI_ARGS"):
        text = environ.get(variable, "")
        if text.strip():
            try:
                extra += shlex.split(text)
            except ValueError as exc:
                raise EnvArgsError(f"{variable} can't be read as arguments ({exc}): {text!r}") from None
    return [*argv[: at + 1], *extra, *argv[at + 1 :]] if extra else argv

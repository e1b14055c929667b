"""`vaultform completion bash|zsh`: the shell line that completes vaultform's commands and flags."""

from __future__ import annotations

from reconciler.cli import completion
from reconciler.cli.output import Output


def setup(parser) -> None:
    parser.add_argument("shell", choices=("bash", "zsh"), help="the shell to complete in")


def run(args, out: Output) -> int:
    out.out.write(completion.shell_lines(args.shell))
    return 0

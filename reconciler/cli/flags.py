"""Terraform-style flags on argparse: `-out F`, `-auto-approve`, `-refresh=false`; two dashes work too."""

from __future__ import annotations

import argparse
import sys


class UsageError(Exception):
    """Bad command-line usage; shown with the command's usage line, exit 1."""


class HelpRequested(Exception):
    """``-help`` was given: the CLI prints this parser's help on standard output and exits 0."""

    def __init__(self, parser: argparse.ArgumentParser):
        super().__init__(parser.prog)
        self.parser = parser


class _HelpAction(argparse.Action):
    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        raise HelpRequested(parser)


class Parser(argparse.ArgumentParser):
    """argparse with Terraform's flag habits: ``-help``, and booleans written ``-flag=false``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self.bool_flags: set[str] = set()
        self.command_parsers: dict[str, Parser] = {}  # the top-level parser's, by command name
        self.add_argument("-h", "-help", "--help", action=_HelpAction, help="show this help and exit")

    def parse_known_args(self, args=None, namespace=None):
        if args is not None and self.bool_flags:
            args = list(args)
            end = len(args)
            if self.command_parsers:  # the top level's own flags come before the command's name
                end = next((i for i, word in enumerate(args) if not word.startswith("-")), end)
            args = [self._bool_word(word) for word in args[:end]] + args[end:]
        return super().parse_known_args(args, namespace)

    def _bool_word(self, word: str) -> str:
        """``-name=VALUE`` for a boolean flag becomes ``-name`` or its hidden false twin."""
        name, eq, value = word.lstrip("-").partition("=")
        if not eq or not word.startswith("-") or name not in self.bool_flags:
            return word
        try:
            return f"-{name}" if parse_bool(value) else f"--{name}:false"
        except argparse.ArgumentTypeError as exc:
            raise UsageError(
                f"invalid boolean value for -{name}: {exc}\n\n{self.format_usage().strip()}"
            ) from None

    def error(self, message: str):  # never exit from inside argparse: report as a usage error
        raise UsageError(f"{message}\n\n{self.format_usage().strip()}{self.more_help()}")

    def more_help(self) -> str:
        return f"\n\nFor more help on using this command, run:\n  {self.prog} -help"


def flag(parser: argparse.ArgumentParser, name: str, **kwargs) -> None:
    """Add ``-name`` and ``--name`` for the same option. A switch (``action="store_true"``) is a
    boolean as Go's flag package has it: ``-name``, ``-name=true`` or ``-name=false``."""
    kwargs.setdefault("dest", name.replace("-", "_"))
    parser.add_argument(f"-{name}", f"--{name}", **kwargs)
    if kwargs.get("action") == "store_true" and isinstance(parser, Parser):
        parser.add_argument(
            f"--{name}:false", dest=kwargs["dest"], action="store_false", help=argparse.SUPPRESS
        )
        parser.bool_flags.add(name)


def parse_bool(text: str) -> bool:
    """The spellings Go's flag package accepts for a boolean (strconv.ParseBool), and yes/no."""
    low = text.strip().lower()
    if low in ("true", "t", "1", "yes"):
        return True
    if low in ("false", "f", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def bool_flag(parser: argparse.ArgumentParser, name: str, default: bool, help: str) -> None:
    """``-name`` alone means true and ``-name=false`` false; never takes the next word, as in Go."""
    flag(parser, name, action="store_true", default=default, help=help)
    if not isinstance(parser, Parser):
        parser.add_argument(
            f"--{name}:false", dest=name.replace("-", "_"), action="store_false", help=argparse.SUPPRESS
        )


def is_terminal(stream=None) -> bool:
    stream = stream or sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False

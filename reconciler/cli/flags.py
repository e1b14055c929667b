"""Terraform-style flags on argparse: `-out F`, `-auto-approve`, `-refresh=false`; two dashes work too."""

from __future__ import annotations

import argparse
import sys


class UsageError(Exception):
    """Bad command-line usage; shown with the command's usage line, exit 1."""


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # never exit from inside argparse: report as a usage error
        raise UsageError(f"{message}\n\n{self.format_usage().strip()}")


def flag(parser: argparse.ArgumentParser, name: str, **kwargs) -> None:
    """Add ``-name`` and ``--name`` for the same option."""
    kwargs.setdefault("dest", name.replace("-", "_"))
    parser.add_argument(f"-{name}", f"--{name}", **kwargs)


def parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def bool_flag(parser: argparse.ArgumentParser, name: str, default: bool, help: str) -> None:
    """``-name`` alone means true; ``-name=false`` sets false."""
    flag(parser, name, nargs="?", const=True, default=default, type=parse_bool, help=help)


def is_terminal(stream=None) -> bool:
    stream = stream or sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False

"""`vaultform fmt [-check] [-diff] [-recursive] [-write=false] [-list=false] [FILE|DIR|-]`.

Terraform's canonical layout, byte for byte, with ``terraform fmt``'s flags, file selection
and exit codes: 0 done, 2 a file doesn't parse (nothing is written for it), 3 ``-check``
found a file that needs formatting.
"""

from __future__ import annotations

import difflib
import os
import sys

from reconciler.cli.flags import bool_flag, flag
from reconciler.cli.output import Output
from reconciler.diagnostics import Diagnostic, SourceRange, error
from reconciler.fmt import FormatSyntaxError, format_source

EXTENSIONS = (".tf", ".tfvars", ".tftest.hcl", ".tfmock.hcl", ".tfquery.hcl")


def setup(parser) -> None:
    parser.add_argument(
        "targets", nargs="*", metavar="TARGET", help="files or directories (default: .); - reads stdin"
    )
    bool_flag(parser, "list", True, "list files whose formatting differs (default true)")
    bool_flag(parser, "write", True, "write the result to the files (default true)")
    bool_flag(parser, "diff", False, "show the changes as a unified diff")
    bool_flag(parser, "check", False, "only check: exit 3 when a file needs formatting")
    bool_flag(parser, "recursive", False, "also format files in subdirectories")
    flag(parser, "no-color", action="store_true", help="no colour in the output")


def _ignored(name: str) -> bool:
    """Editor and hidden files, which Terraform's configuration loader skips too."""
    return name.startswith(".") or name.endswith("~") or (name.startswith("#") and name.endswith("#"))


def _display(path: str) -> str:
    return os.path.relpath(path) if os.path.isabs(path) else os.path.normpath(path)


class _Run:
    def __init__(self, args, out: Output, listing):
        self.args = args
        self.out = out
        self.listing = listing  # where changed file names and diffs go
        self.diags: list[Diagnostic] = []

    def file(self, path: str, text: str | None = None) -> None:
        display = "<stdin>" if path == "-" else _display(path)
        if text is None:
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
                text = data.decode("utf-8")
            except OSError as exc:
                self.diags.append(error("fmt", f"Failed to read file {display}", exc.strerror or str(exc)))
                return
            except UnicodeDecodeError as exc:
                self.diags.append(
                    error(
                        "fmt",
                        f"Failed to read file {display}",
                        f"The file is not UTF-8 text (byte {exc.start + 1}); save it as UTF-8.",
                    )
                )
                return
        try:
            result = format_source(text)
        except FormatSyntaxError as exc:
            where = SourceRange(display, exc.problem.line, 1)
            self.diags.append(error("syntax", exc.problem.summary, exc.problem.detail, range=where))
            return
        if result != text:
            if self.args.list:
                self.listing.write(display + "\n")
            if self.args.write:
                self._write(path, result)
            if self.args.diff:
                self.listing.write(_diff(text, result, display))
        if not self.args.list and not self.args.write and not self.args.diff:
            self.listing.write(result)

    def _write(self, path: str, result: str) -> None:
        mode = os.stat(path).st_mode & 0o777
        tmp = f"{path}.vaultform-fmt.tmp"
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(result)
        os.chmod(tmp, mode)
        os.replace(tmp, path)

    def directory(self, path: str) -> None:
        try:
            names = sorted(os.listdir(path))
        except FileNotFoundError:
            self.diags.append(error("fmt", f"There is no configuration directory at {_display(path)}", ""))
            return
        except OSError:
            self.diags.append(error("fmt", f"Cannot read directory {_display(path)}", ""))
            return
        for name in names:
            if _ignored(name):
                continue
            sub = os.path.join(path, name)
            if os.path.isdir(sub):
                if self.args.recursive:
                    self.directory(sub)
                continue
            if name.endswith(EXTENSIONS):
                self.file(sub)


class _LineWriter:
    """Each write ends with exactly one added newline, as Terraform's UI writer prints.

    ``terraform fmt`` writes its results through that writer, so a result without a final
    newline gets one on standard output (files on disk are written as they are).
    """

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        self.stream.write((text[:-1] if text.endswith("\n") else text) + "\n")


def _diff(before: str, after: str, path: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"old/{path}", f"new/{path}"
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def run(args, out: Output) -> int:
    targets = list(args.targets) or ["."]
    stdin = targets == ["-"]
    if stdin:
        args.list = False
        args.write = False
    show_list = args.list
    if args.check:
        args.list = True
        args.write = False
    changed: list[str] = []

    class _Collect:
        def write(self, text: str) -> None:
            changed.append(text)

    run_ = _Run(args, out, _Collect() if args.check else _LineWriter(out.out))
    if stdin:
        run_.file("-", sys.stdin.read())
    for target in [] if stdin else targets:
        if not os.path.exists(target):
            run_.diags.append(error("fmt", f"No file or directory at {_display(target)}", ""))
            break
        if os.path.isdir(target):
            run_.directory(target)
        elif target.endswith(EXTENSIONS):
            run_.file(target)
        else:
            run_.diags.append(
                error(
                    "fmt",
                    "Only .tf, .tfvars, and .tftest.hcl files can be processed with vaultform fmt",
                    f"{_display(target)} is neither; name a configuration file or a directory.",
                )
            )
    out.out.flush()
    if run_.diags:
        out.diagnostics(run_.diags)
        return 2
    if args.check:
        if show_list and changed:
            _LineWriter(out.out).write("".join(changed))
        return 3 if changed else 0
    return 0

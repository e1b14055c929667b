"""Diagnostics are values: collected in lists, rendered in one place.

Every user-facing problem (bad configuration, refused plan, provider error) is a
``Diagnostic`` with a stable code, a one-line summary, a detail that says how to
fix it, and where it came from. Nothing in vaultform shows a Python traceback for
bad input; code raises ``DiagnosticsError`` (or returns a ``Diagnostics``) instead.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from reconciler.diagnostic_source import SourceFiles, range_and_snippet


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class SourceRange:
    """A place in a configuration file; lines and columns start at 1."""

    file: str
    line: int
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: Severity
    code: str
    summary: str
    detail: str = ""
    address: str | None = None
    range: SourceRange | None = None
    # what the references of the expression behind it held, as terraform lists them under the
    # source line: (traversal, statement) pairs such as ("var.n", "is -1"), in traversal order
    values: tuple[tuple[str, str], ...] = ()
    function: str = ""  # the call an argument of which failed, as its signature: "upper(str)"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def with_range(self, range: SourceRange | None) -> Diagnostic:
        if range is None or self.range is not None:
            return self
        return dataclasses.replace(self, range=range)

    def with_address(self, address: str | None) -> Diagnostic:
        if address is None or self.address is not None:
            return self
        return dataclasses.replace(self, address=address)

    def to_json(self, sources: SourceFiles | None = None) -> dict:
        """As terraform writes a diagnostic in JSON (plus vaultform's ``code``); with ``sources``,
        the range has byte offsets and a snippet of the source comes with it."""
        out: dict = {
            "severity": self.severity.value,
            "code": self.code,
            "summary": self.summary,
            "detail": self.detail,
        }
        if self.address:
            out["address"] = self.address
        if self.range:
            r = self.range
            out.update(
                range_and_snippet(
                    r.file, r.line, r.column, r.end_line, r.end_column, sources or SourceFiles()
                )
            )
            if self.values and "snippet" in out:
                out["snippet"]["values"] = [{"traversal": t, "statement": s} for t, s in self.values]
        return out


def error(
    code: str, summary: str, detail: str = "", *, address: str | None = None, range: SourceRange | None = None
) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, summary, detail, address, range)


def warning(
    code: str, summary: str, detail: str = "", *, address: str | None = None, range: SourceRange | None = None
) -> Diagnostic:
    return Diagnostic(Severity.WARNING, code, summary, detail, address, range)


def info(
    code: str, summary: str, detail: str = "", *, address: str | None = None, range: SourceRange | None = None
) -> Diagnostic:
    return Diagnostic(Severity.INFO, code, summary, detail, address, range)


@dataclass
class Diagnostics:
    """An ordered collection of diagnostics with duplicate suppression."""

    items: list[Diagnostic] = field(default_factory=list)
    # What items holds, for constant-time duplicate checks (a list scan made 3,000
    # diagnostics cost seconds); rebuilt if items was changed directly.
    _seen: set[Diagnostic] = field(default_factory=set, repr=False, compare=False)

    def add(self, diag: Diagnostic) -> None:
        if len(self._seen) != len(self.items):
            self._seen = set(self.items)
        if diag not in self._seen:
            self._seen.add(diag)
            self.items.append(diag)

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        for d in diags:
            self.add(d)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.WARNING]

    def sorted(self) -> list[Diagnostic]:
        """Errors first, then by file and line, keeping discovery order otherwise."""
        order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}

        def key(item: tuple[int, Diagnostic]):
            i, d = item
            r = d.range
            return (order[d.severity], r.file if r else "~", r.line if r else 0, i)

        return [d for _, d in sorted(enumerate(self.items), key=key)]

    def to_json(self) -> list[dict]:
        sources = SourceFiles()
        return [d.to_json(sources) for d in self.sorted()]


class DiagnosticsError(Exception):
    """Raised to abandon an operation because of user-facing diagnostics."""

    def __init__(self, diagnostics: Iterable[Diagnostic] | Diagnostic):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = list(diagnostics)
        super().__init__("; ".join(d.summary for d in self.diagnostics))


# ---------------------------------------------------------------------------
# Rendering (the one place diagnostics become text)
# ---------------------------------------------------------------------------


class SourceCache:
    """Reads source lines for snippets; tolerant of missing or binary files."""

    def __init__(self) -> None:
        self._lines: dict[str, list[str]] = {}

    def line(self, file: str, number: int) -> str | None:
        lines = self._lines.get(file)
        if lines is None:
            try:
                # Regular files only: opening a named pipe would wait for a writer forever.
                if not stat.S_ISREG(os.stat(file).st_mode):
                    raise IsADirectoryError(file)
                with open(file, "rb") as fh:
                    lines = fh.read().decode("utf-8", "replace").splitlines()
            except OSError:
                lines = []
            self._lines[file] = lines
        if 1 <= number <= len(lines):
            return lines[number - 1]
        return None


_LABEL = {Severity.ERROR: "Error", Severity.WARNING: "Warning", Severity.INFO: "Info"}


def render_text(
    diags: Iterable[Diagnostic], *, sources: SourceCache | None = None, color: bool = False, display_path=None
) -> str:
    """Render diagnostics the way Terraform users read them.

    ``display_path`` maps a file path to what is shown (e.g. relative to the cwd).
    """
    sources = sources or SourceCache()
    colors = {Severity.ERROR: "\x1b[31m", Severity.WARNING: "\x1b[33m", Severity.INFO: "\x1b[36m"}
    bold, reset = ("\x1b[1m", "\x1b[0m") if color else ("", "")
    chunks: list[str] = []
    for d in diags:
        tint = colors[d.severity] if color else ""
        lines = [f"{tint}{bold}{_LABEL[d.severity]}:{reset}{bold} {d.summary}{reset} [{d.code}]"]
        if d.range:
            shown = display_path(d.range.file) if display_path else d.range.file
            where = f"  on {shown} line {d.range.line}"
            if d.address:
                where += f", in {d.address}"
            lines.append(where + ":")
            text = sources.line(d.range.file, d.range.line)
            if text is not None:
                lines.append(f"  {d.range.line:>4}: {text.rstrip()}")
                if d.values or d.function:  # under the line's colon, as terraform draws them
                    lines.append("      ├────────────────")
                    if d.function:
                        lines.append(f"      │ while calling {bold}{d.function}{reset}")
                    lines.extend(f"      │ {bold}{t}{reset} {s}" for t, s in d.values)
        elif d.address:
            lines.append(f"  with {d.address}")
        if d.detail:
            lines.append("")
            lines.extend(f"  {ln}" if ln else "" for ln in d.detail.splitlines())
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks) + ("\n" if chunks else "")


def render_json(diags: Diagnostics) -> str:
    errors = len(diags.errors)
    doc = {
        "format_version": "1.0",
        "valid": errors == 0,
        "error_count": errors,
        "warning_count": len(diags.warnings),
        "diagnostics": diags.to_json(),
    }
    return json.dumps(doc, indent=2)

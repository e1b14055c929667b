"""A diagnostic's place as terraform's JSON gives it: ``range`` with byte offsets, and ``snippet``.

terraform (views/json/diagnostic.go ``NewDiagnostic`` and ``snippetFromRange``, 1.11) writes,
for a diagnostic with a source range:

* ``range``: file, and start and end as line, column and byte offset in the file; an empty
  range is widened by one byte and one column;
* ``snippet``: ``code``, the source lines the range overlaps (an empty line never overlaps,
  as in HCL's ``Range.Overlaps``), joined with newlines; ``start_line``; the highlight's byte
  offsets into ``code``; ``values`` (always a list here); and ``context``, the header of the
  top-level block around the byte before the range (HCL's ``ContextString``:
  ``resource "terraform_data" "a"``, ``variable "v"``, ``locals``), null outside blocks.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from typing import Any

from reconciler.value_text import go_quote

# A bare label needs blank space before it and a quoted one may go without: no way to split a line
# two ways, so a long line that is no header fails at once (the fuzz test found the backtracking).
_HEADER = re.compile(r'([A-Za-z_][\w-]*)((?:[ \t]*"(?:[^"\\\n]|\\.)*"|[ \t]+[A-Za-z_][\w-]*)*)[ \t]*\{')
_LABEL = re.compile(r'"((?:[^"\\\n]|\\.)*)"|([A-Za-z_][\w-]*)')


@dataclass(frozen=True)
class _Block:
    start: int  # byte offsets in the file: the block's type keyword to just past its closing brace
    end: int
    header: str


class SourceFile:
    """One configuration file's bytes, with where each line starts and its top-level blocks."""

    def __init__(self, data: bytes):
        self.data = data
        self.lines = data.split(b"\n")
        self.starts: list[int] = []
        at = 0
        for line in self.lines:
            self.starts.append(at)
            at += len(line) + 1
        self._blocks: list[_Block] | None = None

    def offset(self, line: int, column: int) -> int:
        """The byte offset of a 1-based line and column (columns count characters)."""
        if line < 1:
            return 0
        if line > len(self.lines):
            return len(self.data)
        text = self.lines[line - 1].decode("utf-8", "replace")
        return self.starts[line - 1] + len(text[: max(column - 1, 0)].encode("utf-8"))

    def line_text(self, number: int) -> bytes:
        return self.lines[number - 1].rstrip(b"\r")

    def context(self, offset: int) -> str | None:
        for block in self.blocks():
            if block.start <= offset < block.end:
                return block.header
        return None

    def blocks(self) -> list[_Block]:
        """Top-level blocks: a header at the start of a line, to the first ``}`` that starts a line."""
        if self._blocks is None:
            found: list[_Block] = []
            open_at: tuple[int, str] | None = None
            for n, raw in enumerate(self.lines):
                text = raw.decode("utf-8", "replace").rstrip("\r")
                if open_at is None:
                    m = _HEADER.match(text)
                    if m:
                        labels = [a if a is not None else b for a, b in _LABEL.findall(m.group(2))]
                        header = " ".join([m.group(1), *(go_quote(label) for label in labels)])
                        if text.rstrip().endswith("}") and text.count("{") == text.count("}"):
                            found.append(_Block(self.starts[n], self.starts[n] + len(raw), header))
                        else:
                            open_at = (self.starts[n], header)
                elif text.startswith("}"):
                    found.append(_Block(open_at[0], self.starts[n] + 1, open_at[1]))
                    open_at = None
            self._blocks = found
        return self._blocks


class SourceFiles:
    """Configuration files read once, for any number of diagnostics (unreadable: None)."""

    def __init__(self) -> None:
        self._files: dict[str, SourceFile | None] = {}

    def get(self, path: str) -> SourceFile | None:
        if path not in self._files:
            try:
                # regular files only: opening a named pipe would wait for a writer forever
                if not stat.S_ISREG(os.stat(path).st_mode):
                    raise IsADirectoryError(path)
                with open(path, "rb") as fh:
                    self._files[path] = SourceFile(fh.read())
            except OSError:
                self._files[path] = None
        return self._files[path]


def range_and_snippet(
    file: str, line: int, column: int, end_line: int | None, end_column: int | None, sources: SourceFiles
) -> dict[str, Any]:
    """``{"range": ..., "snippet": ...}`` as terraform writes them (no snippet without the file)."""
    end_line, end_column = end_line or line, end_column or column
    src = sources.get(file)
    if src is None:
        return {
            "range": {
                "filename": file,
                "start": {"line": line, "column": column},
                "end": {"line": end_line, "column": end_column},
            }
        }
    start, end = src.offset(line, column), src.offset(end_line, end_column)
    if end <= start:  # an empty range is widened to one byte, as terraform does
        end_line, end_column, end = line, column + 1, start + 1
    out: dict[str, Any] = {
        "range": {
            "filename": file,
            "start": {"line": line, "column": column, "byte": start},
            "end": {"line": end_line, "column": end_column, "byte": end},
        }
    }
    code: list[bytes] = []
    code_start: int | None = None
    for n in range(line, min(end_line, len(src.lines)) + 1):
        text = src.line_text(n)
        line_start = src.starts[n - 1]
        if text and line_start < end and start < line_start + len(text):
            code_start = line_start if code_start is None else code_start
            code.append(text)
    snippet_code = b"\n".join(code)
    low = max(0, min(start - (code_start or 0), len(snippet_code)))
    high = max(0, min(low + (end - start), len(snippet_code)))
    out["snippet"] = {
        "context": src.context(start - 1),
        "code": snippet_code.decode("utf-8", "replace"),
        "start_line": line,
        "highlight_start_offset": low,
        "highlight_end_offset": high,
        "values": [],
    }
    return out

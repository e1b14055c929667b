"""Lexical helpers for the loader: bracket matching, template ends, strip markers.

python-hcl2's grammar covers almost everything vaultform needs; these small
scanners fill the few gaps without re-implementing a parser:

* ``find_template_close`` finds the ``}`` that ends a ``${...}`` or ``%{...}``
  sequence (quoted strings and nested templates inside it are skipped); the
  heredoc template parser and the strip-marker pre-pass use it.
* ``strip_interpolation_markers`` blanks the ``~`` of ``${~ ... ~}`` (the grammar
  accepts strip markers on directives only) and remembers where they were, so
  the converter can restore them. Replacing a character by a space keeps every
  line and column unchanged.
* ``scan_brackets`` walks the text once, skipping comments, strings and
  heredocs, and reports the brackets left open at the end, the first closer
  without an opener, an unterminated string, an unterminated heredoc and the
  deepest nesting. Syntax-error messages are phrased from its findings.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

_HEREDOC_START = re.compile(r"<<-?([A-Za-z][A-Za-z0-9._-]*)\r?\n")
_OPENERS = {"{": "}", "[": "]", "(": ")"}
_CLOSERS = {"}": "{", "]": "[", ")": "("}


class LineIndex:
    """Maps string offsets to 1-based (line, column) and back."""

    def __init__(self, text: str) -> None:
        self._starts = [0]
        start = text.find("\n")
        while start >= 0:
            self._starts.append(start + 1)
            start = text.find("\n", start + 1)

    def position(self, offset: int) -> tuple[int, int]:
        i = bisect_right(self._starts, offset) - 1
        return i + 1, offset - self._starts[i] + 1

    def offset(self, line: int, column: int) -> int:
        return self._starts[line - 1] + column - 1


def skip_string(text: str, i: int, on_interp=None, on_depth=None) -> int:
    """``i`` is just after an opening quote; return the index after the closing one.

    Returns ``-1`` when the string is not terminated. ``on_interp(start, close)``
    is called for every ``${`` found (``start`` at the ``$``), innermost first;
    ``on_depth(start, depth)`` for every ``${``/``%{`` opened, with how many
    templates enclose it (1 for one directly in this string).
    """
    return _scan(text, i, [_STRING], on_interp, on_depth)


def find_template_close(text: str, i: int, on_interp=None) -> int:
    """``i`` is just after ``${`` or ``%{``; return the index of the matching ``}`` or -1."""
    return _scan(text, i, [[_TEMPLATE, i - 2, text[i - 2 : i - 1], 0]], on_interp, None)


_STRING = "string"
_TEMPLATE = "template"


def _scan(text: str, i: int, stack: list, on_interp, on_depth) -> int:
    """Strings inside templates inside strings, to any depth, with an explicit stack (a
    recursive scanner overflowed Python's stack on a template nested a few hundred deep).

    A string entry is ``_STRING``; a template entry is ``[_TEMPLATE, start, "$" or "%",
    open braces]``. Returns the index after the closing quote of the outermost string,
    or the index of the ``}`` closing the outermost template; -1 if it never ends."""
    n = len(text)
    templates = sum(1 for entry in stack if entry is not _STRING)
    while i < n:
        top = stack[-1]
        c = text[i]
        if top is _STRING:
            if c == "\\":
                i += 2
            elif c == '"':
                stack.pop()
                i += 1
                if not stack:
                    return i
            elif c == "\n":
                return -1
            elif c in "$%" and text.startswith(c + c + "{", i):
                i += 3
            elif c in "$%" and text.startswith(c + "{", i):
                stack.append([_TEMPLATE, i, c, 0])
                templates += 1
                if on_depth is not None:
                    on_depth(i, templates)
                i += 2
            else:
                i += 1
            continue
        if c == '"':
            stack.append(_STRING)
        elif c == "{":
            top[3] += 1
        elif c == "}":
            if top[3] == 0:
                stack.pop()
                templates -= 1
                if top[2] == "$" and on_interp is not None:
                    on_interp(top[1], i)
                if not stack:
                    return i
            else:
                top[3] -= 1
        i += 1
    return -1


def strip_interpolation_markers(text: str) -> tuple[str, dict[int, tuple[bool, bool]]]:
    """Blank the ``~`` strip markers of ``${~ x ~}`` interpolations in quoted strings.

    Returns the new text (same length, same lines) and a map from the offset of
    each affected ``${`` to its (strip_left, strip_right) flags. Heredocs are
    left alone: the converter reads heredoc bodies with its own template scanner.
    """
    if "~}" not in text and "${~" not in text:
        return text, {}
    chars = list(text)
    marks: dict[int, tuple[bool, bool]] = {}

    def on_interp(start: int, close: int) -> None:
        left = text.startswith("${~", start)
        right = close > start + 2 and text[close - 1] == "~"
        if left or right:
            marks[start] = (left, right)
            if left:
                chars[start + 2] = " "
            if right and close - 1 != start + 2:
                chars[close - 1] = " "

    _walk_code(text, on_interp=on_interp)
    if not marks:
        return text, {}
    return "".join(chars), marks


@dataclass
class BracketReport:
    unclosed: list[tuple[str, int]] = field(default_factory=list)  # (char, offset), innermost last
    stray_closer: tuple[str, int] | None = None
    # the innermost opener still open when the stray closer came (a "}" where a "[" is open), if any
    open_at_stray: tuple[str, int] | None = None
    unterminated_string: int | None = None
    unterminated_heredoc: tuple[str, int] | None = None
    max_depth: int = 0
    too_deep_at: int | None = None  # offset of the first opener deeper than the limit


def scan_brackets(text: str, depth_limit: int = 10**9) -> BracketReport:
    report = BracketReport()
    _walk_code(text, report=report, depth_limit=depth_limit)
    return report


def _walk_code(
    text: str, *, report: BracketReport | None = None, on_interp=None, depth_limit: int = 10**9
) -> None:
    """One pass over configuration text outside strings, comments and heredocs."""
    n = len(text)
    i = 0
    stack: list[tuple[str, int]] = []
    on_depth = None
    if report is not None:

        def on_depth(start: int, templates: int) -> None:
            # a template inside a string counts as one more level of nesting
            _deeper(report, len(stack) + templates, start, depth_limit)

    while i < n:
        c = text[i]
        if c == "#" or (c == "/" and text.startswith("//", i)):
            nl = text.find("\n", i)
            i = n if nl < 0 else nl + 1
            continue
        if c == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if c == '"':
            end = skip_string(text, i + 1, on_interp, on_depth)
            if end < 0:
                if report is not None and report.unterminated_string is None:
                    report.unterminated_string = i
                nl = text.find("\n", i)
                i = n if nl < 0 else nl + 1
                continue
            i = end
            continue
        if c == "<" and text.startswith("<<", i):
            m = _HEREDOC_START.match(text, i)
            if m:
                marker = m.group(1)
                close = re.compile(r"^[ \t]*" + re.escape(marker) + r"[ \t]*\r?$", re.M).search(text, m.end())
                if close is None:
                    if report is not None and report.unterminated_heredoc is None:
                        report.unterminated_heredoc = (marker, i)
                    return
                i = close.end()
                continue
        if report is not None:
            if c in _OPENERS:
                stack.append((c, i))
                _deeper(report, len(stack), i, depth_limit)
            elif c in _CLOSERS:
                if stack and stack[-1][0] == _CLOSERS[c]:
                    stack.pop()
                elif report.stray_closer is None:
                    report.stray_closer = (c, i)
                    report.open_at_stray = stack[-1] if stack else None
        i += 1
    if report is not None:
        report.unclosed = stack


def _deeper(report: BracketReport, depth: int, offset: int, depth_limit: int) -> None:
    if depth > report.max_depth:
        report.max_depth = depth
        if depth > depth_limit and report.too_deep_at is None:
            report.too_deep_at = offset

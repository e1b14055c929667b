"""Turn python-hcl2 / Lark parse failures into one readable Diagnostic.

Lark reports "unexpected token X, expected one of A, B, C ...". Users need the
cause instead: an unclosed block, a missing "=", an unterminated string. The
classifier below looks at the exception, and at a light scan of the text
(``loader_scan.scan_brackets``), and phrases one sentence pointing at the line
where the problem starts.
"""

from __future__ import annotations

import re

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from reconciler.config.loader_scan import LineIndex, scan_brackets
from reconciler.diagnostics import Diagnostic, SourceRange, error

CODE = "syntax"

_EXPR_START = {
    "NAME",
    "INT_LITERAL",
    "FLOAT_LITERAL",
    "DBLQUOTE",
    "LSQB",
    "LBRACE",
    "LPAR",
    "MINUS",
    "NOT",
    "TRUE",
    "FALSE",
    "NULL",
    "HEREDOC_TEMPLATE",
    "HEREDOC_TEMPLATE_TRIM",
    "TEMPLATE_STRING",
}
_WORDS = {
    "RBRACE": '"}"',
    "RSQB": '"]"',
    "RPAR": '")"',
    "COMMA": '","',
    "EQ": '"="',
    "LBRACE": '"{"',
    "COLON": '":"',
    "QMARK": '"?"',
    "FOR_OBJECT_ARROW": '"=>"',
    "NL_OR_COMMENT": "a new line",
    "$END": "the end of the file",
    "IN": '"in"',
    "DBLQUOTE": "a closing quote",
    "INTERP_START": '"${"',
    "ELLIPSIS": '"..."',
}
_BLOCK_HEADER = re.compile(r'^\s*[A-Za-z_][\w-]*(\s+("[^"]*"|[A-Za-z_][\w-]*))*\s*\{\s*(#.*|//.*)?$')
_NO_EQUALS = re.compile(r"^\s*([A-Za-z_][\w-]*)\s+(?![=\s])(\S.*)$")
_OPENER_NAMES = {"{": "block", "[": "list", "(": "parenthesis"}
_CLOSER = {"{": "}", "[": "]", "(": ")"}
_CLOSERS = set(_CLOSER.values())


def syntax_error(filename: str, line: int, column: int, summary: str, detail: str = "") -> Diagnostic:
    return error(CODE, summary, detail, range=SourceRange(filename, max(line, 1), max(column, 1)))


def from_exception(exc: BaseException, text: str, filename: str) -> Diagnostic:
    """One diagnostic for a Lark exception raised while parsing ``text``."""
    lines = text.split("\n")
    index = LineIndex(text)
    if isinstance(exc, UnexpectedCharacters):
        return _bad_character(exc, text, filename, index)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        return _end_of_file(exc, text, lines, filename, index)
    if isinstance(exc, UnexpectedToken):
        return _unexpected_token(exc, text, lines, filename, index)
    if isinstance(exc, UnexpectedInput):
        return syntax_error(
            filename,
            getattr(exc, "line", 1),
            getattr(exc, "column", 1),
            "Invalid syntax",
            "Check this line for a typo.",
        )
    return syntax_error(filename, 1, 1, "Invalid syntax", str(exc)[:200])


def _at(index: LineIndex, offset: int) -> tuple[int, int]:
    return index.position(offset)


def _bad_character(exc: UnexpectedCharacters, text: str, filename: str, index: LineIndex) -> Diagnostic:
    report = scan_brackets(text)
    if report.unterminated_heredoc:
        return _heredoc(report.unterminated_heredoc, filename, index)
    if report.unterminated_string is not None:
        return _string(report.unterminated_string, filename, index)
    char = exc.char if exc.char not in ("\n", "\r") else "new line"
    return syntax_error(
        filename,
        exc.line,
        exc.column,
        f'Invalid character "{char}"',
        "This character can't start an expression here; remove it or put it in quotes.",
    )


def _heredoc(found: tuple[str, int], filename: str, index: LineIndex) -> Diagnostic:
    marker, offset = found
    line, col = _at(index, offset)
    return syntax_error(
        filename,
        line,
        col,
        f'Unterminated heredoc: no line closes "<<{marker}"',
        f'End the heredoc with a line containing only "{marker}".',
    )


def _string(offset: int, filename: str, index: LineIndex) -> Diagnostic:
    line, col = _at(index, offset)
    return syntax_error(
        filename,
        line,
        col,
        "Unterminated string",
        'This string has no closing quote on its line; add the missing ".',
    )


def _unclosed(
    found: tuple[str, int], lines: list[str], filename: str, index: LineIndex, detail: str | None = None
) -> Diagnostic:
    char, offset = found
    line, col = _at(index, offset)
    kind = _OPENER_NAMES[char]
    if char == "{" and not _BLOCK_HEADER.match(lines[line - 1]):
        kind = "object"
    closer = _CLOSER[char]
    return syntax_error(
        filename,
        line,
        col,
        f'Unclosed {kind}: the "{char}" on line {line} has no matching "{closer}"',
        detail or f'Add the missing "{closer}" where the {kind} ends.',
    )


def _missing_equals(lines: list[str], line: int, filename: str) -> Diagnostic | None:
    """``name value`` without "=" on ``line`` or the nearest non-blank line before it."""
    for n in (line, line - 1, line - 2):
        if 1 <= n <= len(lines) and lines[n - 1].strip():
            text = re.split(r"\s(?:#|//)", lines[n - 1])[0].rstrip()
            m = _NO_EQUALS.match(text)
            if m and not text.endswith(("{", "}")):
                name = m.group(1)
                return syntax_error(
                    filename,
                    n,
                    lines[n - 1].index(name) + 1,
                    f'Missing "=" after argument name "{name}"',
                    f'Write {name} = {m.group(2)}; a block would need "{{" after its labels.',
                )
            if n != line:
                return None
    return None


def _end_of_file(exc, text: str, lines: list[str], filename: str, index: LineIndex) -> Diagnostic:
    report = scan_brackets(text)
    if report.unterminated_heredoc:
        return _heredoc(report.unterminated_heredoc, filename, index)
    if report.unterminated_string is not None:
        return _string(report.unterminated_string, filename, index)
    expected = set(getattr(exc, "expected", None) or ())
    last = len(text.rstrip("\n").split("\n"))
    if _header_context(expected):
        found = _missing_equals(lines, last, filename)
        if found:
            return found
    if report.unclosed:
        return _unclosed(report.unclosed[-1], lines, filename, index)
    if expected & _EXPR_START:
        return syntax_error(
            filename,
            last,
            1,
            "Missing value: the file ends where an expression should be",
            "Complete the expression or remove the unfinished line.",
        )
    return syntax_error(
        filename,
        last,
        1,
        "Unexpected end of file",
        f"The file ends too early; expected {_describe_expected(expected)}.",
    )


def _unexpected_token(
    exc: UnexpectedToken, text: str, lines: list[str], filename: str, index: LineIndex
) -> Diagnostic:
    token = exc.token
    expected = set(exc.expected or ())
    line, col = exc.line, exc.column
    report = scan_brackets(text)
    if _header_context(expected):
        target = line - 1 if token.type in ("NAME", "RBRACE") and col == _indent(lines, line) else line
        found = _missing_equals(lines, target, filename)
        if found:
            return found
    if token.type == "STRING_CHARS":
        if str(token.value).lstrip(" \t").startswith(("\n", "#", "//", "/*")) and expected & _EXPR_START:
            return _missing_value(lines, line, filename)
        if report.unterminated_heredoc:
            return _heredoc(report.unterminated_heredoc, filename, index)
        char = str(token.value)[:1]
        if char in _CLOSERS and report.unclosed:
            return _unclosed(
                report.unclosed[-1],
                lines,
                filename,
                index,
                f'Found "{char}" on line {line} first; add the missing '
                f'"{_CLOSER[report.unclosed[-1][0]]}" before it.',
            )
        if char == "\n":
            char = "new line"
        return syntax_error(
            filename,
            line,
            col,
            f'Invalid character "{char}"',
            "This character can't start an expression here; remove it or put it in quotes.",
        )
    if report.unterminated_string is not None and _at(index, report.unterminated_string)[0] <= line:
        return _string(report.unterminated_string, filename, index)
    if token.type in ("RBRACE", "RSQB", "RPAR"):
        if report.stray_closer is not None:
            sline, scol = _at(index, report.stray_closer[1])
            if report.open_at_stray is not None:  # it closes nothing: something else is open
                return _unclosed(
                    report.open_at_stray,
                    lines,
                    filename,
                    index,
                    f'Found "{report.stray_closer[0]}" on line {sline} first; add the missing '
                    f'"{_CLOSER[report.open_at_stray[0]]}" before it.',
                )
            return syntax_error(
                filename,
                sline,
                scol,
                f'Unexpected "{report.stray_closer[0]}"',
                "Nothing is open here for it to close; remove it or add the matching opener.",
            )
        return syntax_error(
            filename, line, col, f'Unexpected "{token.value}"', f"Expected {_describe_expected(expected)}."
        )
    if token.type == "NL_OR_COMMENT" and expected & _EXPR_START:
        return _missing_value(lines, line, filename)
    if (
        report.unclosed
        and token.type in ("NAME", "NL_OR_COMMENT")
        and ("RSQB" in expected or "RPAR" in expected or "COMMA" in expected)
    ):
        return _unclosed(report.unclosed[-1], lines, filename, index)
    return syntax_error(
        filename,
        line,
        col,
        f"Unexpected {_describe_token(token)}",
        f"Expected {_describe_expected(expected)}.",
    )


def _missing_value(lines: list[str], line: int, filename: str) -> Diagnostic:
    text = lines[line - 1] if 1 <= line <= len(lines) else ""
    m = re.match(r"^\s*([A-Za-z_][\w-]*)\s*=\s*$", text.split("#")[0])
    if m:
        return syntax_error(
            filename,
            line,
            text.index(m.group(1)) + 1,
            f'Missing value for argument "{m.group(1)}"',
            f'Write a value after "{m.group(1)} =", for example a quoted string, a number or a reference.',
        )
    return syntax_error(
        filename,
        line,
        max(len(text.rstrip()), 1),
        "Missing value: an expression is needed before the end of the line",
        "Complete the expression (for example a quoted string, a number or a reference).",
    )


def _header_context(expected: set[str]) -> bool:
    """The parser was reading a block header or an argument name (not an expression)."""
    return "EQ" in expected or ("LBRACE" in expected and not expected & (_EXPR_START - {"LBRACE"}))


def _indent(lines: list[str], line: int) -> int:
    if 1 <= line <= len(lines):
        text = lines[line - 1]
        return len(text) - len(text.lstrip()) + 1
    return 1


def _describe_token(token) -> str:
    value = str(token.value)
    if token.type == "NL_OR_COMMENT":
        return "comment" if value.lstrip().startswith(("#", "//", "/*")) else "new line"
    if token.type == "NAME":
        return f'name "{value}"'
    if token.type == "DBLQUOTE":
        return "string"
    return f'"{value.strip()[:20]}"'


def _describe_expected(expected: set[str]) -> str:
    words: list[str] = []
    if expected & _EXPR_START:
        words.append("an expression")
    for name in sorted(expected - _EXPR_START):
        word = _WORDS.get(name)
        if word and word not in words:
            words.append(word)
    if not words:
        return "something else here"
    return " or ".join(words[:4])

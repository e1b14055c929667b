"""Templates: quoted strings and heredocs become ``ast.Literal`` or ``ast.Template``.

Both kinds are first flattened into a list of pieces (literal text,
interpolations and the five directive kinds), then whitespace stripping is
applied and the ``%{if}``/``%{for}`` structure is assembled by one routine, so
quoted strings and heredocs behave the same.

Literal text is kept as HCL's scanner cuts it: a piece ends after each newline
and where a ``${``/``%{`` sequence begins, so every line of a heredoc (or of a
``templatefile`` template, read as one) is a piece of its own. Strip markers
(``~``) are applied here, statically, to those pieces as terraform 1.11 does: a
``~`` on the left of a sequence trims the trailing whitespace of the one piece
just before it, one on the right trims the leading whitespace of the one piece
just after it. In a multi-line template ``%{ for ... ~}`` therefore eats only the
rest of its own line (its newline included), never the next line's indentation.
``TemplateInterp.strip_left/strip_right`` still record the markers, but the
literal text around them is already trimmed.

python-hcl2 keeps a heredoc as one opaque token, so heredoc bodies are read by
``heredoc_pieces`` here: ``$${``/``%%{`` are escapes, and each ``${...}`` or
``%{...}`` expression is parsed by python-hcl2 on its own (the caller's
``parse_fragment``) at its real line and column. A ``<<-`` body is dedented in
``build`` after the strip markers were applied, by HCL's rule: the smallest
count of leading whitespace (spaces or tabs) over the pieces that begin a line,
where a piece of only whitespace ending in a newline (a blank line) neither
counts nor changes. Backslash escapes are not processed in heredocs (as in HCL).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from hcl2.rules.directives import (
    TemplateElseRule,
    TemplateEndforRule,
    TemplateEndifRule,
    TemplateForRule,
    TemplateForStartRule,
    TemplateIfRule,
    TemplateIfStartRule,
)
from hcl2.rules.strings import InterpolationRule
from hcl2.utils import process_escape_sequences

from reconciler.config import ast, graphemes
from reconciler.config.loader_scan import LineIndex, find_template_close


class TemplateProblem(Exception):
    """A template that can't be assembled; carries a position for the diagnostic."""

    def __init__(self, summary: str, detail: str, pos: ast.Pos):
        super().__init__(summary)
        self.summary = summary
        self.detail = detail
        self.pos = pos


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Interp:
    expr: ast.Expr
    strip_left: bool
    strip_right: bool


@dataclass(frozen=True, slots=True)
class Directive:
    kind: str  # "if" | "else" | "endif" | "for" | "endfor"
    strip_left: bool
    strip_right: bool
    pos: ast.Pos
    expr: ast.Expr | None = None  # the if condition or the for collection
    key_var: str | None = None
    value_var: str | None = None


Piece = Text | Interp | Directive

# A backslash must start one of HCL's escapes (the grammar lets anything through).
_ESCAPE = re.compile(r"\\(?:[nrt\"\\]|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})|(\\.?)", re.S)


def _invalid_escape(text: str) -> str | None:
    if "\\" not in text:
        return None
    for m in _ESCAPE.finditer(text):
        if m.group(1) is not None:
            return m.group(1)
    return None


# --------------------------------------------------------------------------- assembly


def build(pieces: list[Piece], pos: ast.Pos, *, heredoc: bool, flush: bool = False) -> ast.Expr:
    """Strip, dedent (``flush``: a ``<<-`` heredoc), assemble and simplify: a template
    without sequences is a Literal."""
    stripped = _apply_strip(pieces)
    if flush:
        stripped = _flush(stripped)
    parts, i, stop = _assemble(stripped, 0, pos, ())
    if stop is not None:
        raise TemplateProblem(
            f"Unexpected %{{{stop.kind}}}",
            f"This %{{{stop.kind}}} has no opening directive; remove it or add "
            f"the matching %{{if}} / %{{for}}.",
            stop.pos,
        )
    if all(isinstance(p, str) for p in parts):
        return ast.Literal("".join(parts), pos)
    return ast.Template(parts, pos, heredoc)


# What HCL's strip markers and heredoc dedent treat as whitespace (Go's unicode.IsSpace).
WHITESPACE = (
    "\t\n\v\f\r \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)


def _apply_strip(pieces: list[Piece]) -> list[Piece]:
    """Trim the one literal piece on each side of a ``~`` marker (HCL's parseTemplateParts)."""
    out = list(pieces)
    for i, p in enumerate(out):
        if isinstance(p, (Interp, Directive)):
            before, after = out[i - 1] if i > 0 else None, out[i + 1] if i + 1 < len(out) else None
            if p.strip_left and isinstance(before, Text):
                out[i - 1] = Text(before.text.rstrip(WHITESPACE))
            if p.strip_right and isinstance(after, Text):
                out[i + 1] = Text(after.text.lstrip(WHITESPACE))
    return out


def _flush(pieces: list[Piece]) -> list[Piece]:
    """A ``<<-`` heredoc's dedent (HCL's flushHeredocTemplateParts), on stripped pieces.

    Only a literal piece that follows one ending in a newline (or comes first) begins
    a line; a sequence there counts as no indentation, and so does a piece that a
    strip marker emptied.
    """
    least = None
    line_start = True
    leading: dict[int, Text] = {}
    for i, p in enumerate(pieces):
        if line_start:
            line_start = False
            spaces = 0
            if isinstance(p, Text):
                rest = p.text.lstrip(WHITESPACE)
                if rest or not p.text.endswith("\n"):
                    spaces = graphemes.count(p.text[: len(p.text) - len(rest)])
                    leading[i] = p
                else:
                    spaces = -1  # a blank line
            if spaces >= 0 and (least is None or spaces < least):
                least = spaces
        if isinstance(p, Text) and p.text.endswith("\n"):
            line_start = True
    if not least:
        return pieces
    out = list(pieces)
    for i, piece in leading.items():
        # indentation counts grapheme clusters: a space with a combining mark is one
        out[i] = Text("".join(graphemes.clusters(piece.text)[least:]))
    return out


def _assemble(pieces: list[Piece], i: int, pos: ast.Pos, stops: tuple[str, ...]):
    """Parts from ``i`` until a directive whose kind is in ``stops`` (returned, consumed)."""
    parts: list[ast.TemplatePart] = []
    while i < len(pieces):
        p = pieces[i]
        if isinstance(p, Text):
            if p.text:
                if parts and isinstance(parts[-1], str):
                    parts[-1] += p.text
                else:
                    parts.append(p.text)
            i += 1
        elif isinstance(p, Interp):
            parts.append(ast.TemplateInterp(p.expr, p.strip_left, p.strip_right))
            i += 1
        elif p.kind in stops:
            return tuple(parts), i + 1, p
        elif p.kind == "if":
            then, i, end = _assemble(pieces, i + 1, pos, ("else", "endif"))
            else_: tuple = ()
            if end is not None and end.kind == "else":
                else_, i, end = _assemble(pieces, i, pos, ("endif",))
            if end is None or end.kind != "endif":
                raise _unterminated(p, "endif")
            assert p.expr is not None  # the scanner gives every if its condition
            parts.append(ast.TemplateIf(p.expr, then, else_, _span(p.pos, end.pos)))
        elif p.kind == "for":
            body, i, end = _assemble(pieces, i + 1, pos, ("endfor",))
            if end is None:
                raise _unterminated(p, "endfor")
            assert p.value_var is not None and p.expr is not None  # the scanner gives every for both
            parts.append(ast.TemplateFor(p.key_var, p.value_var, p.expr, body, _span(p.pos, end.pos)))
        else:
            return tuple(parts), i + 1, p
    return tuple(parts), i, None


def _unterminated(p: Directive, closer: str) -> TemplateProblem:
    return TemplateProblem(
        f"Unterminated template directive: %{{{p.kind}}} has no %{{{closer}}}",
        f"Add %{{{closer}}} where the %{{{p.kind}}} section ends.",
        p.pos,
    )


def _span(a: ast.Pos, b: ast.Pos) -> ast.Pos:
    return ast.Pos(a.file, a.line, a.column, b.end_line, b.end_column)


# --------------------------------------------------------------------------- quoted strings


def quoted_pieces(rule, conv) -> list[Piece]:
    """Flatten a python-hcl2 StringRule's parts; ``conv`` converts expressions.

    TemplateIfRule/TemplateForRule expose their pieces only as ``_if_start``,
    ``_if_body`` ... attributes (python-hcl2 8.1, pinned in pyproject.toml).
    """
    out: list[Piece] = []
    for part in rule.string_parts:
        _add_piece(part, out, conv)
    return out


def _add_piece(part, out: list[Piece], conv) -> None:
    """Append ``part``'s pieces to ``out``. (A function of its own, not a closure inside
    ``quoted_pieces``: a recursive closure is a reference cycle, left to the garbage
    collector, for every string of the configuration.)"""
    content = part.content if hasattr(part, "content") else part
    if isinstance(content, InterpolationRule):
        left, right = conv.strip_marks_at(content._meta)
        out.append(Interp(conv.expr(content.expression), left, right))
    elif isinstance(content, TemplateIfRule):
        _add_piece(content._if_start, out, conv)
        for sub in content._if_body:
            _add_piece(sub, out, conv)
        if content._else_rule is not None:
            _add_piece(content._else_rule, out, conv)
            for sub in content._else_body:
                _add_piece(sub, out, conv)
        _add_piece(content._endif, out, conv)
    elif isinstance(content, TemplateForRule):
        _add_piece(content._for_start, out, conv)
        for sub in content._body:
            _add_piece(sub, out, conv)
        _add_piece(content._endfor, out, conv)
    elif isinstance(content, TemplateIfStartRule):
        out.append(
            Directive(
                "if",
                content.strip_open,
                content.strip_close,
                conv.pos(content._meta),
                expr=conv.expr(content.condition),
            )
        )
    elif isinstance(content, TemplateForStartRule):
        first = content.iterator.token.value
        second = content.key_iterator.token.value if content.key_iterator is not None else None
        out.append(
            Directive(
                "for",
                content.strip_open,
                content.strip_close,
                conv.pos(content._meta),
                expr=conv.expr(content.collection),
                key_var=first if second is not None else None,
                value_var=second if second is not None else first,
            )
        )
    elif isinstance(content, (TemplateElseRule, TemplateEndifRule, TemplateEndforRule)):
        kind = {TemplateElseRule: "else", TemplateEndifRule: "endif", TemplateEndforRule: "endfor"}[
            type(content)
        ]
        out.append(Directive(kind, content.strip_open, content.strip_close, conv.pos(content._meta)))
    else:
        name = content.lark_name()
        value = str(content.value)
        if name == "ESCAPED_INTERPOLATION":
            out.append(Text("$" + value[2:]))
        elif name == "ESCAPED_DIRECTIVE":
            out.append(Text("%" + value[2:]))
        else:
            bad = _invalid_escape(value)
            if bad is not None:
                raise TemplateProblem(
                    f'Invalid escape sequence "{bad}"',
                    'Quoted strings accept \\n, \\r, \\t, \\", \\\\, \\uNNNN and '
                    "\\UNNNNNNNN; write \\\\ for a literal backslash.",
                    conv.pos(part._meta),
                )
            out.append(Text(process_escape_sequences(value)))


# --------------------------------------------------------------------------- heredocs

_HEADER = re.compile(r"<<(-?)([A-Za-z][A-Za-z0-9._-]*)\r?\n")
_IF = re.compile(r"if\s+(.*)\Z", re.S)
_FOR = re.compile(r"for\s+([A-Za-z_][\w-]*)\s*(?:,\s*([A-Za-z_][\w-]*)\s*)?\s+in\s+(.*)\Z", re.S)

Fragment = Callable[[str, int, int], ast.Expr]


def heredoc_body(raw: str) -> tuple[str, bool, int, int]:
    """Split a heredoc token into (body, trimmed, closing-line offset, closing-line length)."""
    m = _HEADER.match(raw)
    assert m is not None  # the grammar's terminal guarantees this shape
    rest = raw[m.end() :].rstrip("\n").rstrip("\r")
    nl = rest.rfind("\n")
    body = rest[: nl + 1] if nl >= 0 else ""
    closing = rest[nl + 1 :] if nl >= 0 else rest
    return body.replace("\r\n", "\n"), m.group(1) == "-", body.count("\n") + 1, len(closing)


def heredoc_pieces(body: str, first_line: int, file: str, fragment: Fragment) -> list[Piece]:
    """Pieces of a heredoc (or template file) body whose first line is ``first_line`` of
    the file. Literal text is cut after every newline, as HCL's scanner cuts it."""
    index = LineIndex(body)

    def where(offset: int) -> tuple[int, int]:
        line, col = index.position(offset)
        return first_line + line - 1, col

    def pos(start: int, end: int) -> ast.Pos:
        (l1, c1), (l2, c2) = where(start), where(end)
        return ast.Pos(file, l1, c1, l2, c2)

    out: list[Piece] = []
    text: list[str] = []  # literal text since the last sequence or newline

    def flush_text() -> None:
        joined = "".join(text)
        if joined:
            out.append(Text(joined))
        text.clear()

    i = lit = 0
    n = len(body)
    while i < n:
        c = body[i]
        if c == "\n":
            text.append(body[lit : i + 1])
            flush_text()
            i = lit = i + 1
            continue
        if c in "$%" and body.startswith(c + c + "{", i):
            text.append(body[lit:i] + c)
            i += 2
            lit = i
            continue
        if c in "$%" and body.startswith(c + "{", i):
            close = find_template_close(body, i + 2)
            if close < 0:
                raise TemplateProblem(
                    "Unterminated template sequence",
                    f'The "{c}{{" here has no closing "}}" in the heredoc.',
                    pos(i, i + 2),
                )
            text.append(body[lit:i])
            flush_text()
            inner = body[i + 2 : close]
            left = inner.startswith("~")
            right = inner.endswith("~") and len(inner) > (1 if left else 0)
            start = i + 2 + (1 if left else 0)
            seq = inner[(1 if left else 0) : len(inner) - (1 if right else 0)]
            line, col = where(start)
            if c == "$":
                out.append(Interp(fragment(seq, line, col), left, right))
            else:
                out.append(_directive(seq, line, col, left, right, pos(i, close + 1), fragment))
            i = lit = close + 1
            continue
        i += 1
    text.append(body[lit:])
    flush_text()
    return out


def _directive(
    text: str, line: int, col: int, left: bool, right: bool, where: ast.Pos, fragment: Fragment
) -> Directive:
    lead = len(text) - len(text.lstrip())
    word = text.strip()
    if word in ("else", "endif", "endfor"):
        return Directive(word, left, right, where)
    m = _IF.match(word)
    if m:
        return Directive("if", left, right, where, expr=fragment(m.group(1), line, col + lead + m.start(1)))
    m = _FOR.match(word)
    if m:
        first, second = m.group(1), m.group(2)
        return Directive(
            "for",
            left,
            right,
            where,
            expr=fragment(m.group(3), line, col + lead + m.start(3)),
            key_var=first if second else None,
            value_var=second or first,
        )
    raise TemplateProblem(
        "Invalid template directive",
        'A "%{" directive must be one of: if <condition>, else, endif, for <name> in <collection>, endfor.',
        where,
    )

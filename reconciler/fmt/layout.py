"""Canonical whitespace between tokens: indentation, spacing, and aligned ``=`` and comments.

The same three passes Terraform's formatter makes (hashicorp/hcl, hclwrite/format.go): each
line is split into cells (lead, assignment, trailing comment); leading space becomes two
spaces per open bracket level; the space between two tokens follows one table of rules;
then consecutive lines align their ``=`` and their trailing comments. Only
``spaces_before`` changes, never a token's text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.fmt.tokens import T, Token, columns

_OPENERS = frozenset({T.O_BRACE, T.O_BRACK, T.O_PAREN, T.TEMPLATE_INTERP, T.TEMPLATE_CONTROL})
_CLOSERS = frozenset({T.C_BRACE, T.C_BRACK, T.C_PAREN, T.TEMPLATE_SEQ_END})
_NIL = Token(T.EOF, "")

# a minus after one of these starts a negative number, not a subtraction
_NEGATION_AFTER = frozenset(
    {
        T.EOF,
        T.O_PAREN,
        T.O_BRACE,
        T.O_BRACK,
        T.EQUAL,
        T.COLON,
        T.COMMA,
        T.QUESTION,
        T.PLUS,
        T.STAR,
        T.SLASH,
        T.PERCENT,
        T.MINUS,
        T.EQUAL_OP,
        T.NOT_EQUAL,
        T.GREATER,
        T.GREATER_EQ,
        T.LESS,
        T.LESS_EQ,
        T.AND,
        T.OR,
        T.BANG,
    }
)
_TEMPLATE_TEXT = frozenset({T.QUOTED_LIT, T.STRING_LIT, T.O_QUOTE, T.O_HEREDOC})
_TEMPLATE_TEXT_AFTER = frozenset({T.QUOTED_LIT, T.STRING_LIT, T.C_QUOTE, T.C_HEREDOC})


def bracket_change(tok: Token) -> int:
    if tok.type in _OPENERS:
        return 1
    if tok.type in _CLOSERS:
        return -1
    return 0


@dataclass(slots=True)
class _Line:
    lead: list[Token]
    assign: list[Token] = field(default_factory=list)
    comment: list[Token] = field(default_factory=list)


def _ends_line(tok: Token) -> bool:
    return tok.type is T.NEWLINE or (tok.type is T.COMMENT and tok.text.endswith("\n"))


def _lines(tokens: list[Token]) -> list[_Line]:
    lines: list[_Line] = []
    start = 0
    for i, tok in enumerate(tokens):
        if tok.type is T.EOF:
            lines.append(_Line(tokens[start:i]))
            start = -1
            break
        if _ends_line(tok):
            lines.append(_Line(tokens[start : i + 1]))
            start = i + 1
    if start >= 0 and start < len(tokens):
        lines.append(_Line(tokens[start:]))
    for line in lines:
        lead = line.lead
        if not lead:
            continue
        if len(lead) > 1 and lead[-1].type is T.COMMENT:
            line.comment, line.lead = lead[-1:], lead[:-1]
            lead = line.lead
        for i, tok in enumerate(lead):
            if i > 0 and tok.type is T.EQUAL:
                # only a whole expression on this line becomes an aligned cell
                if sum(bracket_change(t) for t in lead[i:]) == 0:
                    line.assign, line.lead = lead[i:], lead[:i]
                break
    return lines


def _indent(lines: list[_Line]) -> None:
    indents: list[int] = []
    for line in lines:
        if not line.lead:
            continue
        first = line.lead[0]
        if first.type is T.NEWLINE:
            first.spaces_before = 0
            continue
        net = 0
        for tok in line.lead:
            net += bracket_change(tok)
            if tok.type is T.O_HEREDOC:
                break
        for tok in line.assign:
            net += bracket_change(tok)
        if net > 0:
            first.spaces_before = 2 * len(indents)
            indents.append(net)
            continue
        closed = -net
        while closed > 0 and indents:
            if closed > indents[-1]:
                closed -= indents.pop()
            elif closed < indents[-1]:
                indents[-1] -= closed
                closed = 0
            else:
                indents.pop()
                closed = 0
        first.spaces_before = 2 * len(indents)


def space_after(subject: Token, before: Token, after: Token) -> bool:
    s, a = subject.type, after.type
    if a is T.NEWLINE or a is T.EOF:
        return False
    if s is T.IDENT and a is T.O_PAREN:
        return False
    if (s is T.IDENT and a is T.DOUBLE_COLON) or (s is T.DOUBLE_COLON and a is T.IDENT):
        return False
    if s is T.DOT or a is T.DOT:
        return False
    if a is T.COMMA or a is T.ELLIPSIS:
        return False
    if s is T.COMMA:
        return True
    if s in _TEMPLATE_TEXT or a in _TEMPLATE_TEXT_AFTER:
        return False
    if s is T.IDENT and subject.text == "in" and before.type is T.IDENT:
        return True  # [for x in [foo]: x]
    if a is T.O_BRACK and (s is T.IDENT or s is T.NUMBER or bracket_change(subject) < 0):
        return False
    if s is T.BANG:
        return False
    if s is T.MINUS:
        return before.type not in _NEGATION_AFTER
    if s is T.O_BRACE or a is T.C_BRACE:
        return not (s is T.O_BRACE and a is T.C_BRACE)
    if (s is T.TEMPLATE_INTERP or s is T.TEMPLATE_CONTROL) and a is T.O_BRACE:
        return True
    if s is T.C_BRACE and a is T.TEMPLATE_SEQ_END:
        return True
    if s is T.TEMPLATE_SEQ_END and (a is T.TEMPLATE_INTERP or a is T.TEMPLATE_CONTROL):
        return False
    if bracket_change(subject) > 0:
        return False
    if bracket_change(after) < 0:  # noqa: SIM103 - one rule per line, as the table reads
        return False
    return True


def _space_cell(cell: list[Token], first_spaces: int | None) -> None:
    for i, tok in enumerate(cell):
        if i == 0 and first_spaces is not None:
            tok.spaces_before = first_spaces
        if i + 1 >= len(cell):
            continue
        before = cell[i - 1] if i > 0 else _NIL
        cell[i + 1].spaces_before = 1 if space_after(tok, before, cell[i + 1]) else 0


def _width(cell: list[Token]) -> int:
    return sum(t.spaces_before + columns(t.text) for t in cell)


def _align(lines: list[_Line], cell_of, width_before) -> None:
    chain: list[_Line] = []

    def close() -> None:
        widest = max(width_before(line) for line in chain)
        for line in chain:
            cell_of(line)[0].spaces_before = widest - width_before(line) + 1
        chain.clear()

    for line in lines:
        if cell_of(line):
            chain.append(line)
        elif chain:
            close()
    if chain:
        close()


def format_tokens(tokens: list[Token]) -> None:
    """Set every token's ``spaces_before`` to the canonical layout, in place."""
    lines = _lines(tokens)
    _indent(lines)
    for line in lines:
        _space_cell(line.lead, None)
        _space_cell(line.assign, 1)
    _align(lines, lambda line: line.assign, lambda line: _width(line.lead))
    _align(lines, lambda line: line.comment, lambda line: _width(line.lead) + _width(line.assign))


def render(tokens: list[Token]) -> str:
    return "".join(" " * t.spaces_before + t.text for t in tokens)

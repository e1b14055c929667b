"""The syntax problems that would make formatting rewrite a file beyond recognition.

``terraform fmt`` refuses a file that doesn't parse. vaultform checks the token stream the
formatter works on: every bracket, string, heredoc and interpolation closed in order, no
character HCL doesn't know, no argument without a value. (Our full parser is stricter than
HCL in places, e.g. it rejects line breaks inside ``${ }``, which HCL allows, so it is not
the gate here.)
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.fmt.tokens import T, Token

_PAIRS = {
    T.O_BRACE: T.C_BRACE,
    T.O_BRACK: T.C_BRACK,
    T.O_PAREN: T.C_PAREN,
    T.TEMPLATE_INTERP: T.TEMPLATE_SEQ_END,
    T.TEMPLATE_CONTROL: T.TEMPLATE_SEQ_END,
    T.O_QUOTE: T.C_QUOTE,
    T.O_HEREDOC: T.C_HEREDOC,
}
_CLOSERS = {v: k for k, v in _PAIRS.items()}
_WORDS = {
    T.C_BRACE: '"}"',
    T.C_BRACK: '"]"',
    T.C_PAREN: '")"',
    T.TEMPLATE_SEQ_END: '"}"',
    T.C_QUOTE: "closing quote",
    T.C_HEREDOC: "heredoc end marker",
}


@dataclass(frozen=True)
class SyntaxProblem:
    line: int
    summary: str
    detail: str


def check(tokens: list[Token]) -> SyntaxProblem | None:
    line = 1
    stack: list[tuple[Token, int]] = []
    for i, tok in enumerate(tokens):
        start_line = line
        if tok.type is T.OTHER:
            return SyntaxProblem(
                line, f"Invalid character {tok.text!r}", "This character is not used in HCL; remove it."
            )
        if tok.type is T.QUOTED_NEWLINE:
            return SyntaxProblem(
                line,
                "Unterminated template string",
                "A quoted string can't span lines: close it on this line, or use a heredoc (<<EOT).",
            )
        if tok.type in _PAIRS:
            stack.append((tok, start_line))
        elif tok.type in _CLOSERS:
            if not stack or _PAIRS[stack[-1][0].type] is not tok.type:
                want = f"; expected {_WORDS[_PAIRS[stack[-1][0].type]]}" if stack else ""
                return SyntaxProblem(
                    line,
                    f"Unexpected {_WORDS[tok.type]}{want}",
                    "Check that every bracket is closed in order.",
                )
            stack.pop()
        elif tok.type is T.EQUAL and i + 1 < len(tokens):
            nxt = tokens[i + 1]
            if nxt.type in (T.NEWLINE, T.EOF) or (nxt.type is T.COMMENT and nxt.text.endswith("\n")):
                return SyntaxProblem(
                    line, "Missing expression", "An argument needs a value after the equals sign."
                )
        elif tok.type is T.EOF and stack:
            opener, opened_at = stack[-1]
            return SyntaxProblem(
                opened_at,
                f"Unclosed {opener.text.strip() or 'string'}",
                f"This is never closed: add the matching {_WORDS[_PAIRS[opener.type]]}.",
            )
        line += tok.text.count("\n")
    return None

"""The syntax problems that would make formatting rewrite a file beyond recognition.

``terraform fmt`` refuses a file that doesn't parse. vaultform checks the token stream the
formatter works on: every bracket, string, heredoc and interpolation closed in order, no
character HCL doesn't know, no argument without a value, and no two values side by side
without what separates them (``a = 1 2``, ``[1 2]``, ``l = 0x10``: the formatter would space
them apart and write a different wrong file). (Our full parser is stricter than
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
    return _brackets(tokens) or _separators(tokens)


def _brackets(tokens: list[Token]) -> SyntaxProblem | None:
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


# Where two values meet with nothing between them, by what encloses them: terraform's words.
_MISSING = {
    "argument": ("Missing newline after argument", "An argument definition must end with a newline."),
    "tuple": ("Missing item separator", "Expected a comma to mark the beginning of the next item."),
    "object": (
        "Missing attribute separator",
        "Expected a newline or comma to mark the beginning of the next attribute.",
    ),
    "call": (
        "Missing argument separator",
        "A comma is required to separate each function argument from the next.",
    ),
    "paren": ("Unbalanced parentheses", "Expected a closing parenthesis to terminate the expression."),
    "template": (
        "Extra characters after interpolation expression",
        "Expected a closing brace to end the interpolation expression, but found extra characters.",
    ),
}
# a token that ends a value, and one that starts the next
_ENDS = frozenset({T.IDENT, T.NUMBER, T.C_QUOTE, T.C_HEREDOC, T.C_BRACK, T.C_PAREN, T.C_BRACE})
_STARTS = frozenset({T.IDENT, T.NUMBER, T.O_QUOTE, T.O_HEREDOC})
# for expressions and template directives put names side by side: "for k, v in m", "x if x"
_KEYWORDS = frozenset({"for", "in", "if"})
_OPENS = {
    T.O_BRACK: "tuple",
    T.O_BRACE: "object",
    T.TEMPLATE_INTERP: "template",
    T.TEMPLATE_CONTROL: "template",
}


def _separators(tokens: list[Token]) -> SyntaxProblem | None:
    """Two values side by side on a line inside an expression (``_brackets`` has found every
    bracket closed in order). Block headers and bodies are left alone: labels sit side by side."""
    line = 1
    contexts = ["body"]  # body, argument, tuple, object, call, paren, template, string
    prev: Token | None = None  # the last token of the expression on this line
    header = 0  # tokens of a body line that is neither an argument nor a block (yet)
    for i, tok in enumerate(tokens):
        where = contexts[-1]
        kind = tok.type
        if where == "body" and header and (kind in (T.NEWLINE, T.EOF) or tok.text.endswith("\n")):
            if header == 1:
                return SyntaxProblem(
                    line,
                    "Argument or block definition required",
                    "An argument or block definition is required here. To set an argument, use the equals "
                    'sign "=" to introduce the argument value.',
                )
            return SyntaxProblem(
                line,
                "Invalid block definition",
                'A block definition must have block content delimited by "{" and "}", starting on the same '
                "line as the block header.",
            )
        if where == "string":
            if kind in (T.C_QUOTE, T.C_HEREDOC):
                contexts.pop()
                prev = tok
            elif kind in (T.TEMPLATE_INTERP, T.TEMPLATE_CONTROL):
                contexts.append("template")
                prev = None
        elif kind is T.NEWLINE or (kind is T.COMMENT and tok.text.endswith("\n")):
            if where == "argument":
                contexts.pop()
            prev = None
        elif kind is T.COMMENT:
            pass
        elif where == "body":
            if kind is T.EQUAL:
                contexts.append("argument")
                header = 0
            elif kind is T.O_BRACE:
                contexts.append("body")
                header = 0
            elif kind is T.C_BRACE and len(contexts) > 1:
                contexts.pop()
                header = 0
            elif kind in (T.O_QUOTE, T.O_HEREDOC):
                contexts.append("string")
                header += 1
            elif kind is T.IDENT:
                header += 1
            prev = None
        else:
            if (
                prev is not None
                and prev.type in _ENDS
                and kind in _STARTS
                and not (prev.type is T.IDENT and prev.text in _KEYWORDS)
                and not (kind is T.IDENT and tok.text in _KEYWORDS)
            ):
                summary, detail = _MISSING[where if where != "body" else "argument"]
                return SyntaxProblem(line, summary, detail)
            prev = tok
            if kind in (T.O_QUOTE, T.O_HEREDOC):
                contexts.append("string")
                prev = None
            elif kind is T.O_PAREN:  # a function's arguments right after its name, else a group
                contexts.append("call" if i > 0 and tokens[i - 1].type is T.IDENT else "paren")
                prev = None
            elif kind in _OPENS:
                contexts.append(_OPENS[kind])
                prev = None
            elif kind in (T.C_BRACK, T.C_PAREN, T.C_BRACE, T.TEMPLATE_SEQ_END) and len(contexts) > 1:
                if kind is T.C_BRACE and where == "argument":  # a one-line block's end: "x { a = 1 }"
                    contexts.pop()
                contexts.pop()
                if kind is T.TEMPLATE_SEQ_END:
                    prev = None
        line += tok.text.count("\n")
    return None

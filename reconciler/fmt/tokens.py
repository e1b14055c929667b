"""HCL native syntax as a flat token stream, the way Terraform's formatter sees it.

The formatter rewrites only the whitespace between tokens, so it needs tokens whose
boundaries and kinds match HCL's own scanner (hashicorp/hcl, hclsyntax/scan_tokens.rl):
quoted strings and heredocs are template sequences (an opening token, literal chunks,
``${``/``%{`` interpolations with ordinary tokens inside, a closing token), ``#`` and ``//``
comments carry the newline that ends them, and a closing brace ends an interpolation when
it matches the brace level the interpolation opened at.

Literal chunks inside one template may be split differently from HCL's scanner (which cuts
at every ``$`` and ``%``): adjacent literals never get spaces between them, so the output is
the same.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass


class T(enum.Enum):
    IDENT = "ident"
    NUMBER = "number"
    COMMENT = "comment"
    NEWLINE = "newline"
    O_BRACE = "{"
    C_BRACE = "}"
    O_BRACK = "["
    C_BRACK = "]"
    O_PAREN = "("
    C_PAREN = ")"
    O_QUOTE = "oquote"
    C_QUOTE = "cquote"
    QUOTED_LIT = "quotedlit"
    QUOTED_NEWLINE = "quotednewline"
    O_HEREDOC = "oheredoc"
    C_HEREDOC = "cheredoc"
    STRING_LIT = "stringlit"
    TEMPLATE_INTERP = "${"
    TEMPLATE_CONTROL = "%{"
    TEMPLATE_SEQ_END = "seqend"
    DOT = "."
    COMMA = ","
    ELLIPSIS = "..."
    FAT_ARROW = "=>"
    DOUBLE_COLON = "::"
    EQUAL = "="
    EQUAL_OP = "=="
    NOT_EQUAL = "!="
    LESS = "<"
    LESS_EQ = "<="
    GREATER = ">"
    GREATER_EQ = ">="
    AND = "&&"
    OR = "||"
    BANG = "!"
    PLUS = "+"
    MINUS = "-"
    STAR = "*"
    SLASH = "/"
    PERCENT = "%"
    QUESTION = "?"
    COLON = ":"
    OTHER = "other"  # a character HCL would call invalid (";", "`", ...)
    EOF = "eof"


@dataclass(slots=True)
class Token:
    type: T
    text: str
    spaces_before: int = 0


_SELF = {
    "[": T.O_BRACK,
    "]": T.C_BRACK,
    "(": T.O_PAREN,
    ")": T.C_PAREN,
    ".": T.DOT,
    ",": T.COMMA,
    "*": T.STAR,
    "/": T.SLASH,
    "%": T.PERCENT,
    "+": T.PLUS,
    "-": T.MINUS,
    "=": T.EQUAL,
    "<": T.LESS,
    ">": T.GREATER,
    "!": T.BANG,
    "?": T.QUESTION,
    ":": T.COLON,
}
# longest first, as the scanner prefers the longest match
_MULTI = (
    ("...", T.ELLIPSIS),
    ("==", T.EQUAL_OP),
    ("!=", T.NOT_EQUAL),
    (">=", T.GREATER_EQ),
    ("<=", T.LESS_EQ),
    ("&&", T.AND),
    ("||", T.OR),
    ("::", T.DOUBLE_COLON),
    ("=>", T.FAT_ARROW),
)


def _ident_start(ch: str) -> bool:
    return ch == "_" or ch.isidentifier()


def _ident_continue(ch: str) -> bool:
    return ch == "-" or ("a" + ch).isidentifier()


def columns(text: str) -> int:
    """Screen columns as HCL counts them: grapheme clusters, approximated by base characters."""
    if text.isascii():
        return len(text)
    return sum(1 for ch in text if not (unicodedata.combining(ch) or ch in "\u200d\ufe0e\ufe0f"))


class _Scanner:
    def __init__(self, src: str):
        self.src = src
        self.pos = 0
        self.tokens: list[Token] = []
        self.last_end = 0
        self.braces = 0
        self.ret_braces: list[int] = []  # brace levels at which a "}" ends an interpolation
        self.heredocs: list[list] = []  # [marker, start_of_line]

    def emit(self, type_: T, start: int, end: int) -> None:
        self.tokens.append(Token(type_, self.src[start:end], start - self.last_end))
        self.last_end = end

    # ------------------------------------------------------------------ modes

    def run(self) -> list[Token]:
        self.main(top=True)
        self.tokens.append(Token(T.EOF, "", len(self.src) - self.last_end))
        return self.tokens

    def main(self, top: bool = False) -> None:
        """Ordinary tokens; inside an interpolation, returns at its closing brace."""
        src, n = self.src, len(self.src)
        while self.pos < n:
            p = self.pos
            ch = src[p]
            if ch in " \t":
                self.pos += 1
                continue
            if ch.isdigit():
                end = p + 1
                while end < n:
                    c = src[end]
                    if c.isdigit() or c == ".":
                        end += 1
                    elif c in "eE" and end + 1 < n:
                        q = end + 1
                        if src[q] in "+-":
                            q += 1
                        if q < n and src[q].isdigit():
                            end = q + 1
                        else:
                            break
                    else:
                        break
                while src[end - 1] == ".":  # a number never ends with a dot
                    end -= 1
                self.pos = end
                self.emit(T.NUMBER, p, end)
                continue
            if _ident_start(ch):
                end = p + 1
                while end < n and _ident_continue(src[end]):
                    end += 1
                self.pos = end
                self.emit(T.IDENT, p, end)
                continue
            if ch == "#" or src.startswith("//", p):
                end = src.find("\n", p)
                end = n if end < 0 else end + 1
                self.pos = end
                self.emit(T.COMMENT, p, end)
                continue
            if src.startswith("/*", p):
                end = src.find("*/", p + 2)
                end = n if end < 0 else end + 2
                self.pos = end
                self.emit(T.COMMENT, p, end)
                continue
            if ch == "\n" or src.startswith("\r\n", p):
                end = p + (1 if ch == "\n" else 2)
                self.pos = end
                self.emit(T.NEWLINE, p, end)
                continue
            if src.startswith("~}", p):
                self.pos = p + 2
                self.emit(T.TEMPLATE_SEQ_END, p, p + 2)
                matched = bool(self.ret_braces) and self.ret_braces[-1] == self.braces
                self.braces -= 1
                if matched:
                    self.ret_braces.pop()
                    return
                continue
            if ch == "{":
                self.pos = p + 1
                self.emit(T.O_BRACE, p, p + 1)
                self.braces += 1
                continue
            if ch == "}":
                self.pos = p + 1
                if self.ret_braces and self.ret_braces[-1] == self.braces:
                    self.emit(T.TEMPLATE_SEQ_END, p, p + 1)
                    self.braces -= 1
                    self.ret_braces.pop()
                    return
                self.emit(T.C_BRACE, p, p + 1)
                self.braces -= 1
                continue
            if ch == '"':
                self.pos = p + 1
                self.emit(T.O_QUOTE, p, p + 1)
                self.quoted()
                continue
            if src.startswith("<<", p) and self.heredoc_start(p):
                continue
            for text, type_ in _MULTI:
                if src.startswith(text, p):
                    self.pos = p + len(text)
                    self.emit(type_, p, p + len(text))
                    break
            else:
                self.pos = p + 1
                self.emit(_SELF.get(ch, T.OTHER), p, p + 1)

    def heredoc_start(self, p: int) -> bool:
        src, n = self.src, len(self.src)
        q = p + 2
        if q < n and src[q] == "-":
            q += 1
        if q >= n or not _ident_start(src[q]):
            return False
        end = q + 1
        while end < n and _ident_continue(src[end]):
            end += 1
        marker = src[q:end]
        if src.startswith("\r\n", end):
            end += 2
        elif src.startswith("\n", end):
            end += 1
        else:
            return False
        self.pos = end
        self.emit(T.O_HEREDOC, p, end)
        self.heredocs.append([marker, True])
        self.heredoc()
        return True

    def interpolation(self, start: int) -> None:
        src = self.src
        end = start + 2 + (1 if src.startswith("~", start + 2) else 0)
        self.pos = end
        kind = T.TEMPLATE_INTERP if src[start] == "$" else T.TEMPLATE_CONTROL
        self.emit(kind, start, end)
        self.braces += 1
        self.ret_braces.append(self.braces)
        if self.heredocs:
            self.heredocs[-1][1] = False
        self.main()

    def _template_escape(self, p: int) -> int:
        """Length of a literal ``$``/``%`` run at p: ``$${`` is a literal ``${``."""
        src = self.src
        if src.startswith("{", p + 1):
            return 0  # an interpolation
        if src.startswith(src[p] + "{", p + 1):
            return 3
        return 1

    def quoted(self) -> None:
        src, n = self.src, len(self.src)
        lit_start = self.pos
        while self.pos < n:
            p = self.pos
            ch = src[p]
            if ch == '"':
                if lit_start < p:
                    self.emit(T.QUOTED_LIT, lit_start, p)
                self.pos = p + 1
                self.emit(T.C_QUOTE, p, p + 1)
                return
            if ch in "\r\n":
                if lit_start < p:
                    self.emit(T.QUOTED_LIT, lit_start, p)
                end = p
                while end < n and src[end] in "\r\n":
                    end += 1
                self.pos = end
                self.emit(T.QUOTED_NEWLINE, p, end)
                lit_start = end
                continue
            if ch == "\\":
                self.pos = p + (2 if p + 1 < n and src[p + 1] not in "\r\n" else 1)
                continue
            if ch in "$%":
                size = self._template_escape(p)
                if size == 0:
                    if lit_start < p:
                        self.emit(T.QUOTED_LIT, lit_start, p)
                    self.interpolation(p)
                    lit_start = self.pos
                    continue
                self.pos = p + size
                continue
            self.pos = p + 1
        if lit_start < n:
            self.emit(T.QUOTED_LIT, lit_start, n)

    def heredoc(self) -> None:
        src, n = self.src, len(self.src)
        doc = self.heredocs[-1]
        lit_start = self.pos
        while self.pos < n:
            p = self.pos
            if doc[1]:  # at the start of a line: is it the closing marker?
                eol = src.find("\n", p)
                line_end = n if eol < 0 else eol
                line = src[p:line_end]
                body = line[:-1] if line.endswith("\r") else line
                if body.strip() == doc[0] and eol >= 0:
                    close_end = p + len(body)
                    self.emit(T.C_HEREDOC, p, close_end)
                    self.pos = eol + 1
                    self.emit(T.NEWLINE, close_end, eol + 1)
                    self.heredocs.pop()
                    return
            ch = src[p]
            if ch == "\n":
                self.pos = p + 1
                self.emit(T.STRING_LIT, lit_start, p + 1)
                lit_start = self.pos
                doc[1] = True
                continue
            if ch in "$%":
                size = self._template_escape(p)
                if size == 0:
                    if lit_start < p:
                        self.emit(T.STRING_LIT, lit_start, p)
                    self.interpolation(p)
                    lit_start = self.pos
                    continue
                self.pos = p + size
                doc[1] = False
                continue
            self.pos = p + 1
            doc[1] = False
        if lit_start < n:
            self.emit(T.STRING_LIT, lit_start, n)


def scan(src: str) -> list[Token]:
    """The tokens of ``src``, ending with an EOF token; a leading byte-order mark is dropped."""
    if src.startswith("\ufeff"):
        src = src[1:]
    return _Scanner(src).run()

"""The token rewrites Terraform's formatter makes before laying out whitespace.

As ``terraform fmt`` does (hashicorp/terraform, internal/command/fmt.go), walking the bodies
of the file: an attribute whose whole value is one interpolation, ``"${foo}"``, becomes the
bare expression ``foo`` (wrapped in parentheses when it spans lines); a variable's legacy
``type = "string"`` / ``list`` / ``map`` becomes the type expression; block labels are
written in their quoted form.
"""

from __future__ import annotations

import json

from reconciler.fmt.layout import bracket_change
from reconciler.fmt.tokens import T, Token

_SKIP = frozenset({T.NEWLINE, T.COMMENT})


def rewrite(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    _Body(tokens, out).walk(0, ())
    return out


class _Body:
    def __init__(self, tokens: list[Token], out: list[Token]):
        self.tokens = tokens
        self.out = out

    def walk(self, i: int, blocks: tuple[str, ...]) -> int:
        """Copy one body's items from i, rewriting them; returns the index of its closing brace."""
        toks, out = self.tokens, self.out
        while i < len(toks):
            tok = toks[i]
            if tok.type in _SKIP:
                out.append(tok)
                i += 1
                continue
            if tok.type is T.C_BRACE or tok.type is T.EOF:
                return i
            if tok.type is not T.IDENT:
                return self._copy_rest(i)
            j = i + 1
            if j < len(toks) and toks[j].type is T.EQUAL:
                i = self._attribute(i, blocks)
            else:
                i = self._block(i, blocks)
        return i

    def _copy_rest(self, i: int) -> int:
        """Something the walker doesn't understand: keep it as it is (only spaces change)."""
        self.out.extend(self.tokens[i:])
        return len(self.tokens)

    def _attribute(self, i: int, blocks: tuple[str, ...]) -> int:
        toks = self.tokens
        name = toks[i].text
        self.out.extend(toks[i : i + 2])
        start = j = i + 2
        depth = 0
        while j < len(toks):
            t = toks[j]
            if depth == 0 and (t.type in _SKIP or t.type is T.EOF or t.type is T.C_BRACE):
                break
            depth += bracket_change(t)
            if t.type is T.O_HEREDOC:
                depth += 1
            elif t.type is T.C_HEREDOC:
                depth -= 1
            j += 1
        expr = toks[start:j]
        if blocks == ("variable",) and name == "type":
            expr = _type_expr(expr)
        else:
            expr = _value_expr(expr)
        self.out.extend(expr)
        return j

    def _block(self, i: int, blocks: tuple[str, ...]) -> int:
        toks = self.tokens
        block_type = toks[i].text
        self.out.append(toks[i])
        j = i + 1
        labels: list[str] = []
        trailing: list[Token] = []  # comments after the last label stay; those among labels go
        while j < len(toks) and toks[j].type is not T.O_BRACE:
            t = toks[j]
            if t.type is T.IDENT:
                labels.append(t.text)
                trailing.clear()
                j += 1
            elif t.type is T.O_QUOTE:
                end = j + 1
                while end < len(toks) and toks[end].type is not T.C_QUOTE:
                    end += 1
                label = _quoted_label(toks[j + 1 : end])
                if label is not None:
                    labels.append(label)
                trailing.clear()
                j = end + 1
            elif t.type is T.COMMENT and not t.text.endswith("\n"):
                trailing.append(t)
                j += 1
            else:
                return self._copy_rest(j)
        for label in labels:
            self.out.extend(_label_tokens(label))
        self.out.extend(trailing)
        if j >= len(toks):
            return j
        self.out.append(toks[j])  # {
        end = self.walk(j + 1, (*blocks, block_type))
        if end < len(toks) and toks[end].type is T.C_BRACE:
            self.out.append(toks[end])
            return end + 1
        return end


def _quoted_label(inner: list[Token]) -> str | None:
    if not inner:
        return ""
    if len(inner) == 1 and inner[0].type is T.QUOTED_LIT:
        try:
            return _unescape(inner[0].text)
        except ValueError:
            return None
    return None  # a label with interpolation is not a label; terraform drops it too


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt in ("u", "U"):
                size = 4 if nxt == "u" else 8
                out.append(chr(int(text[i + 2 : i + 2 + size], 16)))
                i += 2 + size
                continue
            raise ValueError(text)
        if text.startswith(("$${", "%%{"), i):
            out.append(ch + "{")
            i += 3
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _escape(label: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(label):
        if ch in '\n\r\t"\\':
            out.append(json.dumps(ch)[1:-1])
        elif ch in "$%":
            out.append(ch + ch if label[i + 1 : i + 2] == "{" else ch)
        elif not ch.isprintable() and ch != " ":
            code = ord(ch)
            out.append(f"\\u{code:04x}" if code < 65536 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def _label_tokens(label: str) -> list[Token]:
    inner = [Token(T.QUOTED_LIT, _escape(label))] if label else []
    return [Token(T.O_QUOTE, '"', 1), *inner, Token(T.C_QUOTE, '"')]


def _value_expr(tokens: list[Token]) -> list[Token]:
    """``"${foo}"`` -> ``foo``: only when the string is provably that one interpolation."""
    if len(tokens) < 5:
        return tokens
    if (
        tokens[0].type is not T.O_QUOTE
        or tokens[1].type is not T.TEMPLATE_INTERP
        or tokens[-2].type is not T.TEMPLATE_SEQ_END
        or tokens[-1].type is not T.C_QUOTE
    ):
        return tokens
    inside = tokens[2:-2]
    quotes = 0
    for tok in inside:
        if tok.type is T.O_QUOTE:
            quotes += 1
        elif tok.type is T.C_QUOTE:
            quotes -= 1
        elif quotes > 0:
            continue
        elif tok.type in (T.TEMPLATE_INTERP, T.TEMPLATE_SEQ_END, T.QUOTED_LIT):
            return tokens
    while inside and inside[0].type is T.NEWLINE:
        inside = inside[1:]
    while inside and inside[-1].type is T.NEWLINE:
        inside = inside[:-1]
    multiline = any(t.type is T.NEWLINE for t in inside)
    wrapped = inside and inside[0].type is T.O_PAREN and inside[-1].type is T.C_PAREN
    if multiline and not wrapped:
        return [Token(T.O_PAREN, "("), *inside, Token(T.C_PAREN, ")")]
    return inside


def _type_expr(tokens: list[Token]) -> list[Token]:
    """Pre-0.12 type spellings become type expressions."""
    if len(tokens) == 1 and tokens[0].type is T.IDENT and tokens[0].text in ("list", "map", "set"):
        return [tokens[0], *_call_tokens("any")]
    if (
        len(tokens) == 3
        and tokens[0].type is T.O_QUOTE
        and tokens[1].type is T.QUOTED_LIT
        and tokens[2].type is T.C_QUOTE
    ):
        legacy = tokens[1].text
        if legacy == "string":
            return [Token(T.IDENT, "string")]
        if legacy in ("list", "map"):
            return [Token(T.IDENT, legacy), *_call_tokens("string")]
    return tokens


def _call_tokens(element: str) -> list[Token]:
    return [Token(T.O_PAREN, "("), Token(T.IDENT, element), Token(T.C_PAREN, ")")]

"""Regular expressions as terraform 1.11 runs them: Go's ``regexp`` package, RE2 syntax.

Patterns are compiled by RE2 itself (the ``google-re2`` binding), the engine whose
syntax and leftmost-first semantics Go's package implements: POSIX classes
(``[[:alnum:]]``), Unicode classes (``\\pL``, ``\\p{Greek}``), ``\\Q...\\E``, ``$``
only at the very end of the text (never before a final newline), ``(?U)``, and no
lookaround or backreference. RE2 accepts one escape Go refuses, ``\\C`` (any byte);
it is refused here as Go refuses it. A pattern error carries Go's wording (code and
the offending text), which terraform shows to the user.

Matching runs on the text's UTF-8 bytes, as Go's does, and the rules for successive
matches are Go's: ``find_all`` skips an empty match that touches the previous match
(``FindAllStringSubmatchIndex``), ``replace_all`` replaces as ``ReplaceAllString``
does and expands ``$1``, ``${1}``, ``$name``, ``${name}`` and ``$$`` as ``Expand``
does (``$1x`` names a group "1x", which doesn't exist, so it expands to nothing).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import re2

# RE2's error codes and the wording Go's regexp/syntax gives the same errors.
_GO_CODES = (
    ("invalid escape sequence", "invalid escape sequence"),
    ("invalid character class range", "invalid character class range"),
    ("invalid character class", "invalid character class"),
    ("missing ]", "missing closing ]"),
    ("missing )", "missing closing )"),
    ("unexpected )", "unexpected )"),
    ("trailing \\", "trailing backslash at end of expression"),
    ("no argument for repetition operator", "missing argument to repetition operator"),
    ("invalid repetition size", "invalid repeat count"),
    ("bad repetition operator", "invalid nested repetition operator"),
    ("invalid perl operator", "invalid or unsupported Perl syntax"),
    ("invalid UTF-8", "invalid UTF-8"),
    ("invalid named capture group", "invalid named capture"),
    ("pattern too large", "expression too large"),
)

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print its own copy of every error on stderr

_POSIX_CLASS = re.compile(r"\[:\^?[a-z]+:\]")


class PatternError(Exception):
    """A pattern Go's regexp refuses: Go's error ``code`` and the offending text ``arg``."""

    def __init__(self, code: str, arg: str):
        super().__init__(f"{code}: {arg}")
        self.code = code
        self.arg = arg

    def go_error(self) -> str:
        """Go's own error text (``regexp.Compile``'s), as terraform's replace shows it."""
        return f"error parsing regexp: {self.code}: `{self.arg}`"


@dataclass(frozen=True, slots=True)
class Pattern:
    source: str
    names: tuple[str, ...]  # each capture group's name, "" when unnamed (Go's SubexpNames()[1:])
    regexp: Any  # the compiled RE2 program

    def find(self, text: str) -> tuple[str | None, ...] | None:
        """The leftmost match: the whole match, then each group (None where it took no part)."""
        found = self.find_all(text, 1)
        return found[0] if found else None

    def find_all(self, text: str, limit: int | None = None) -> list[tuple[str | None, ...]]:
        """Successive matches as Go's FindAllStringSubmatch finds them."""
        data = _encode(text)
        end = len(data)
        out: list[tuple[str | None, ...]] = []
        pos, prev_end = 0, -1
        while pos <= end and (limit is None or len(out) < limit):
            m = self.regexp.search(data, pos)
            if m is None:
                break
            start, stop = m.span()
            accept = True
            if stop == pos:  # an empty match: not right after the previous one; step one character
                accept = start != prev_end
                pos += _width(data, pos)
            else:
                pos = stop
            prev_end = stop
            if accept:
                out.append(tuple(_group(data, m.span(i)) for i in range(len(self.names) + 1)))
        return out

    def replace_all(self, text: str, template: str) -> str:
        """``text`` with every match replaced by ``template`` expanded, as Go's ReplaceAllString."""
        data = _encode(text)
        end = len(data)
        out: list[str] = []
        last_end = search = 0
        while search <= end:
            m = self.regexp.search(data, search)
            if m is None:
                break
            start, stop = m.span()
            out.append(_decode(data[last_end:start]))
            # an empty match right after another match is not replaced again
            if stop > last_end or start == 0:
                out.append(self._expand(template, data, m))
            last_end = stop
            width = _width(data, search) if search < end else 0
            if search + width > stop:
                search += width
            elif search + 1 > stop:
                search += 1
            else:
                search = stop
        out.append(_decode(data[last_end:]))
        return "".join(out)

    def _expand(self, template: str, data: bytes, m: Any) -> str:
        """Go's Regexp.Expand of ``template`` for the match ``m``."""
        out: list[str] = []
        rest = template
        while True:
            before, dollar, after = rest.partition("$")
            out.append(before)
            if not dollar:
                return "".join(out)
            rest = after
            if rest.startswith("$"):
                out.append("$")
                rest = rest[1:]
                continue
            ref = _reference(rest)
            if ref is None:  # malformed: the "$" is kept as text
                out.append("$")
                continue
            name, rest = ref
            number = (
                int(name) if name.isascii() and name.isdigit() and (name == "0" or name[0] != "0") else -1
            )
            if number >= 0:
                if number <= len(self.names):
                    out.append(_group(data, m.span(number)) or "")
                continue
            for i, group_name in enumerate(self.names, start=1):
                if group_name == name and m.span(i)[0] >= 0:
                    out.append(_group(data, m.span(i)) or "")
                    break


def compile_pattern(source: str) -> Pattern:
    """Compile as Go's regexp.Compile does; raises PatternError with Go's wording."""
    try:
        program = re2.compile(source, _OPTIONS)
    except re2.error as exc:
        raise _pattern_error(exc) from None
    names, any_byte = _scan_groups(source)
    if any_byte:
        raise PatternError("invalid escape sequence", "\\C")
    return Pattern(source, names, program)


def _pattern_error(exc: Exception) -> PatternError:
    raw = exc.args[0] if exc.args else ""
    message = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    for re2_code, go_code in _GO_CODES:
        if message == re2_code:
            return PatternError(go_code, "")
        if message.startswith(re2_code + ": "):
            return PatternError(go_code, message[len(re2_code) + 2 :])
        if message.startswith(re2_code):  # "pattern too large - compile failed"
            return PatternError(go_code, "")
    return PatternError(message, "")


def _scan_groups(source: str) -> tuple[tuple[str, ...], bool]:
    """Each capture group's name in order, and whether ``\\C`` appears as an escape.

    ``source`` already compiled, so only its well-formed shapes need reading: escapes,
    ``\\Q...\\E``, classes (with ``[:name:]`` inside) and group openers.
    """
    names: list[str] = []
    any_byte = False
    i, n, in_class = 0, len(source), False
    while i < n:
        c = source[i]
        if c == "\\":
            nxt = source[i + 1 : i + 2]
            if nxt == "Q":
                close = source.find("\\E", i + 2)
                i = n if close < 0 else close + 2
                continue
            any_byte = any_byte or nxt == "C"
            i += 2
        elif in_class:
            m = _POSIX_CLASS.match(source, i) if c == "[" else None
            if m is not None:
                i = m.end()
                continue
            in_class = c != "]"
            i += 1
        elif c == "[":
            in_class = True
            i += 1
            if source.startswith("^", i):
                i += 1
            if source.startswith("]", i):  # a "]" first in a class is literal
                i += 1
        elif c == "(":
            if source.startswith("(?P<", i) or source.startswith("(?<", i):
                start = source.index("<", i) + 1
                close = source.index(">", start)
                names.append(source[start:close])
                i = close + 1
                continue
            if not source.startswith("(?", i):
                names.append("")
            i += 1
        else:
            i += 1
    return tuple(names), any_byte


def _reference(text: str) -> tuple[str, str] | None:
    """Go's ``extract``: the group name after a "$" (``name`` or ``{name}``) and the rest."""
    brace = text.startswith("{")
    body = text[1:] if brace else text
    i = 0
    while i < len(body) and (unicodedata.category(body[i]) in _NAME_CATEGORIES or body[i] == "_"):
        i += 1
    if i == 0:
        return None
    name = body[:i]
    if brace:
        if not body.startswith("}", i):
            return None
        i += 1
    return name, body[i:]


# Go's unicode.IsLetter and unicode.IsDigit
_NAME_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nd"})


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


def _group(data: bytes, span: tuple[int, int]) -> str | None:
    start, stop = span
    return None if start < 0 else _decode(data[start:stop])


def _width(data: bytes, pos: int) -> int:
    """The byte length of the UTF-8 character at ``pos`` (1 at the end, to step past it)."""
    if pos >= len(data):
        return 1
    lead = data[pos]
    return 1 if lead < 0xC0 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4

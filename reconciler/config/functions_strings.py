"""String built-in functions, including the regular-expression family.

Patterns are RE2 patterns run with Go's semantics, as terraform runs them
(``reconciler.config.regexp``). In ``replace`` a substring written as ``/pattern/``
is a regular expression whose replacement may use ``$1``, ``${1}``, ``$name`` or
``${name}`` (Go's Expand).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.config import graphemes
from reconciler.config.functions_spec import FunctionError, Known, Param, ParamType, spec, table
from reconciler.config.types import ConversionError, a_type, to_string
from reconciler.values import UNKNOWN, is_wholly_known

if TYPE_CHECKING:
    from reconciler.config.regexp import Pattern  # lazy: start-up (a type only)

_STR = Param("str", ParamType.STRING)


# Case changes as terraform's (Go's strings.ToUpper/ToLower/Title): each character on its
# own, by Unicode's one-character (simple) mappings, so "ß" stays "ß", "ŉ" stays "ŉ" and
# "İ" lowers to "i", where Python's str.upper/lower use the longer special casings.


def _simple_upper(ch: str) -> str:
    upper = ch.upper()
    if len(upper) == 1:
        return upper
    title = ch.title()  # "ᾀ" uppercases to "ἈΙ"; its one-character mapping is its titlecase "ᾈ"
    return title if len(title) == 1 else ch


def _simple_lower(ch: str) -> str:
    lower = ch.lower()
    if len(lower) == 1:
        return lower
    return "i" if ch == "\u0130" else ch  # "İ" is the only letter that lowercases to two


def _simple_title(ch: str) -> str:
    title = ch.title()
    return title if len(title) == 1 else ch


@spec("lower", _STR)
def _lower(s):
    return s.lower() if s.isascii() else "".join(map(_simple_lower, s))


@spec("upper", _STR)
def _upper(s):
    return s.upper() if s.isascii() else "".join(map(_simple_upper, s))


@spec("title", _STR)
def _title(s):
    out, in_word = [], False
    for ch in s:
        out.append(ch if in_word else _simple_title(ch))
        # word characters as Terraform (Go) counts them: ASCII letters, digits and "_",
        # and any non-ASCII character that isn't a space
        in_word = (ch.isalnum() or ch == "_") if ch.isascii() else not ch.isspace()
    return "".join(out)


@spec("trimspace", _STR)
def _trimspace(s):
    return s.strip()


@spec("trim", _STR, Param("cutset", ParamType.STRING))
def _trim(s, cutset):
    return s.strip(cutset)


@spec("trimprefix", _STR, Param("prefix", ParamType.STRING))
def _trimprefix(s, prefix):
    return s.removeprefix(prefix)


@spec("trimsuffix", _STR, Param("suffix", ParamType.STRING))
def _trimsuffix(s, suffix):
    return s.removesuffix(suffix)


@spec("chomp", _STR)
def _chomp(s):
    while s.endswith(("\r\n", "\n", "\r")):
        s = s[:-2] if s.endswith("\r\n") else s[:-1]
    return s


@spec("strrev", _STR)
def _strrev(s):
    return "".join(reversed(graphemes.clusters(s)))  # a flag or "x\u0301" stays whole


@spec("startswith", _STR, Param("prefix", ParamType.STRING))
def _startswith(s, prefix):
    return s.startswith(prefix)


@spec("endswith", _STR, Param("suffix", ParamType.STRING))
def _endswith(s, suffix):
    return s.endswith(suffix)


@spec("strcontains", _STR, Param("substr", ParamType.STRING))
def _strcontains(s, sub):
    return sub in s


@spec("indent", Param("spaces", ParamType.NUMBER), _STR)
def _indent(spaces, s):
    if not isinstance(spaces, int) or not 0 <= spaces <= 1000:
        raise FunctionError("spaces must be a whole number from 0 to 1000", 0)
    pad = " " * spaces
    lines = s.split("\n")
    return "\n".join([lines[0]] + [pad + ln for ln in lines[1:]])


@spec("substr", _STR, Param("offset", ParamType.NUMBER), Param("length", ParamType.NUMBER))
def _substr(s, offset, length):
    """Offsets and lengths count grapheme clusters; an offset past the end gives "" (cty's substr)."""
    if not isinstance(offset, int) or not isinstance(length, int):
        raise FunctionError("offset and length must be whole numbers")
    chars = graphemes.clusters(s)
    if offset < 0:
        offset = max(len(chars) + offset, 0)
        if length == 0:  # cty looks for the end of a zero length from here and never finds it
            length = -1
    elif length == 0:
        return ""
    end = len(chars) if length < 0 else offset + length
    return "".join(chars[offset:end])


@spec("split", Param("separator", ParamType.STRING), _STR)
def _split(sep, s):
    if sep == "":
        return list(s)
    return s.split(sep)


@spec(
    "join",
    Param("separator", ParamType.STRING),
    Param("list", ParamType.LIST, Known.TOP),
    variadic=Param("lists", ParamType.LIST, Known.TOP),
)
def _join(sep, *lists):
    items = [v for lst in lists for v in lst]
    if not is_wholly_known(items):
        return UNKNOWN
    out = []
    for i, v in enumerate(items):
        if v is None:
            raise FunctionError(f"element {i} is null; join needs strings", 1)
        try:
            out.append(to_string(v))
        except ConversionError:
            raise FunctionError(f"element {i} is {a_type(v)}; join needs strings", 1) from None
    return sep.join(out)


def _pattern(pattern: str) -> Pattern:
    """regex's and regexall's pattern; a bad one is blamed on the argument, as terraform does."""
    from reconciler.config.regexp import PatternError, compile_pattern  # lazy: start-up (RE2)

    try:
        return compile_pattern(pattern)
    except PatternError as exc:
        raise FunctionError(
            f'Invalid value for "pattern" parameter: invalid regexp pattern: {exc.code} in {exc.arg}',
            0,
            "Invalid function argument",
        ) from None


def _result_shape(p: Pattern):
    """What each match becomes (cty's regex result type): the matched text without groups,
    a list of the groups' texts, or an object keyed by the groups' names."""
    named = [name for name in p.names if name]
    if named and len(named) != len(p.names):
        raise FunctionError(
            'Invalid value for "pattern" parameter: invalid regexp pattern: cannot mix both named '
            "and unnamed capture groups",
            0,
            "Invalid function argument",
        )

    def shape(groups: tuple[str | None, ...]):
        if not p.names:
            return groups[0]
        if not named:
            return list(groups[1:])
        out: dict[str, str | None] = {}
        for name, value in zip(p.names, groups[1:]):
            out[name] = value  # a repeated name keeps its last group's text, as terraform's does
        return out

    return shape


@spec("regex", Param("pattern", ParamType.STRING), Param("string", ParamType.STRING))
def _regex(pattern, s):
    p = _pattern(pattern)
    shape = _result_shape(p)
    groups = p.find(s)
    if groups is None:
        raise FunctionError("pattern did not match any part of the given string", 1)
    return shape(groups)


@spec("regexall", Param("pattern", ParamType.STRING), Param("string", ParamType.STRING))
def _regexall(pattern, s):
    p = _pattern(pattern)
    shape = _result_shape(p)
    return [shape(groups) for groups in p.find_all(s)]


@spec("replace", _STR, Param("substr", ParamType.STRING), Param("replace", ParamType.STRING))
def _replace(s, sub, rep):
    if len(sub) > 1 and sub.startswith("/") and sub.endswith("/"):
        from reconciler.config.regexp import PatternError, compile_pattern  # lazy: start-up (RE2)

        try:
            pattern = compile_pattern(sub[1:-1])
        except PatternError as exc:
            raise FunctionError(exc.go_error()) from None
        return pattern.replace_all(s, rep)
    return s.replace(sub, rep)


FUNCTIONS = table(
    _lower,
    _upper,
    _title,
    _trimspace,
    _trim,
    _trimprefix,
    _trimsuffix,
    _chomp,
    _strrev,
    _startswith,
    _endswith,
    _strcontains,
    _indent,
    _substr,
    _split,
    _join,
    _regex,
    _regexall,
    _replace,
)

"""Grapheme clusters: what terraform 1.11 counts as one character of a string.

``length``, ``substr``, ``strrev``, ``format``'s ``%s`` width and precision, and the
indentation a ``<<-`` heredoc removes all count user-perceived characters (Unicode's
extended grapheme clusters, through go-textseg v15): a flag, an emoji ZWJ sequence or a
letter with combining marks is one character, and so is CR LF.

The clusters are ``regex``'s ``\\X`` (the ``regex`` package, which python-hcl2 needs
anyway), with the one rule Unicode added after the 15.0 tables terraform's Go code is
built on undone: 15.1's GB9c keeps an Indic conjunct (consonant, virama, consonant)
together, Unicode 15.0 breaks before the second consonant. Under 15.0's rules a
consonant joins the character before it only after a Prepend character, so each
``\\X`` cluster is cut before every other conjunct consonant in it.

ASCII text needs no tables: every character is a cluster, except CR LF.
"""

from __future__ import annotations

from functools import cache
from typing import Any


def clusters(text: str) -> list[str]:
    """``text`` cut into grapheme clusters, in order."""
    if text.isascii():
        if "\r\n" not in text:
            return list(text)
        return _ascii_with_crlf(text)
    out: list[str] = []
    tables = _tables()
    for cluster in tables.cluster.findall(text):
        if len(cluster) > 1 and tables.consonant.search(cluster, 1):
            start = 0
            for i in range(1, len(cluster)):
                if tables.consonant.match(cluster[i]) and not tables.prepend.match(cluster[i - 1]):
                    out.append(cluster[start:i])
                    start = i
            out.append(cluster[start:])
        else:
            out.append(cluster)
    return out


def count(text: str) -> int:
    """How many grapheme clusters ``text`` has (terraform's ``length`` of a string)."""
    if text.isascii():
        return len(text) - text.count("\r\n")
    return len(clusters(text))


def _ascii_with_crlf(text: str) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(text):
        step = 2 if text.startswith("\r\n", i) else 1
        out.append(text[i : i + step])
        i += step
    return out


class _Tables:
    def __init__(self) -> None:
        import regex  # lazy: start-up (about 15 ms, and most strings are ASCII)

        self.cluster: Any = regex.compile(r"\X")
        self.consonant: Any = regex.compile(r"\p{InCB=Consonant}")
        self.prepend: Any = regex.compile(r"\p{GCB=Prepend}")


@cache
def _tables() -> _Tables:
    return _Tables()

"""Runtime values of the configuration language.

Values are plain Python: ``str``, ``int``/``float`` (numbers), ``bool``, ``None``
(null), ``list`` (tuples, lists and sets) and ``dict`` (objects and maps). A value
that is not known until apply is ``UNKNOWN``; it may stand anywhere inside a
collection, and every operator and function given an unknown returns unknown
(except where the answer does not depend on it, e.g. ``length`` of a list whose
elements are unknown).

A value may be marked sensitive: ``Sensitive(value)`` wraps it, at the top or anywhere
inside a collection, as Terraform's cty marks do. The evaluator unwraps marks at each
operation and marks the result again (``reconciler.config.evaluator``); everything
outside the evaluator sees plain values plus the paths that were marked
(``unmark_paths``), and marks a value again from paths (``mark_paths``). A value
without marks is never copied by these helpers, so unmarked configurations pay one
type check per value.
"""

from __future__ import annotations

from typing import Any


class Unknown:
    """The single 'known after apply' value."""

    _instance: Unknown | None = None
    __slots__ = ()

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __reduce__(self):  # pickles as the singleton
        return (Unknown, ())

    def __bool__(self) -> bool:
        raise TypeError("the truth of an unknown value is not known until apply")

    def __hash__(self) -> int:
        return 0x5EED

    def __eq__(self, other: object) -> bool:
        return other is self


UNKNOWN = Unknown()


def is_wholly_known(value: Any) -> bool:
    """True when no UNKNOWN appears anywhere inside ``value`` (marks are looked through)."""
    if value is UNKNOWN:
        return False
    if type(value) is Sensitive:
        return is_wholly_known(value.value)
    if isinstance(value, dict):
        return all(is_wholly_known(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(is_wholly_known(v) for v in value)
    return True


def unknown_as_null(value: Any) -> Any:
    """``value`` with each unknown inside it null (marks kept), as terraform stores an output that
    an apply left partly unknown (go-cty's UnknownAsNull): a counted resource missing an index."""
    if value is UNKNOWN:
        return None
    if type(value) is Sensitive:
        return Sensitive(unknown_as_null(value.value))
    if isinstance(value, dict):
        return {k: unknown_as_null(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unknown_as_null(v) for v in value]
    if isinstance(value, tuple):
        return tuple(unknown_as_null(v) for v in value)
    return value


def unknown_paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Paths (tuples of keys and indexes) of every unknown inside ``value``."""
    if value is UNKNOWN:
        return [prefix]
    if type(value) is Sensitive:
        return unknown_paths(value.value, prefix)
    out: list[tuple] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(unknown_paths(v, prefix + (k,)))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            out.extend(unknown_paths(v, prefix + (i,)))
    return out


def type_name(value: Any) -> str:
    """The configuration-language name of a value's type, for messages."""
    if value is UNKNOWN:
        return "unknown"
    if type(value) is Sensitive:
        return type_name(value.value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class Sensitive:
    """A value marked sensitive. Its text never appears in a repr, so a log line or a
    traceback that shows it prints ``(sensitive value)``."""

    __slots__ = ("value",)
    value: Any

    def __init__(self, value: Any):
        self.value = value.value if type(value) is Sensitive else value

    def __repr__(self) -> str:
        return "(sensitive value)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return type(other) is Sensitive and other.value == self.value

    def __hash__(self) -> int:
        return hash(("sensitive", self.value))


def mark(value: Any) -> Any:
    """``value`` marked sensitive (once: marking twice is marking)."""
    return value if type(value) is Sensitive else Sensitive(value)


def mark_if(value: Any, marked: bool) -> Any:
    return mark(value) if marked else value


def unmark(value: Any) -> tuple[Any, bool]:
    """The value without its own mark, and whether it had one (marks inside stay)."""
    if type(value) is Sensitive:
        return value.value, True
    return value, False


def strip(value: Any) -> Any:
    """The value without its own mark."""
    return value.value if type(value) is Sensitive else value


def has_marks(value: Any) -> bool:
    """True when a mark stands anywhere in ``value``."""
    t = type(value)
    if t is Sensitive:
        return True
    if t is dict:
        return any(has_marks(v) for v in value.values())
    if t is list or t is tuple:
        return any(has_marks(v) for v in value)
    return False


def unmark_deep(value: Any) -> tuple[Any, bool]:
    """The value with every mark removed, and whether there was any (the value itself is
    returned, not a copy, when there was none)."""
    t = type(value)
    if t is Sensitive:
        return unmark_deep(value.value)[0], True
    if t is dict:
        found = False
        out = {}
        for k, v in value.items():
            plain, marked = unmark_deep(v)
            found = found or marked
            out[k] = plain
        return (out, True) if found else (value, False)
    if t is list or t is tuple:
        found = False
        items = []
        for v in value:
            plain, marked = unmark_deep(v)
            found = found or marked
            items.append(plain)
        return (t(items), True) if found else (value, False)
    return value, False


def unmark_paths(value: Any, prefix: tuple = ()) -> tuple[Any, list[tuple]]:
    """The value with every mark removed, and the paths where marks stood (``()`` for the
    value itself). Returns the value itself when there was no mark."""
    t = type(value)
    if t is Sensitive:
        plain, _ = unmark_deep(value.value)
        return plain, [prefix]
    if t is dict:
        paths: list[tuple] = []
        out = {}
        for k, v in value.items():
            plain, inner = unmark_paths(v, prefix + (k,))
            paths.extend(inner)
            out[k] = plain
        return (out, paths) if paths else (value, paths)
    if t is list or t is tuple:
        paths = []
        items = []
        for i, v in enumerate(value):
            plain, inner = unmark_paths(v, prefix + (i,))
            paths.extend(inner)
            items.append(plain)
        return (t(items), paths) if paths else (value, paths)
    return value, []


def mark_paths(value: Any, paths) -> Any:
    """``value`` with a mark at each of ``paths``. A path that leads nowhere in ``value`` (the
    value changed shape) marks the deepest part of it that exists, so no mark is lost; a path
    into an unknown value waits until the value is known (an unknown shows nothing)."""
    for path in paths:
        value = _mark_at(value, tuple(path))
    return value


def _mark_at(value: Any, path: tuple) -> Any:
    if not path:
        return mark(value)
    inner, marked = unmark(value)
    if inner is UNKNOWN:
        return value
    head, rest = path[0], path[1:]
    if type(inner) is dict and head in inner:
        copy = dict(inner)
        copy[head] = _mark_at(inner[head], rest)
        return mark_if(copy, marked)
    if type(inner) in (list, tuple) and type(head) is int and 0 <= head < len(inner):
        items = list(inner)
        items[head] = _mark_at(inner[head], rest)
        return mark_if(type(inner)(items), marked)
    return mark(value)


HIDDEN = "(sensitive value)"


def secret_texts(*values: Any) -> set[str]:
    """The text of every string, number and bool under a mark in ``values`` (what a message
    must not quote)."""
    out: set[str] = set()

    def visit(value: Any, under: bool) -> None:
        t = type(value)
        if t is Sensitive:
            visit(value.value, True)
        elif t is dict:
            for k, v in value.items():
                if under:
                    out.add(str(k))
                visit(v, under)
        elif t is list or t is tuple:
            for v in value:
                visit(v, under)
        elif under and value is not None and value is not UNKNOWN:
            out.add(str(value))
            if t is bool:
                out.add(str(value).lower())

    for v in values:
        visit(v, False)
    return {s for s in out if s}


def redact(text: str, *values: Any) -> str:
    """``text`` with the text of every marked part of ``values`` replaced by
    ``(sensitive value)``, longest first so a secret containing another goes whole."""
    for secret in sorted(secret_texts(*values), key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    return text

"""Runtime values of the configuration language.

Values are plain Python: ``str``, ``int``/``float`` (numbers), ``bool``, ``None``
(null), ``list`` (tuples, lists and sets) and ``dict`` (objects and maps). A value
that is not known until apply is ``UNKNOWN``; it may stand anywhere inside a
collection, and every operator and function given an unknown returns unknown
(except where the answer does not depend on it, e.g. ``length`` of a list whose
elements are unknown).
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


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def is_wholly_known(value: Any) -> bool:
    """True when no UNKNOWN appears anywhere inside ``value``."""
    if value is UNKNOWN:
        return False
    if isinstance(value, dict):
        return all(is_wholly_known(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(is_wholly_known(v) for v in value)
    return True


def unknown_paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Paths (tuples of keys and indexes) of every unknown inside ``value``."""
    if value is UNKNOWN:
        return [prefix]
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

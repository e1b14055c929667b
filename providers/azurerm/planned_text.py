"""A planned instance's names and ids as Azure compares them: case-insensitive, trailing slash aside."""

from __future__ import annotations

from typing import Any


def text_of(values: dict[str, Any] | None, key: str) -> str:
    """``values[key]`` lower-cased without a trailing slash; "" when it is not a known string."""
    value = (values or {}).get(key)
    return value.rstrip("/").lower() if isinstance(value, str) else ""

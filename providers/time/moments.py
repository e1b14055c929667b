"""Timestamps and durations as hashicorp/time reads and writes them (Go's time package rules)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str) -> float:
    """Seconds in a Go duration ("1h30m", "300ms", "-2s"); ValueError when it isn't one."""
    body = text.strip()
    sign = -1.0 if body.startswith("-") else 1.0
    body = body.lstrip("+-")
    if body == "0":
        return 0.0
    total, pos = 0.0, 0
    for match in _PART.finditer(body):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not body or pos != len(body):
        raise ValueError(f"{text!r} is not a duration (e.g. 30s, 5m, 1h30m)")
    return sign * total


def parse_rfc3339(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def format_rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_date(moment: datetime, years: int = 0, months: int = 0, days: int = 0) -> datetime:
    """Go's AddDate: overflowing days roll into the next month (Jan 31 + 1 month is Mar 3)."""
    total = moment.year * 12 + (moment.month - 1) + years * 12 + months
    year, month = divmod(total, 12)
    first = moment.replace(year=year, month=month + 1, day=1)
    return first + timedelta(days=moment.day - 1 + days)


def parts(moment: datetime) -> dict[str, int]:
    m = moment.astimezone(UTC)
    return {
        "year": m.year,
        "month": m.month,
        "day": m.day,
        "hour": m.hour,
        "minute": m.minute,
        "second": m.second,
        "unix": int(m.timestamp()),
    }

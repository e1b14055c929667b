"""Date and time functions over RFC 3339 timestamps: timeadd, timecmp, formatdate, plantimestamp.

They are pure (``timestamp()`` is the impure one, and is unknown at plan time), so
``timeadd("2026-01-01T00:00:00Z", "8760h")`` gives a known key expiration date.
Durations use Go's syntax, as Terraform's do: a sequence of decimal numbers with a
unit each (``ns``, ``us``/``µs``, ``ms``, ``s``, ``m``, ``h``), optionally signed:
``"1h30m"``, ``"-10m"``, ``"8760h"``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from reconciler.config.functions_spec import FunctionError, Param, ParamType, spec, table
from reconciler.values import UNKNOWN

_UNITS = {
    "ns": Decimal("1e-9"),
    "us": Decimal("1e-6"),
    "µs": Decimal("1e-6"),
    "μs": Decimal("1e-6"),
    "ms": Decimal("1e-3"),
    "s": Decimal(1),
    "m": Decimal(60),
    "h": Decimal(3600),
}


def parse_timestamp(text: str, arg: int = 0) -> datetime:
    """An RFC 3339 timestamp with its offset (``2026-01-01T00:00:00Z``)."""
    bad = FunctionError(f'"{text}" is not a valid RFC 3339 timestamp (like "2026-01-31T23:59:00Z")', arg)
    if len(text) < 20 or text[10] not in "Tt":
        raise bad
    try:
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] in "Zz" else text)
    except ValueError:
        raise bad from None
    if value.tzinfo is None:
        raise bad
    return value


def parse_duration(text: str, arg: int = 1) -> timedelta:
    bad = FunctionError(f'"{text}" is not a duration: write a number and unit, like "1h30m" or "-10m"', arg)
    body, sign = text, 1
    if body[:1] in "+-":
        sign, body = (-1 if body[0] == "-" else 1), body[1:]
    if not body:
        raise bad
    total, i = Decimal(0), 0
    while i < len(body):
        j = i
        while j < len(body) and (body[j].isdigit() or body[j] == "."):
            j += 1
        k = j
        while k < len(body) and not (body[k].isdigit() or body[k] == "."):
            k += 1
        unit = body[j:k]
        if j == i or unit not in _UNITS:
            raise bad
        try:
            total += Decimal(body[i:j]) * _UNITS[unit]
        except InvalidOperation:
            raise bad from None
        i = k
    try:
        return timedelta(seconds=float(total)) * sign
    except OverflowError:
        raise bad from None


def format_rfc3339(value: datetime) -> str:
    offset = value.utcoffset() or timedelta(0)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if offset == timedelta(0):
        return text + "Z"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{text}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@spec("timeadd", Param("timestamp", ParamType.STRING), Param("duration", ParamType.STRING))
def _timeadd(timestamp, duration):
    try:
        return format_rfc3339(parse_timestamp(timestamp, 0) + parse_duration(duration, 1))
    except OverflowError:
        raise FunctionError("the result is outside the range of dates", 1) from None


@spec("timecmp", Param("timestamp_a", ParamType.STRING), Param("timestamp_b", ParamType.STRING))
def _timecmp(a, b):
    ta, tb = parse_timestamp(a, 0), parse_timestamp(b, 1)
    return (ta > tb) - (ta < tb)


_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _offset(t: datetime, colon: bool) -> str:
    minutes = int((t.utcoffset() or timedelta(0)).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    sep = ":" if colon else ""
    return f"{sign}{abs(minutes) // 60:02d}{sep}{abs(minutes) % 60:02d}"


_TOKENS = {
    "YYYY": lambda t: f"{t.year:04d}",
    "YY": lambda t: f"{t.year % 100:02d}",
    "MMMM": lambda t: _MONTHS[t.month - 1],
    "MMM": lambda t: _MONTHS[t.month - 1][:3],
    "MM": lambda t: f"{t.month:02d}",
    "M": lambda t: str(t.month),
    "DD": lambda t: f"{t.day:02d}",
    "D": lambda t: str(t.day),
    "EEEE": lambda t: _DAYS[t.weekday()],
    "EEE": lambda t: _DAYS[t.weekday()][:3],
    "hh": lambda t: f"{t.hour:02d}",
    "h": lambda t: str(t.hour),
    "HH": lambda t: f"{(t.hour % 12) or 12:02d}",
    "H": lambda t: str((t.hour % 12) or 12),
    "AA": lambda t: "AM" if t.hour < 12 else "PM",
    "aa": lambda t: "am" if t.hour < 12 else "pm",
    "mm": lambda t: f"{t.minute:02d}",
    "m": lambda t: str(t.minute),
    "ss": lambda t: f"{t.second:02d}",
    "s": lambda t: str(t.second),
    "ZZZZZ": lambda t: _offset(t, True),
    "ZZZZ": lambda t: _offset(t, False),
    "ZZZ": lambda t: "UTC" if not t.utcoffset() else _offset(t, False),
    "Z": lambda t: "Z" if not t.utcoffset() else _offset(t, True),
}


@spec("formatdate", Param("format", ParamType.STRING), Param("time", ParamType.STRING))
def _formatdate(fmt, timestamp):
    t = parse_timestamp(timestamp, 1)
    out, i = [], 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "'":
            end = fmt.find("'", i + 1)
            if end < 0:
                raise FunctionError("unterminated quoted literal in the format", 0)
            out.append("'" if end == i + 1 else fmt[i + 1 : end])
            i = end + 1
            continue
        if not ch.isalpha():
            out.append(ch)
            i += 1
            continue
        j = i
        while j < len(fmt) and fmt[j] == ch:
            j += 1
        token = fmt[i:j]
        if token not in _TOKENS:
            raise FunctionError(
                f"invalid date format sequence \"{token}\"; quote literal letters with '...'", 0
            )
        out.append(_TOKENS[token](t))
        i = j
    return "".join(out)


# The plan's timestamp, set by the plan walk when it starts: plantimestamp() is known while
# planning (unlike timestamp()) and the same for every call in one plan, as terraform's
# (funcs/datetime.go MakeStaticTimestampFunc); unknown where no plan is being made (validate).
_plan_timestamp: list[str] = []


def set_plan_timestamp(text: str | None) -> None:
    """The RFC 3339 time plantimestamp() answers from now on (``None``: unknown)."""
    _plan_timestamp[:] = [text] if text else []


@spec("plantimestamp", reads_outside=True)
def _plantimestamp():
    return _plan_timestamp[0] if _plan_timestamp else UNKNOWN


FUNCTIONS = table(_timeadd, _timecmp, _formatdate, _plantimestamp)

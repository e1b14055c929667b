"""Terraform's version constraints: ``>= 1.2, < 2.0``, ``~> 1.4``, ``= 1.0.3``, ``!= 1.1.0``."""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
_CONSTRAINT = re.compile(r"^\s*(>=|<=|~>|!=|=|>|<)?\s*(\S+)\s*$")


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int
    pre: str = ""  # a pre-release sorts before its release
    given: int = 3  # how many numbers were written (for ~>)

    def key(self) -> tuple:
        return (self.major, self.minor, self.patch, self.pre == "", self.pre)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}" + (f"-{self.pre}" if self.pre else "")


def parse_version(text: str) -> Version:
    m = _VERSION.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a version (e.g. 1.4.2)")
    parts = [int(p) if p is not None else 0 for p in m.groups()[:3]]
    given = sum(1 for p in m.groups()[:3] if p is not None)
    return Version(parts[0], parts[1], parts[2], m.group(4) or "", given)


def _holds(op: str, want: Version, v: Version) -> bool:
    if op in ("", "="):
        return v.key() == want.key()
    if op == "!=":
        return v.key() != want.key()
    if op == ">":
        return v.key() > want.key()
    if op == ">=":
        return v.key() >= want.key()
    if op == "<":
        return v.key() < want.key()
    if op == "<=":
        return v.key() <= want.key()
    # ~> 1.4 allows >= 1.4, < 2.0; ~> 1.4.2 allows >= 1.4.2, < 1.5.0
    if v.key() < want.key():
        return False
    if want.given <= 1:
        return True
    if want.given == 2:
        return v.major == want.major
    return (v.major, v.minor) == (want.major, want.minor)


def parse_constraints(text: str) -> list[tuple[str, Version]]:
    out = []
    for piece in text.split(","):
        m = _CONSTRAINT.match(piece)
        if not m:
            raise ValueError(f'{text!r} is not a version constraint (e.g. "~> 1.4" or ">= 1.0, < 2.0")')
        out.append((m.group(1) or "=", parse_version(m.group(2))))
    return out


def newest_matching(available: list[str], constraint: str | None) -> str | None:
    """The newest version that meets every constraint; pre-releases only when asked for exactly."""
    wanted = parse_constraints(constraint) if constraint else []
    exact_pre = {str(v) for op, v in wanted if op == "=" and v.pre}
    best: Version | None = None
    best_text = None
    for text in available:
        try:
            v = parse_version(text)
        except ValueError:
            continue
        if v.pre and str(v) not in exact_pre:
            continue
        if all(_holds(op, want, v) for op, want in wanted) and (best is None or v.key() > best.key()):
            best, best_text = v, text
    return best_text


def admits_at_least(constraint: str | None, floor: str) -> bool:
    """Whether ``constraint`` allows some version at or above ``floor`` (no constraint: yes).

    The allowed set is an interval with holes, so its lowest member at or above the floor is
    the floor itself, a bound the constraint names, or just above one.
    """
    if not constraint:
        return True
    try:
        wanted = parse_constraints(constraint)
        low = parse_version(floor)
    except ValueError:
        return True
    candidates = [low, Version(10**6, 0, 0)]
    for _op, v in wanted:
        candidates += [v, Version(v.major, v.minor, v.patch + 1), Version(v.major, v.minor + 1, 0)]
    return any(c.key() >= low.key() and all(_holds(op, w, c) for op, w in wanted) for c in candidates)

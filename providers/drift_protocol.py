"""The drift protocol's vocabulary: what the engine tells a provider about its objects, and
what a provider that knows its cloud says back about drift.

The engine compares what state recorded, what the cloud holds and what the configuration
wants, attribute by attribute, for any provider. A provider that implements
``SupportsDriftRules`` (``providers.base``) adds its knowledge for one estate: which
attributes are derived or implied, how repeated blocks are keyed, what each change breaks
(``classify``), how to undo what the engine can't (``remedy``), and findings beyond
attribute comparison. One with ``SupportsUnmanagedListing`` lists objects in the estate's
scope that no state entry tracks. Everything here is plain data, so both sides can be
tested without the other.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Severity(enum.Enum):
    """What the drift breaks, worst first."""

    CRITICAL = "critical"  # backups or restores will fail
    WARNING = "warning"  # other security-relevant change
    INFO = "info"  # everything else (tags...)

    @property
    def rank(self) -> int:
        return {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}[self]


class ChangeKind(enum.Enum):
    """How a value moved from what was recorded to what the cloud holds now."""

    DELETED = "deleted"  # the whole object is gone
    ADDED = "added"  # a value appeared where there was none
    REMOVED = "removed"  # a value disappeared
    ENABLED = "enabled"  # false -> true
    DISABLED = "disabled"  # true -> false
    NARROWED = "narrowed"  # a set lost members (it may have gained others too)
    BROADENED = "broadened"  # a set only gained members
    CHANGED = "changed"  # any other change of value


class Baseline(enum.Enum):
    """What the cloud's value is compared with."""

    RECORDED = "recorded"  # changed since state recorded it (out of band)
    DESIRED = "desired"  # state agrees with the cloud, the configuration wants another value


# --------------------------------------------------------------------------- what the engine sends


@dataclass(frozen=True)
class EstateObject:
    """One managed object of the provider that state records."""

    address: str
    type: str
    recorded: dict[str, Any]  # what state holds
    refreshed: dict[str, Any] | None = None  # what the cloud holds; None: gone or not read
    read: bool = False  # the refresh succeeded (``refreshed`` None then means deleted)
    config: dict[str, Any] | None = None  # what the configuration sets; None: not known

    @property
    def current(self) -> dict[str, Any]:
        """The freshest attributes known: the cloud's when read, else state's."""
        return self.refreshed or self.recorded


@dataclass(frozen=True)
class DriftEstate:
    objects: tuple[EstateObject, ...] = ()
    now: datetime | None = None  # the moment drift is judged at; None: the current UTC time


@dataclass(frozen=True)
class Subject:
    """One difference to judge, with its object's attributes (as compared) for the conditions."""

    type: str
    path: str  # without selectors ("access_policy.key_permissions"); "" the whole object
    kind: ChangeKind
    recorded: Any
    actual: Any
    obj_recorded: dict
    obj_actual: dict | None
    baseline: Baseline = Baseline.RECORDED


# --------------------------------------------------------------------------- what the provider answers


@dataclass(frozen=True)
class Finding:
    """Drift the provider found beyond comparing an object's attributes (e.g. a key version a
    vault uses that no managed object shows). ``remedy``: how to undo it out of band, or ""
    when taking it into state is the fix."""

    address: str
    type: str
    path: str
    kind: ChangeKind
    recorded: Any
    actual: Any
    desired: Any
    severity: Severity
    why: str
    remedy: str = ""
    baseline: Baseline = Baseline.DESIRED


@dataclass(frozen=True)
class Problem:
    """Something the provider could not read while judging or listing; the rest goes on."""

    where: str  # "(objects in rg-1)", "(key versions in use)"
    code: str
    message: str


@dataclass(frozen=True)
class Findings:
    findings: tuple[Finding, ...] = ()
    problems: tuple[Problem, ...] = ()


def _no_findings(reported: Mapping[str, Severity]) -> Findings:
    return Findings()


@dataclass(frozen=True)
class DriftRules:
    """A provider's knowledge of drift for one estate (``SupportsDriftRules.drift_rules``).

    ``keyed_lists``: (type, attribute path without selectors) -> the attribute that keys
    a repeated block, so elements are matched by it instead of position. ``ignored``:
    type -> attributes derived from others, never reported. ``implied``: (type, attribute)
    -> the value a fact outside the schema has when state recorded nothing, and that the
    configuration implicitly wants. ``own``: the part of an object's attributes that is
    its own (e.g. without list entries another object manages). ``classify``: what a
    change breaks, None for the engine's generic answer. ``remedy``: how to undo a change
    the plan doesn't, None when taking it into state is the fix. ``findings``: drift
    beyond the attributes, given the worst severity already reported per address.
    """

    keyed_lists: Mapping[tuple[str, str], str] = field(default_factory=dict)
    ignored: Mapping[str, frozenset[str]] = field(default_factory=dict)
    implied: Mapping[tuple[str, str], Any] = field(default_factory=dict)
    own: Callable[[str, dict | None], dict | None] = lambda address, attributes: attributes
    classify: Callable[[Subject], tuple[Severity, str] | None] = lambda subject: None
    remedy: Callable[[Subject], str | None] = lambda subject: None
    findings: Callable[[Mapping[str, Severity]], Findings] = _no_findings


@dataclass(frozen=True)
class UnmanagedObject:
    """An object in the scope the configuration touches that no state entry tracks."""

    type: str
    id: str
    name: str
    scope: str  # the container it was found in (a resource group, a key vault)
    detail: str = ""


@dataclass(frozen=True)
class UnmanagedListing:
    objects: tuple[UnmanagedObject, ...] = ()
    problems: tuple[Problem, ...] = ()

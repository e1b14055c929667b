"""What a drift report is: plain records, no behaviour beyond small derived views.

A ``DriftRecord`` is one attribute (or one whole object) whose value in the cloud
differs from what state recorded or from what the configuration wants, with the
consequence class that ``classify`` gave it and how to fix it. A ``DriftReport``
holds every record, the objects in scope that no state entry tracks, and the
objects that could not be read. The words shared with providers (``Severity``,
``ChangeKind``, ``Baseline``, ``UnmanagedObject``) are the drift protocol's
(``providers.drift_protocol``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from providers.drift_protocol import Baseline, ChangeKind, Severity, UnmanagedObject

FORMAT_VERSION = "1.0"


class FixKind(enum.Enum):
    """Who can undo the drift."""

    PLAN = "plan"  # `vaultform plan` / `apply` proposes the fix
    OUT_OF_BAND = "out-of-band"  # vaultform doesn't reconcile it: undo it where it was done
    ACCEPT = "accept"  # nothing to undo: take it into state (`apply -refresh-only`)


@dataclass(frozen=True)
class Fix:
    kind: FixKind
    detail: str  # what to run or do, in one or two sentences


@dataclass(frozen=True)
class DriftRecord:
    address: str  # resource instance address
    type: str  # resource type
    path: str  # attribute path, "" for the whole object
    kind: ChangeKind
    recorded: Any  # what state holds
    actual: Any  # what the cloud holds now (None when deleted)
    desired: Any  # what the configuration wants (the planner's value)
    severity: Severity
    why: str  # what the change breaks
    fix: Fix
    plan_action: str = "no-op"  # the action `vaultform plan` proposes for the object
    baseline: Baseline = Baseline.RECORDED


@dataclass(frozen=True)
class ReadFailure:
    address: str
    code: str
    message: str


@dataclass
class DriftReport:
    records: list[DriftRecord] = field(default_factory=list)
    unmanaged: list[UnmanagedObject] = field(default_factory=list)
    failures: list[ReadFailure] = field(default_factory=list)
    cloud: str = ""
    checked: int = 0  # managed objects refreshed
    generated_at: str = ""

    @property
    def has_drift(self) -> bool:
        return bool(self.records or self.unmanaged)

    @property
    def exit_code(self) -> int:
        """0 no drift, 2 drift, 1 when objects could not be read and nothing else was found."""
        if self.has_drift:
            return 2
        return 1 if self.failures else 0

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for r in self.records:
            out[r.severity.value] += 1
        return out

    def worst(self) -> Severity | None:
        if not self.records:
            return None
        return min((r.severity for r in self.records), key=lambda s: s.rank)

    def sorted_records(self) -> list[DriftRecord]:
        return sorted(self.records, key=lambda r: (r.severity.rank, r.address, r.path))

    def by_object(self) -> dict[str, list[DriftRecord]]:
        out: dict[str, list[DriftRecord]] = {}
        for r in self.sorted_records():
            out.setdefault(r.address, []).append(r)
        return out

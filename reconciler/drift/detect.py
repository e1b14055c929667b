"""Drift: compare what the cloud holds (refreshed) with state (recorded) and the plan (desired).

Pure: ``detect`` takes the recorded objects, the refreshed ones, the plan made with the
refreshed values and returns one ``DriftRecord`` per attribute that moved - and one per
attribute the configuration wants otherwise although state already agrees with the
cloud (drift accepted into state earlier, or a fact vaultform doesn't reconcile, such as a
disabled key version). What a change breaks and how to undo it out of band is the
provider's (``DriftRules``); a provider without rules gets the generic answer
(``generic_classify``). Reading the cloud and planning happen in ``reconciler.drift.run``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from providers.drift_protocol import DriftEstate, DriftRules, EstateObject, Finding, Severity, Subject
from reconciler.drift.compare import (
    Difference,
    differences,
    kind_of,
    lookup,
    object_view,
    pattern_of,
    same,
)
from reconciler.drift.fixes import fix_for
from reconciler.drift.model import Baseline, ChangeKind, DriftRecord, Fix, FixKind, ReadFailure
from reconciler.plan.model import Action, Plan
from reconciler.values import UNKNOWN

GENERIC = DriftRules()
DEFAULT_WHY = "changed out of band"


@dataclass(frozen=True)
class Tracked:
    """One managed object that state records."""

    address: str
    type: str
    attributes: dict
    sensitive: tuple[tuple, ...] = ()  # attribute paths state marks sensitive: never shown
    provider: str = ""  # the local name of the provider that manages it


def path_text(path: tuple) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def _touches(record_path: str, secret: str) -> bool:
    if not record_path:
        return True
    return any(
        a == b or a.startswith(b + ".") or a.startswith(b + "[")
        for a, b in ((record_path, secret), (secret, record_path))
    )


def _masked(record: DriftRecord, t: Tracked) -> DriftRecord:
    secrets = [path_text(p) for p in t.sensitive]
    if not any(_touches(record.path, s) for s in secrets):
        return record
    hidden = "(sensitive)"
    return replace(
        record,
        recorded=hidden if record.recorded is not None else None,
        actual=hidden if record.actual is not None else None,
        desired=hidden if record.desired is not None else None,
    )


def generic_classify(s: Subject) -> tuple[Severity, str]:
    """What the engine says of a change when the provider has no consequence classes for it."""
    if s.kind is ChangeKind.DELETED and not s.path:
        return Severity.WARNING, "the object was deleted out of band"
    if s.path.startswith("tags"):
        return Severity.INFO, "tags changed"
    if s.baseline is Baseline.DESIRED:
        return Severity.INFO, "the configuration wants another value than the one recorded"
    return Severity.INFO, DEFAULT_WHY


def estate_of(
    tracked: list[Tracked], refreshed: dict[str, dict | None], plan: Plan | None, now=None
) -> DriftEstate:
    """What one provider is told about its objects (``tracked`` should all be its own)."""
    objects = []
    changes = plan.changes_by_address() if plan is not None else {}
    for t in tracked:
        change = changes.get(t.address)
        objects.append(
            EstateObject(
                t.address,
                t.type,
                t.attributes,
                refreshed.get(t.address),
                t.address in refreshed,
                change.config if change is not None else None,
            )
        )
    return DriftEstate(tuple(objects), now)


def _record_of(f: Finding) -> DriftRecord:
    return DriftRecord(
        f.address,
        f.type,
        f.path,
        f.kind,
        f.recorded,
        f.actual,
        f.desired,
        f.severity,
        f.why,
        fix_for(f.kind, plan_action="no-op", plan_changes_it=False, remedy=f.remedy or None),
        "no-op",
        f.baseline,
    )


def finding_records(findings: list[Finding]) -> list[DriftRecord]:
    return [_record_of(f) for f in findings]


def _changes_it(plan_action: Action | None, changed: tuple[str, ...], top: str) -> bool:
    if plan_action is None or plan_action is Action.NO_OP:
        return False
    if plan_action is Action.UPDATE:
        return top in changed
    return True


def _shown(v: Any) -> Any:
    if v is UNKNOWN:
        return "(known after apply)"
    if isinstance(v, dict):
        return {k: _shown(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_shown(x) for x in v]
    return v


def detect(
    tracked: list[Tracked],
    refreshed: dict[str, dict | None],
    plan: Plan | None,
    failures: Sequence[ReadFailure] = (),
    *,
    rules: Mapping[str, DriftRules] | None = None,
) -> list[DriftRecord]:
    """``rules``: provider name -> its rules for this estate; objects of other providers get the generic ones."""
    failed = {f.address for f in failures}
    rules = rules or {}
    refusals = [d for d in (plan.diagnostics if plan is not None else []) if d.is_error]
    refusal = refusals[0].summary if refusals else ""
    records: list[DriftRecord] = []
    changes = plan.changes_by_address() if plan is not None else {}
    for t in tracked:
        if t.address in failed or t.address not in refreshed:
            continue
        change = changes.get(t.address)
        records += _object_records(t, rules.get(t.provider, GENERIC), refreshed[t.address], change, refusal)
    return records


def _object_records(
    t: Tracked, r: DriftRules, refreshed: dict | None, change, refusal: str
) -> list[DriftRecord]:
    """The records of one object that could be read (``refreshed`` None: it is gone)."""
    records: list[DriftRecord] = []
    action = change.action if change is not None else None
    action_text = action.value if action is not None else "no-op"
    changed = change.changed_attributes if change is not None else ()

    def view(attrs: dict | None) -> dict | None:
        return object_view(t.type, r.own(t.address, attrs), r)

    recorded = view(t.attributes)
    actual = view(refreshed)
    after = view(change.after) if change and change.after else None

    def record(
        path: str,
        kind: ChangeKind,
        rec: Any,
        act: Any,
        desired: Any,
        baseline: Baseline = Baseline.RECORDED,
    ) -> None:
        pattern = pattern_of(path)
        before = desired if baseline is Baseline.DESIRED else rec
        subject = Subject(t.type, pattern, kind, before, act, recorded or {}, actual, baseline)
        severity, why = r.classify(subject) or generic_classify(subject)
        top = path.split(".")[0].split("[")[0]
        plan_changes_it = (
            _changes_it(action, changed, top)
            if path
            else action in (Action.CREATE, Action.DELETE_THEN_CREATE, Action.CREATE_THEN_DELETE)
        )
        fix = fix_for(
            kind,
            plan_action=action_text,
            plan_changes_it=plan_changes_it,
            remedy=None if plan_changes_it else r.remedy(subject),
        )
        if fix.kind is FixKind.PLAN and refusal:
            fix = Fix(
                FixKind.PLAN,
                f"{fix.detail}, but the plan is refused today ({refusal}): `vaultform plan` says why",
            )
        records.append(
            _masked(
                DriftRecord(
                    t.address,
                    t.type,
                    path,
                    kind,
                    rec,
                    act,
                    _shown(desired),
                    severity,
                    why,
                    fix,
                    action_text,
                    baseline,
                ),
                t,
            )
        )

    if actual is None:
        desired = None if action in (None, Action.DELETE, Action.FORGET, Action.NO_OP) else "(re-created)"
        record("", ChangeKind.DELETED, recorded, None, desired)
        return records
    moved = differences(recorded, actual, type_name=t.type, keyed_lists=r.keyed_lists)
    seen = {d.path for d in moved}
    for d in moved:
        record(
            d.path,
            kind_of(d.recorded, d.actual),
            d.recorded,
            d.actual,
            _desired(t, r, d, actual, after, action, changed),
        )
    for d in _unconverged(t, r, actual, after, action, changed):
        if d.path in seen:
            continue
        desired = d.recorded  # differences(desired, actual): "recorded" side holds the desired value
        record(
            d.path,
            kind_of(desired, d.actual),
            lookup(recorded, d.path, t.type, r.keyed_lists),
            d.actual,
            desired,
            Baseline.DESIRED,
        )
    return records


def _desired(
    t: Tracked,
    r: DriftRules,
    d: Difference,
    actual: dict,
    after: dict | None,
    action: Action | None,
    changed: tuple[str, ...],
) -> Any:
    implied = r.implied.get((t.type, d.top))
    if implied is not None:
        return implied
    if after is not None and _changes_it(action, changed, d.top):
        return lookup(after, d.path, t.type, r.keyed_lists)
    return d.actual


def _unconverged(
    t: Tracked,
    r: DriftRules,
    actual: dict,
    after: dict | None,
    action: Action | None,
    changed: tuple[str, ...],
) -> list[Difference]:
    """Where the configuration wants another value than the cloud holds."""
    out: list[Difference] = []
    for (type_name, name), implied in r.implied.items():
        if type_name == t.type and not same(implied, actual.get(name)):
            out.append(Difference(name, implied, actual.get(name)))
    if after is None or action is not Action.UPDATE:
        return out
    for top in changed:
        out += differences(after.get(top), actual.get(top), top, type_name=t.type, keyed_lists=r.keyed_lists)
    return out

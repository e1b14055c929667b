"""Drift: compare what the cloud holds (refreshed) with state (recorded) and the plan (desired).

Pure: ``detect`` takes the recorded objects, the refreshed ones, the plan made with the
refreshed values and returns one ``DriftRecord`` per attribute that moved - and one per
attribute the configuration wants otherwise although state already agrees with the
cloud (drift accepted into state earlier, or a fact vaultform doesn't reconcile, such as a
disabled key version). Reading the cloud and planning happen in ``reconciler.drift.run``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from reconciler.drift.classify import Facts, Subject, classify
from reconciler.drift.compare import (
    IMPLIED,
    Difference,
    differences,
    kind_of,
    lookup,
    object_view,
    pattern_of,
    same,
)
from reconciler.drift.model import Baseline, ChangeKind, DriftRecord, Fix, FixKind, ReadFailure
from reconciler.drift.remedy import fix_for
from reconciler.plan.model import Action, Plan
from reconciler.values import UNKNOWN

POLICY_TYPE = "azurerm_key_vault_access_policy"
KEY_VAULT_TYPE = "azurerm_key_vault"


@dataclass(frozen=True)
class Tracked:
    """One managed object that state records."""

    address: str
    type: str
    attributes: dict
    sensitive: tuple[tuple, ...] = ()  # attribute paths state marks sensitive: never shown


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


def _vault_uri_of_key(key_id: Any) -> str:
    text = str(key_id or "")
    if "://" not in text:
        return ""
    scheme, rest = text.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}".lower()


def _first(blocks: Any) -> dict:
    return blocks[0] if isinstance(blocks, list) and blocks and isinstance(blocks[0], dict) else {}


def facts_of(objects: Iterable[tuple[str, dict]], now: datetime | None = None) -> Facts:
    """``objects``: (type, attributes) of every recorded and refreshed object."""
    objects = list(objects)
    facts = Facts(now=now or datetime.now(UTC))
    identities = {
        str(a.get("id") or "").lower(): a for t, a in objects if t == "azurerm_user_assigned_identity"
    }
    for type_name, attrs in objects:
        if type_name != "azurerm_recovery_services_vault":
            continue
        enc = _first(attrs.get("encryption"))
        uri = _vault_uri_of_key(enc.get("key_id"))
        if not uri:
            continue
        facts.cmk_key_vault_uris.add(uri)
        user = str(enc.get("user_assigned_identity_id") or "").lower()
        if user:
            facts.user_identity_key_vault_uris.add(uri)
            principal = (identities.get(user) or {}).get("principal_id")
            if principal:
                facts.cmk_principals.add(str(principal).lower())
        else:
            principal = _first(attrs.get("identity")).get("principal_id")
            if principal:
                facts.cmk_principals.add(str(principal).lower())
    return facts


def _separately_managed_policies(tracked: list[Tracked], refreshed: dict[str, dict | None]) -> dict[str, set]:
    """key vault id (lower) -> object ids whose grant an azurerm_key_vault_access_policy manages."""
    out: dict[str, set] = {}
    for t in tracked:
        if t.type != POLICY_TYPE:
            continue
        for attrs in (t.attributes, refreshed.get(t.address) or {}):
            if attrs.get("key_vault_id") and attrs.get("object_id"):
                out.setdefault(str(attrs["key_vault_id"]).lower(), set()).add(str(attrs["object_id"]).lower())
    return out


def inline_policy_ids(config: dict | None) -> set[str] | None:
    """Object ids of the access policies a key vault's configuration sets inline (None: unknown)."""
    if config is None:
        return None
    return {
        str(p.get("object_id") or "").lower()
        for p in config.get("access_policy") or []
        if isinstance(p, dict)
    }


def _policies_kept(attrs: dict | None, skip: set, only: set | None) -> dict | None:
    """A key vault's access policies that are its own: not managed by separate access-policy
    objects and, when the configuration is known, set inline (the rest of the list mirrors
    grants made elsewhere; those are reported on their own objects or as unmanaged)."""
    if attrs is None or not isinstance(attrs.get("access_policy"), list):
        return attrs
    kept = [
        p
        for p in attrs["access_policy"]
        if str(p.get("object_id") or "").lower() not in skip
        and (only is None or str(p.get("object_id") or "").lower() in only)
    ]
    return {**attrs, "access_policy": kept}


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
    failures: list[ReadFailure] = (),
    *,
    local: bool = True,
    now: datetime | None = None,
) -> list[DriftRecord]:
    failed = {f.address for f in failures}
    facts = facts_of(
        [(t.type, t.attributes) for t in tracked]
        + [(t.type, refreshed[t.address]) for t in tracked if refreshed.get(t.address)],
        now,
    )
    managed_policies = _separately_managed_policies(tracked, refreshed)
    refusals = [d for d in (plan.diagnostics if plan is not None else []) if d.is_error]
    refusal = refusals[0].summary if refusals else ""
    records: list[DriftRecord] = []
    for t in tracked:
        if t.address in failed or t.address not in refreshed:
            continue
        change = plan.change(t.address) if plan is not None else None
        action = change.action if change is not None else None
        action_text = action.value if action is not None else "no-op"
        changed = change.changed_attributes if change is not None else ()
        skip = managed_policies.get(str(t.attributes.get("id") or "").lower(), set())
        only = inline_policy_ids(change.config if change is not None else None)
        recorded = object_view(t.type, _policies_kept(t.attributes, skip, only))
        actual = object_view(t.type, _policies_kept(refreshed[t.address], skip, only))
        after = (
            object_view(t.type, _policies_kept(change.after, skip, only)) if change and change.after else None
        )

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
            severity, why = classify(subject, facts)
            top = path.split(".")[0].split("[")[0]
            fix = fix_for(
                t.type,
                pattern,
                kind,
                plan_action=action_text,
                plan_changes_it=_changes_it(action, changed, top)
                if path
                else action in (Action.CREATE, Action.DELETE_THEN_CREATE, Action.CREATE_THEN_DELETE),
                obj=actual or recorded or {},
                local=local,
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
            desired = None if action in (None, Action.DELETE, Action.NO_OP) else "(re-created)"
            record("", ChangeKind.DELETED, recorded, None, desired)
            continue
        moved = differences(recorded, actual, type_name=t.type)
        seen = {d.path for d in moved}
        for d in moved:
            record(
                d.path,
                kind_of(d.recorded, d.actual),
                d.recorded,
                d.actual,
                _desired(t, d, actual, after, action, changed),
            )
        for d in _unconverged(t, actual, after, action, changed):
            if d.path in seen:
                continue
            desired = d.recorded  # differences(desired, actual): "recorded" side holds the desired value
            record(
                d.path,
                kind_of(desired, d.actual),
                lookup(recorded, d.path, t.type),
                d.actual,
                desired,
                Baseline.DESIRED,
            )
    return records


def _desired(
    t: Tracked,
    d: Difference,
    actual: dict,
    after: dict | None,
    action: Action | None,
    changed: tuple[str, ...],
) -> Any:
    implied = IMPLIED.get((t.type, d.top))
    if implied is not None:
        return implied
    if after is not None and _changes_it(action, changed, d.top):
        return lookup(after, d.path, t.type)
    return d.actual


def _unconverged(
    t: Tracked, actual: dict, after: dict | None, action: Action | None, changed: tuple[str, ...]
) -> list[Difference]:
    """Where the configuration wants another value than the cloud holds."""
    out: list[Difference] = []
    for (type_name, name), implied in IMPLIED.items():
        if type_name == t.type and not same(implied, actual.get(name)):
            out.append(Difference(name, implied, actual.get(name)))
    if after is None or action is not Action.UPDATE:
        return out
    for top in changed:
        out += differences(after.get(top), actual.get(top), top, type_name=t.type)
    return out

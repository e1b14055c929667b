"""The effectful half of drift: read every managed object, plan with what was read, look around.

``drift_report(session)`` refreshes each object in state on its own (a failed read is a
``ReadFailure``, not the end of the run), plans with the refreshed values (objects that
could not be read fall back to what state recorded), hands both to ``detect`` and asks
each provider that can (``list_unmanaged``) for objects in the same resource groups and
key vaults that no state entry tracks.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from providers.base import ProviderError, ReadRequest
from reconciler import session as steps
from reconciler.drift.detect import Tracked, detect, inline_policy_ids
from reconciler.drift.health import health_records
from reconciler.drift.model import DriftReport, ReadFailure, UnmanagedObject
from reconciler.plan.walk import PlanOptions


def tracked_objects(session) -> list[Tracked]:
    out: list[Tracked] = []
    for iaddr, rstate, istate in session.state.instances():
        if rstate.mode.value != "managed" or not istate.attributes:
            continue
        out.append(
            Tracked(
                str(iaddr),
                rstate.type,
                dict(istate.attributes),
                tuple(tuple(p) for p in istate.sensitive_paths),
            )
        )
    return out


def _provider_name(session, address: str) -> str:
    for iaddr, rstate, _ in session.state.instances():
        if str(iaddr) == address:
            return rstate.provider.split(".")[0]
    return ""


def refresh_each(
    session, tracked: list[Tracked], parallelism: int = 10
) -> tuple[dict[str, dict | None], list[ReadFailure]]:
    """Read every tracked object; a failure is recorded and the others go on."""

    def read(t: Tracked):
        provider = session.providers.get(_provider_name(session, t.address))
        if provider is None:
            return t.address, None, None, True
        try:
            return t.address, provider.read(ReadRequest(t.type, dict(t.attributes))).state, None, False
        except ProviderError as exc:
            return t.address, None, ReadFailure(t.address, exc.code or "read_failed", exc.message), False

    refreshed: dict[str, dict | None] = {}
    failures: list[ReadFailure] = []
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        for address, state, failure, skipped in pool.map(read, tracked):
            if skipped:
                continue
            if failure is not None:
                failures.append(failure)
            else:
                refreshed[address] = state
    return refreshed, sorted(failures, key=lambda f: f.address)


def _scope(tracked: list[Tracked], refreshed: dict[str, dict | None]) -> tuple[list[str], list[str]]:
    groups: set[str] = set()
    key_vaults: set[str] = set()
    for t in tracked:
        attrs = refreshed.get(t.address) or t.attributes
        if t.type == "azurerm_resource_group" and attrs.get("name"):
            groups.add(str(attrs["name"]))
        elif attrs.get("resource_group_name"):
            groups.add(str(attrs["resource_group_name"]))
        if t.type == "azurerm_key_vault" and attrs.get("id") and refreshed.get(t.address) is not None:
            key_vaults.add(str(attrs["id"]))
    return sorted(groups, key=str.lower), sorted(key_vaults, key=str.lower)


def _own(t: Tracked, plan) -> dict:
    """A tracked object's attributes, a key vault's access policies limited to those set inline."""
    if t.type != "azurerm_key_vault":
        return t.attributes
    change = plan.change(t.address) if plan is not None else None
    only = inline_policy_ids(change.config if change is not None else None)
    if only is None:
        return t.attributes
    return {
        **t.attributes,
        "access_policy": [
            p
            for p in t.attributes.get("access_policy") or []
            if str(p.get("object_id") or "").lower() in only
        ],
    }


def unmanaged_objects(
    session, tracked: list[Tracked], refreshed: dict[str, dict | None], problems: list[ReadFailure], plan=None
) -> list[UnmanagedObject]:
    """Objects in the resource groups and key vaults state touches that no state entry records;
    what could not be listed is added to ``problems``."""
    groups, key_vaults = _scope(tracked, refreshed)
    if not groups and not key_vaults:
        return []
    known = [(t.type, _own(t, plan)) for t in tracked]
    out: list[UnmanagedObject] = []
    for provider in session.providers.values():
        lister = getattr(provider, "list_unmanaged", None)
        if lister is None:
            continue
        for item in lister(groups, key_vaults, known):
            if "problem" in item:
                problems.append(
                    ReadFailure(f"(objects in {item.get('scope', 'scope')})", "list_failed", item["problem"])
                )
                continue
            out.append(
                UnmanagedObject(
                    item["type"],
                    item["id"],
                    item.get("name", ""),
                    item.get("scope", ""),
                    item.get("detail", ""),
                )
            )
    return sorted(out, key=lambda u: (u.scope.lower(), u.type, u.id.lower()))


def _key_health(
    session, tracked: list[Tracked], refreshed: dict[str, dict | None], records, failures, local: bool
) -> list:
    """Key versions managed vaults use, as the provider's CMK audit reads them (``reconciler.drift.health``)."""
    if not any(t.type == "azurerm_recovery_services_vault" for t in tracked):
        return []
    out = []
    for provider in session.providers.values():
        audit = getattr(provider, "audit", None)
        if audit is None:
            continue
        try:
            out += health_records(audit(), tracked, refreshed, records, local=local)
        except ProviderError as exc:
            failures.append(ReadFailure("(key versions in use)", exc.code or "audit_failed", exc.message))
    return out


def drift_report(session, parallelism: int = 10) -> DriftReport:
    tracked = tracked_objects(session)
    refreshed, failures = refresh_each(session, tracked, parallelism)
    plan = steps.plan(session, PlanOptions(), refreshed)
    local = session.cloud.startswith("local")
    records = detect(tracked, refreshed, plan, failures, local=local)
    records += _key_health(session, tracked, refreshed, records, failures, local)
    try:
        unmanaged = unmanaged_objects(session, tracked, refreshed, failures, plan)
    except ProviderError as exc:
        unmanaged = []
        failures.append(ReadFailure("(objects in scope)", exc.code or "list_failed", exc.message))
    return DriftReport(
        records=records,
        unmanaged=unmanaged,
        failures=failures,
        cloud=session.cloud,
        checked=len(tracked),
        generated_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )

"""The effectful half of drift: read every managed object, plan with what was read, look around.

``drift_report(session)`` refreshes each object in state on its own (a failed read is a
``ReadFailure``, not the end of the run), plans with the refreshed values (objects that
could not be read fall back to what state recorded), asks each provider that has drift
rules (``SupportsDriftRules``) what its changes mean, hands everything to ``detect``, and
asks each provider that can list them (``SupportsUnmanagedListing``) for objects in its
objects' scope that no state entry tracks.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial

from providers.base import ProviderError, ReadRequest, SupportsDriftRules, SupportsUnmanagedListing
from providers.drift_protocol import DriftRules, Problem, Severity
from reconciler import session as steps
from reconciler.drift.detect import Tracked, detect, estate_of, finding_records
from reconciler.drift.model import DriftRecord, DriftReport, ReadFailure, UnmanagedObject
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
                rstate.provider.split(".")[0],
            )
        )
    return out


def refresh_each(
    session, tracked: list[Tracked], parallelism: int = 10
) -> tuple[dict[str, dict | None], list[ReadFailure]]:
    """Read every tracked object; a failure is recorded and the others go on."""

    def read(t: Tracked):
        provider = session.providers.get(t.provider)
        if provider is None:
            return t.address, None, None, True
        try:
            found = steps.patiently(
                session, t.address, partial(provider.read, ReadRequest(t.type, dict(t.attributes)))
            )
            return t.address, found.state, None, False
        except ProviderError as exc:
            return t.address, None, ReadFailure(t.address, exc.code or "read_failed", exc.message), False

    steps.prefetch(
        (session.providers.get(t.provider), t.type, dict(t.attributes))
        for t in tracked
        if session.providers.get(t.provider) is not None
    )
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


def _by_provider(tracked: list[Tracked]) -> dict[str, list[Tracked]]:
    out: dict[str, list[Tracked]] = {}
    for t in tracked:
        out.setdefault(t.provider, []).append(t)
    return out


def _failure(p: Problem) -> ReadFailure:
    return ReadFailure(p.where, p.code, p.message)


def provider_rules(session, tracked, refreshed, plan) -> dict[str, DriftRules]:
    """provider name -> its drift rules for its own objects; providers without rules are left out."""
    out: dict[str, DriftRules] = {}
    for name, own in _by_provider(tracked).items():
        provider = session.providers.get(name)
        if isinstance(provider, SupportsDriftRules):
            out[name] = provider.drift_rules(estate_of(own, refreshed, plan))
    return out


def provider_findings(
    session, rules: dict[str, DriftRules], records: list[DriftRecord], failures: list[ReadFailure]
):
    """Drift the providers find beyond the attributes (e.g. key versions the vaults use); a read
    Azure refuses for now is waited out."""
    worst: dict[str, Severity] = {}
    for r in records:
        if r.address not in worst or r.severity.rank < worst[r.address].rank:
            worst[r.address] = r.severity
    out: list[DriftRecord] = []
    for name in sorted(rules):
        try:
            found = steps.patiently(
                session, f"(key versions in use, {name})", partial(rules[name].findings, worst)
            )
        except ProviderError as exc:  # still refused once the wait's budget ran out
            failures.append(ReadFailure("(key versions in use)", exc.code or "audit_failed", exc.message))
            continue
        out += finding_records(list(found.findings))
        failures += [_failure(p) for p in found.problems]
    return out


def unmanaged_objects(
    session, tracked, refreshed, problems: list[ReadFailure], plan=None, progress=None
) -> list[UnmanagedObject]:
    """Objects in the scope of each provider's objects that no state entry records; what could
    not be listed is added to ``problems``; ``progress`` hears of the waits listing makes."""
    out: list[UnmanagedObject] = []
    for name, own in sorted(_by_provider(tracked).items()):
        provider = session.providers.get(name)
        if not isinstance(provider, SupportsUnmanagedListing):
            continue
        try:
            estate = estate_of(own, refreshed, plan)
            listing = steps.patiently(
                session, f"(objects in scope of {name})", partial(provider.list_unmanaged, estate, progress)
            )
        except ProviderError as exc:
            problems.append(ReadFailure("(objects in scope)", exc.code or "list_failed", exc.message))
            continue
        out += listing.objects
        problems += [_failure(p) for p in listing.problems]
    return sorted(out, key=lambda u: (u.scope.lower(), u.type, u.id.lower()))


def drift_report(session, parallelism: int = 10, progress=None) -> DriftReport:
    """``progress(line)``: told of each wait (a grant on its way to Key Vault's data plane) and of
    each operation a stopped run left, resolved for this report only (drift writes no state): an
    object such a run made is its own, not an unmanaged one."""
    for resolved in steps.recover_pending(session, persist=False):
        if progress is not None:
            progress(f"{resolved.describe()}; a stopped run left it, the next apply records it")
    tracked = tracked_objects(session)
    refreshed, failures = refresh_each(session, tracked, parallelism)
    plan = steps.plan(session, PlanOptions(), refreshed)
    rules = provider_rules(session, tracked, refreshed, plan)
    records = detect(tracked, refreshed, plan, failures, rules=rules)
    records += provider_findings(session, rules, records, failures)
    unmanaged = unmanaged_objects(session, tracked, refreshed, failures, plan, progress)
    return DriftReport(
        records=records,
        unmanaged=unmanaged,
        failures=failures,
        cloud=session.cloud,
        checked=len(tracked),
        generated_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )

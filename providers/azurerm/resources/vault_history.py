"""What the cloud remembers about a Recovery Services vault's items (for rule R3).

Azure refuses a customer-managed key on a vault that has, or ever had, protected or
registered items, failed attempts included. No single API says so; the provider
gathers it at refresh and hands it to the domain rules as the private fact
``_history = {had_items, registration_attempts, protected_items, recovery_points,
oldest_recovery_point, soft_deleted_items, active_items}``
(``recovery_points``: how many recovery points the vault's items hold now; they stay
wrapped with the key version that was in use when each was taken, so rule R11 keeps
that key from being destroyed or disabled even after the vault moves to another key -
in the same plan, or later through the ``_previous_keys`` the vault keeps in state
(``previous_keys``), while the ``oldest_recovery_point`` is no newer than their points;
``soft_deleted_items``: ``[{"name", "until"}]`` for items deleted while the vault's soft
delete was on - Azure keeps them, isScheduledForDeferredDelete, until ``until``
(deferredDeleteTimeInUTC), and refuses to delete the vault meanwhile, which the
plan says before it tries; ``active_items``: ``[{"name", "source"}]`` for the items protected now,
whether this configuration manages them or not - Azure refuses to delete a vault that holds any):

* through the SDK, on both clouds: items protected now, containers registered now,
  and the vault's ConfigureBackup/Register jobs (which outlive the items);
* only what a rule can still use: ``had_items`` and ``registration_attempts`` decide rule R3 alone
  (refusing a key on a vault without one: ``VaultCase.newly_encrypted``, whose "before" is the
  refreshed vault), so a vault that already encrypts with a customer-managed key lists neither its
  jobs nor its containers - ``registration_attempts`` is then None (not read) and ``had_items``
  counts what its items list shows. Azure keeps a vault's CMK once set (rule R1, DOMAIN.md: CMK
  can't go back to platform keys), so R3 can't apply to it again;
* on the local Azure, also the history the emulator keeps in the vault document
  (``_emulator.ever_had_items`` / ``registration_attempts``, documented in the
  emulator contract), which also counts attempts that failed before any job.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from providers.azurerm.clients import local_azure_unavailable
from providers.azurerm.ids import InvalidIdError, ResourceId, parse_resource_id, same_key
from providers.azurerm.listing import listed_bodies, protected_items_of
from providers.azurerm.resources.base import Context, dig, not_found_is_none, wire

IAAS_FILTER = "backupManagementType eq 'AzureIaasVM'"
ATTEMPT_OPERATIONS = frozenset({"configurebackup", "register"})


def _count(fetch) -> list[dict[str, Any]]:
    got = not_found_is_none(lambda: [wire(x) for x in fetch()])
    return got or []


def vault_history(ctx: Context, rid: ResourceId, *, encrypted: bool = False) -> dict[str, Any]:
    """``encrypted``: the vault's body (just read) names a customer-managed key: its jobs and
    containers, which only rule R3 uses, are not listed."""
    backup = ctx.clients.backup()
    vault, rg = rid.name, rid.resource_group
    listed = listed_bodies(ctx, protected_items_of(str(rid)))
    items = (
        listed
        if listed is not None
        else _count(lambda: backup.backup_protected_items.list(vault, rg, filter=IAAS_FILTER))
    )
    # the registered containers only count towards ``had_items``, which any item (protected now or
    # soft-deleted) already makes true: they are listed only for a vault that lists no item
    containers = (
        []
        if items or encrypted
        else _count(lambda: backup.backup_protection_containers.list(vault, rg, filter=IAAS_FILTER))
    )
    attempts: int | None = None
    if not encrypted:
        jobs = _count(lambda: backup.backup_jobs.list(vault, rg))
        attempts = sum(
            1 for j in jobs if str(dig(j, "properties.operation") or "").lower() in ATTEMPT_OPERATIONS
        )
    times = [t for item in items for t in _recovery_point_times(backup, vault, rg, item)]
    history = {
        "had_items": bool(items or containers or attempts),
        "registration_attempts": attempts,
        "protected_items": sum(
            1 for i in items if dig(i, "properties.isScheduledForDeferredDelete") is not True
        ),
        "recovery_points": len(times),
        "oldest_recovery_point": min(times) if times else None,
        "soft_deleted_items": soft_deleted_items(items),
        "active_items": active_items(items),
    }
    if ctx.clients.is_local:
        recorded = _emulator_history(ctx, str(rid))
        history["had_items"] = history["had_items"] or bool(recorded.get("ever_had_items"))
        history["registration_attempts"] = max(attempts or 0, int(recorded.get("registration_attempts") or 0))
    return history


def soft_deleted_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items Azure keeps soft-deleted: name and the time they go for good."""
    out = []
    for item in items:
        if dig(item, "properties.isScheduledForDeferredDelete") is True:
            name = dig(item, "properties.friendlyName") or item.get("name")
            out.append({"name": str(name), "until": dig(item, "properties.deferredDeleteTimeInUTC")})
    return sorted(out, key=lambda i: i["name"])


def active_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items the vault protects now (any configuration's, or none's): name and source VM id."""
    out = []
    for item in items:
        if dig(item, "properties.isScheduledForDeferredDelete") is not True:
            name = dig(item, "properties.friendlyName") or item.get("name")
            out.append({"name": str(name), "source": str(dig(item, "properties.sourceResourceId") or "")})
    return sorted(out, key=lambda i: i["name"])


def _recovery_point_times(backup, vault: str, rg: str, item: dict[str, Any]) -> list[str]:
    """When each recovery point of one protected item was taken (``recoveryPointTime``, ISO 8601 UTC;
    its id names fabric, container and item). An item with no ``lastRecoveryPoint`` ("timestamp when
    the last (latest) backup copy was created for this backup item": AzureIaaSVMProtectedItem in the
    recoveryservicesbackup spec, bms.json) never had a backup copy, so it holds none and is not
    asked. A point without a time counts as taken at the start of time (the oldest)."""
    if not dig(item, "properties.lastRecoveryPoint"):
        return []
    try:
        rid = parse_resource_id(str(item.get("id") or ""))
    except InvalidIdError:
        return []
    names = rid.names
    if len(names) < 4:
        return []
    fabric, container, name = names[1], names[2], names[3]
    points = _count(lambda: backup.recovery_points.list(vault, rg, fabric, container, name))
    return [_utc(dig(p, "properties.recoveryPointTime")) for p in points]


def _utc(moment: Any) -> str:
    """A recovery point's time as comparable text: ISO 8601 in UTC to the second."""
    try:
        parsed = datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
    except ValueError:
        return "0001-01-01T00:00:00Z"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def previous_keys(ctx: Context, rid: ResourceId, prior: dict[str, Any], new_key: str) -> list[dict[str, Any]]:
    """The keys the vault's recovery points may still need once it encrypts with ``new_key``, kept
    in state (``_previous_keys``): each as ``{"key_id", "points_until"}``, the time of the newest
    recovery point taken while the vault used it. Azure keeps no record of a vault's earlier keys,
    and a recovery point stays wrapped with the key in use when it was taken (rule R11): the key is
    needed while a point taken up to ``points_until`` remains. A key the vault moves back to, and
    a key no recovery point was taken with, are not listed."""
    kept = [
        e
        for e in prior.get("_previous_keys") or []
        if isinstance(e, dict) and not same_key(e.get("key_id"), new_key)
    ]
    enc = (prior.get("encryption") or [None])[0] if isinstance(prior.get("encryption"), list) else None
    old_key = enc.get("key_id") if isinstance(enc, dict) else None
    if not old_key or same_key(old_key, new_key):
        return kept
    backup = ctx.clients.backup()
    items = _count(
        lambda: backup.backup_protected_items.list(rid.name, rid.resource_group, filter=IAAS_FILTER)
    )
    times = [t for item in items for t in _recovery_point_times(backup, rid.name, rid.resource_group, item)]
    if times:
        kept = [e for e in kept if not same_key(e.get("key_id"), old_key)]
        kept.append({"key_id": str(old_key), "points_until": max(times)})
    return kept


def _emulator_history(ctx: Context, vault_id: str) -> dict[str, Any]:
    from providers.azurelocal.seam import LocalAzureUnavailable, emulator_facts  # lazy: start-up

    try:
        return emulator_facts(ctx.clients.emulator, "rsvault", vault_id)
    except LocalAzureUnavailable as exc:
        raise local_azure_unavailable(None, exc.reason) from exc

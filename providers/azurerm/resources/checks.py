"""Provider checks beyond the generic schema checker: cross-field rules local to one
resource, as azurerm validates them before calling Azure. The CMK domain rules
(R1..R18, across resources) are the engine's and are not repeated here.

``CHECKS`` maps a type name to check functions; each takes the evaluated
configuration (values may be UNKNOWN: a check skips what it can't know yet) and
returns Diagnostics saying how to fix the configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from providers.azurerm.resources.base import block, known
from reconciler.diagnostics import Diagnostic, error
from reconciler.values import UNKNOWN

Check = Callable[[dict[str, Any]], list[Diagnostic]]

RSA_TYPES = ("RSA", "RSA-HSM")
EC_TYPES = ("EC", "EC-HSM")
RSA_SIZES = (2048, 3072, 4096)


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def key_size_for_type(config: dict[str, Any]) -> list[Diagnostic]:
    kty = (_str(config.get("key_type")) or "").upper()
    size, curve = config.get("key_size"), config.get("curve")
    if kty in RSA_TYPES and size is None:
        return [
            error(
                "key-size-required",
                "key_size is required for RSA keys",
                f"Add key_size = 2048 (or {', '.join(map(str, RSA_SIZES[1:]))}) to this "
                f"{kty} key; Azure Backup CMK accepts these sizes.",
            )
        ]
    if kty in RSA_TYPES and known(curve):
        return [
            error(
                "key-curve-rsa",
                "curve applies only to EC keys",
                'Remove curve from this RSA key, or set key_type to "EC" or "EC-HSM".',
            )
        ]
    if kty in EC_TYPES and known(size):
        return [
            error(
                "key-size-ec",
                "key_size applies only to RSA keys",
                "Remove key_size and set curve (P-256, P-256K, P-384 or P-521) for an EC key.",
            )
        ]
    return []


def cross_region_restore_needs_geo(config: dict[str, Any]) -> list[Diagnostic]:
    crr, mode = config.get("cross_region_restore_enabled"), config.get("storage_mode_type")
    if crr is True and known(mode) and mode != "GeoRedundant":
        return [
            error(
                "cross-region-restore-storage",
                "cross_region_restore_enabled needs GeoRedundant storage",
                f'storage_mode_type is {mode!r}: set it to "GeoRedundant", or set '
                f"cross_region_restore_enabled = false.",
            )
        ]
    return []


def identity_ids_for_type(config: dict[str, Any]) -> list[Diagnostic]:
    """``identity_ids`` goes with a type that includes UserAssigned, and only with one: azurerm's
    identity expanders refuse ids for another type ("`identity_ids` can only be specified when
    `type` includes `UserAssigned`", go-azure-helpers' identity package), and Azure refuses a
    UserAssigned type with no identity (azurerm's storage account checks it before the call: "must
    have at least 1 element when `type` includes `UserAssigned`")."""
    identity = block(config, "identity")
    if not identity:
        return []
    kind, ids = identity.get("type"), identity.get("identity_ids")
    if not known(kind) or ids is UNKNOWN:
        return []
    has_ids = bool(ids)  # a list whose elements are unknown still names identities
    if "UserAssigned" in str(kind) and not has_ids:
        return [
            error(
                "identity-ids-required",
                "identity_ids is required when identity.type includes UserAssigned",
                f"identity.type is {kind!r} but identity_ids is empty: list the user-assigned identities "
                f"(identity_ids = [azurerm_user_assigned_identity.NAME.id]), or set type = "
                f'"SystemAssigned".',
            )
        ]
    if "UserAssigned" not in str(kind) and has_ids:
        return [
            error(
                "identity-ids-unexpected",
                "identity_ids can only be set when identity.type includes UserAssigned",
                f'identity.type is {kind!r}: set type = "SystemAssigned, UserAssigned" (or "UserAssigned") '
                f"to attach these identities, or remove identity_ids.",
            )
        ]
    return []


def backup_schedule(config: dict[str, Any]) -> list[Diagnostic]:
    sched = block(config, "backup")
    if not sched:
        return []
    freq, ptype = _str(sched.get("frequency")), config.get("policy_type")
    ptype = ptype if known(ptype) else "V1"
    out: list[Diagnostic] = []
    weekdays = sched.get("weekdays")
    if freq == "Weekly" and weekdays is not UNKNOWN and not weekdays:
        out.append(
            error(
                "backup-weekdays-required",
                "A weekly backup needs weekdays",
                'Add weekdays = ["Sunday"] (the days backups run) to the backup block.',
            )
        )
    if freq == "Hourly":
        if ptype != "V2":
            out.append(
                error(
                    "backup-hourly-needs-v2",
                    "Hourly backups need an Enhanced (V2) policy",
                    'Set policy_type = "V2", or use frequency "Daily" or "Weekly".',
                )
            )
        interval, duration = sched.get("hour_interval"), sched.get("hour_duration")
        if interval is None or duration is None:
            out.append(
                error(
                    "backup-hourly-window",
                    "An hourly backup needs hour_interval and hour_duration",
                    "Set hour_interval (4, 6, 8 or 12) and hour_duration (4 to 24, a multiple "
                    "of hour_interval) in the backup block.",
                )
            )
        elif known(interval) and known(duration) and interval and duration % interval:
            out.append(
                error(
                    "backup-hourly-window",
                    "hour_duration must be a multiple of hour_interval",
                    f"hour_duration {duration} is not a multiple of hour_interval {interval}.",
                )
            )
    if (
        freq in ("Daily", "Hourly")
        and known(config.get("retention_daily"))
        and not block(config, "retention_daily")
    ):
        out.append(
            error(
                "backup-retention-daily",
                f"A {freq.lower()} backup needs retention_daily",
                "Add retention_daily { count = 7 } (7 or more daily recovery points).",
            )
        )
    days = config.get("instant_restore_retention_days")
    if ptype == "V1" and known(days) and isinstance(days, (int, float)) and days > 5:
        out.append(
            error(
                "backup-instant-restore-v1",
                "V1 policies keep instant restore snapshots 1 to 5 days",
                f"Lower instant_restore_retention_days from {days} to 5 or less, or set "
                f'policy_type = "V2" (up to 30 days).',
            )
        )
    return out


def weekly_retention_days(config: dict[str, Any]) -> list[Diagnostic]:
    sched, weekly = block(config, "backup"), block(config, "retention_weekly")
    if not sched or not weekly or sched.get("frequency") != "Weekly":
        return []
    run, keep = sched.get("weekdays"), weekly.get("weekdays")
    if not (known(run) and known(keep)) or not isinstance(run, list) or not isinstance(keep, list):
        return []
    extra = sorted({d.lower() for d in keep} - {d.lower() for d in run})
    if extra:
        return [
            error(
                "backup-retention-weekdays",
                "retention_weekly keeps days backups don't run on",
                f"{', '.join(extra)} isn't in backup.weekdays; keep only days the schedule runs.",
            )
        ]
    return []


CHECKS: dict[str, tuple[Check, ...]] = {
    "azurerm_key_vault_key": (key_size_for_type,),
    "azurerm_recovery_services_vault": (cross_region_restore_needs_geo, identity_ids_for_type),
    "azurerm_disk_encryption_set": (identity_ids_for_type,),
    "azurerm_backup_policy_vm": (backup_schedule, weekly_retention_days),
}

"""azurerm_backup_policy_vm <-> ``.../vaults/{v}/backupPolicies/{name}`` (AzureIaasVM policies).

V1 policies use ``SimpleSchedulePolicy``; V2 (Enhanced) ``SimpleSchedulePolicyV2`` with
hourly, daily or weekly schedules. Retention is a ``LongTermRetentionPolicy``. Times
of day travel as full timestamps whose date Azure ignores.
"""

from __future__ import annotations

from typing import Any

from providers.azurerm.consistency import Backoff
from providers.azurerm.errors import retry_after_seconds
from providers.azurerm.ids import ResourceId, parse_resource_id
from providers.azurerm.resources.base import (
    Context,
    Handler,
    block,
    call,
    dig,
    not_found_is_none,
    value,
    wait_lro,
    wire,
)
from providers.base import PermanentError

TYPE = "Microsoft.RecoveryServices/vaults/backupPolicies"
ANCHOR_DATE = "2018-07-30"


def _stamp(hhmm: str) -> str:
    return f"{ANCHOR_DATE}T{hhmm}:00Z"


def _hhmm(stamp: str | None) -> str | None:
    if not stamp:
        return None
    t = stamp.split("T", 1)[-1]
    return t[:5]


def _days(b: dict[str, Any], key: str = "weekdays") -> list[str]:
    return list(value(b, key, []) or [])


def schedule_to_wire(sched: dict[str, Any], policy_type: str) -> dict[str, Any]:
    freq = sched["frequency"]
    times = [_stamp(sched["time"])]
    if policy_type == "V1":
        out: dict[str, Any] = {
            "schedulePolicyType": "SimpleSchedulePolicy",
            "scheduleRunFrequency": freq,
            "scheduleRunTimes": times,
        }
        if freq == "Weekly":
            out["scheduleRunDays"] = _days(sched)
        return out
    out = {"schedulePolicyType": "SimpleSchedulePolicyV2", "scheduleRunFrequency": freq}
    if freq == "Hourly":
        out["hourlySchedule"] = {
            "interval": value(sched, "hour_interval"),
            "scheduleWindowStartTime": times[0],
            "scheduleWindowDuration": value(sched, "hour_duration"),
        }
    elif freq == "Daily":
        out["dailySchedule"] = {"scheduleRunTimes": times}
    else:
        out["weeklySchedule"] = {"scheduleRunDays": _days(sched), "scheduleRunTimes": times}
    return out


def schedule_from_wire(body: dict[str, Any]) -> dict[str, Any]:
    freq = body.get("scheduleRunFrequency")
    out: dict[str, Any] = {
        "frequency": freq,
        "time": None,
        "weekdays": None,
        "hour_interval": None,
        "hour_duration": None,
    }
    if body.get("schedulePolicyType") == "SimpleSchedulePolicyV2":
        if freq == "Hourly":
            out["time"] = _hhmm(dig(body, "hourlySchedule.scheduleWindowStartTime"))
            out["hour_interval"] = dig(body, "hourlySchedule.interval")
            out["hour_duration"] = dig(body, "hourlySchedule.scheduleWindowDuration")
        elif freq == "Daily":
            out["time"] = _hhmm((dig(body, "dailySchedule.scheduleRunTimes") or [None])[0])
        else:
            out["time"] = _hhmm((dig(body, "weeklySchedule.scheduleRunTimes") or [None])[0])
            out["weekdays"] = dig(body, "weeklySchedule.scheduleRunDays")
    else:
        out["time"] = _hhmm((body.get("scheduleRunTimes") or [None])[0])
        if freq == "Weekly":
            out["weekdays"] = body.get("scheduleRunDays")
    return out


def _calendar(b: dict[str, Any]) -> dict[str, Any]:
    """The monthly/yearly 'which day' part: by weekday+week, or by day of month."""
    days = value(b, "days", []) or []
    if days or value(b, "include_last_days", False):
        points = [{"date": int(d), "isLast": False} for d in days]
        if value(b, "include_last_days", False):
            points.append({"date": 0, "isLast": True})
        return {"retentionScheduleFormatType": "Daily", "retentionScheduleDaily": {"daysOfTheMonth": points}}
    return {
        "retentionScheduleFormatType": "Weekly",
        "retentionScheduleWeekly": {"daysOfTheWeek": _days(b), "weeksOfTheMonth": _days(b, "weeks")},
    }


def _calendar_from(body: dict[str, Any]) -> dict[str, Any]:
    if str(body.get("retentionScheduleFormatType")).lower() == "daily":
        points = dig(body, "retentionScheduleDaily.daysOfTheMonth") or []
        return {
            "days": [p.get("date") for p in points if not p.get("isLast")],
            "include_last_days": any(p.get("isLast") for p in points),
            "weekdays": None,
            "weeks": None,
        }
    return {
        "weekdays": dig(body, "retentionScheduleWeekly.daysOfTheWeek"),
        "weeks": dig(body, "retentionScheduleWeekly.weeksOfTheMonth"),
        "days": None,
        "include_last_days": False,
    }


def retention_to_wire(planned: dict[str, Any], time: str) -> dict[str, Any]:
    times = [_stamp(time)]
    out: dict[str, Any] = {"retentionPolicyType": "LongTermRetentionPolicy"}
    daily = block(planned, "retention_daily")
    if daily:
        out["dailySchedule"] = {
            "retentionTimes": times,
            "retentionDuration": {"count": daily["count"], "durationType": "Days"},
        }
    weekly = block(planned, "retention_weekly")
    if weekly:
        out["weeklySchedule"] = {
            "daysOfTheWeek": _days(weekly),
            "retentionTimes": times,
            "retentionDuration": {"count": weekly["count"], "durationType": "Weeks"},
        }
    monthly = block(planned, "retention_monthly")
    if monthly:
        out["monthlySchedule"] = {
            **_calendar(monthly),
            "retentionTimes": times,
            "retentionDuration": {"count": monthly["count"], "durationType": "Months"},
        }
    yearly = block(planned, "retention_yearly")
    if yearly:
        out["yearlySchedule"] = {
            **_calendar(yearly),
            "monthsOfYear": list(yearly.get("months") or []),
            "retentionTimes": times,
            "retentionDuration": {"count": yearly["count"], "durationType": "Years"},
        }
    return out


def retention_from_wire(body: dict[str, Any]) -> dict[str, list]:
    def count(part: dict[str, Any]) -> Any:
        return dig(part, "retentionDuration.count")

    out: dict[str, list] = {
        "retention_daily": [],
        "retention_weekly": [],
        "retention_monthly": [],
        "retention_yearly": [],
    }
    if body.get("dailySchedule"):
        out["retention_daily"] = [{"count": count(body["dailySchedule"])}]
    if body.get("weeklySchedule"):
        w = body["weeklySchedule"]
        out["retention_weekly"] = [{"count": count(w), "weekdays": w.get("daysOfTheWeek")}]
    if body.get("monthlySchedule"):
        m = body["monthlySchedule"]
        out["retention_monthly"] = [{"count": count(m), **_calendar_from(m)}]
    if body.get("yearlySchedule"):
        y = body["yearlySchedule"]
        out["retention_yearly"] = [{"count": count(y), "months": y.get("monthsOfYear"), **_calendar_from(y)}]
    return out


def policy_body(planned: dict[str, Any]) -> dict[str, Any]:
    policy_type = value(planned, "policy_type", "V1")
    sched = block(planned, "backup") or {}
    props: dict[str, Any] = {
        "backupManagementType": "AzureIaasVM",
        "policyType": policy_type,
        "timeZone": value(planned, "timezone", "UTC"),
        "schedulePolicy": schedule_to_wire(sched, policy_type),
        "retentionPolicy": retention_to_wire(planned, sched.get("time") or "23:00"),
    }
    if value(planned, "instant_restore_retention_days") is not None:
        props["instantRpRetentionRangeInDays"] = planned["instant_restore_retention_days"]
    props["tieringPolicy"] = tiering_to_wire(block(planned, "tiering_policy"))
    if value(planned, "consistency_type"):
        props["snapshotConsistencyType"] = planned["consistency_type"]
    rg = block(planned, "instant_restore_resource_group")
    if rg:
        props["instantRPDetails"] = {
            "azureBackupRGNamePrefix": rg.get("prefix"),
            "azureBackupRGNameSuffix": value(rg, "suffix"),
        }
    return {"properties": props}


# No tiering is sent as azurerm sends it (expandBackupProtectionPolicyVMTieringPolicy): ArchivedRP
# DoNotTier / Invalid / 0, which reads back as "no tiering_policy block".
NO_TIERING = {"tieringMode": "DoNotTier", "durationType": "Invalid", "duration": 0}


def tiering_to_wire(tiering: dict[str, Any] | None) -> dict[str, Any]:
    archived = block(tiering or {}, "archived_restore_point")
    if not archived:
        return {"ArchivedRP": dict(NO_TIERING)}
    out: dict[str, Any] = {"tieringMode": archived.get("mode")}
    if value(archived, "duration_type"):
        out["durationType"] = archived["duration_type"]
    if value(archived, "duration"):
        out["duration"] = int(archived["duration"])
    return {"ArchivedRP": out}


def tiering_from_wire(body: dict[str, Any] | None, ref: Any) -> Any:
    archived = dig(body or {}, "ArchivedRP") or {}
    mode = archived.get("tieringMode")
    if not mode or (
        mode == "DoNotTier"
        and archived.get("durationType") in (None, "Invalid")
        and not archived.get("duration")
    ):
        return ref if not ref else []
    duration_type = archived.get("durationType")
    return [
        {
            "archived_restore_point": [
                {
                    "mode": mode,
                    "duration": archived.get("duration") or None,
                    "duration_type": None if duration_type in (None, "Invalid") else duration_type,
                }
            ]
        }
    ]


def instant_rg_from_wire(body: dict[str, Any] | None, ref: Any) -> Any:
    prefix = dig(body or {}, "azureBackupRGNamePrefix")
    if not prefix:
        return ref if not ref else []
    return [{"prefix": prefix, "suffix": dig(body, "azureBackupRGNameSuffix")}]


def to_state(body: dict[str, Any], ref: dict[str, Any] | None = None) -> dict[str, Any]:
    ref = ref or {}
    rid = parse_resource_id(body["id"], expect=TYPE)
    props = body.get("properties") or {}
    state = {
        "id": str(rid),
        "name": rid.name,
        "resource_group_name": rid.resource_group,
        "recovery_vault_name": rid.names[0],
        "policy_type": props.get("policyType") or "V1",
        "timezone": props.get("timeZone") or "UTC",
        "instant_restore_retention_days": props.get("instantRpRetentionRangeInDays"),
        "backup": [schedule_from_wire(props.get("schedulePolicy") or {})],
        "instant_restore_resource_group": instant_rg_from_wire(
            props.get("instantRPDetails"), ref.get("instant_restore_resource_group")
        ),
        "tiering_policy": tiering_from_wire(props.get("tieringPolicy"), ref.get("tiering_policy")),
        "consistency_type": props.get("snapshotConsistencyType") or None,
    }
    state.update(retention_from_wire(props.get("retentionPolicy") or {}))
    return state


def policy_id(ctx: Context, rg: str, vault: str, name: str) -> ResourceId:
    return ResourceId(
        ctx.subscription_id, rg, "Microsoft.RecoveryServices", ("vaults", "backupPolicies"), (vault, name)
    )


# A policy write answers 202 and the policy shows later (azurerm polls GET until found:
# backup_policy_vm_resource.go, resourceBackupProtectionPolicyVMWaitForUpdate, 30 s apart within the
# create timeout). The operation's status says when the write is done; the GET confirms it.
POLICY_OPERATION = Backoff(first=2.0, factor=2.0, cap=30.0, budget=600.0)
POLICY_OPERATION_LOCAL = Backoff(first=0.25, factor=2.0, cap=1.0, budget=30.0)


def operation_id(location: str | None) -> str | None:
    """The operation id at the end of a ``.../operationResults/{id}?api-version=...`` URL."""
    if not location or "/operationResults/" not in location:
        return None
    return location.split("/operationResults/", 1)[1].split("?", 1)[0].strip("/") or None


class BackupPolicyVM(Handler):
    type_name = "azurerm_backup_policy_vm"
    refreshed = (
        "backup",
        "retention_daily",
        "retention_weekly",
        "retention_monthly",
        "retention_yearly",
        "timezone",
        "instant_restore_retention_days",
        "instant_restore_resource_group",
        "tiering_policy",
        "consistency_type",
    )
    updatable = refreshed

    def _put(self, ctx: Context, rg: str, vault: str, name: str, planned: dict[str, Any]) -> dict[str, Any]:
        backup = ctx.clients.backup()
        ops = backup.protection_policies
        status, headers, got = call(
            lambda: ops.create_or_update(
                vault,
                rg,
                name,
                policy_body(planned),
                cls=lambda resp, body, _h: (resp.http_response.status_code, resp.http_response.headers, body),
            )
        )
        if status == 202:
            self._follow(ctx, rg, vault, name, headers)
            got = None
        budget = POLICY_OPERATION_LOCAL if ctx.clients.is_local else POLICY_OPERATION
        if got is None:
            got = ctx.waiter.until(
                f"the backup policy {name} shows in {vault}",
                lambda: not_found_is_none(lambda: ops.get(vault, rg, name)),
                budget,
            )
        return to_state(wire(got), planned)

    def _follow(self, ctx: Context, rg: str, vault: str, name: str, headers: Any) -> None:
        """Wait, visibly and within bounds, until the policy write's operation has finished."""
        op = operation_id(headers.get("Location")) or operation_id(
            (headers.get("Azure-AsyncOperation") or "").replace("/operations/", "/operationResults/")
        )
        if op is None:
            return  # nothing to follow: the GET below waits for the policy instead
        statuses = ctx.clients.backup().protection_policy_operation_statuses
        base = POLICY_OPERATION_LOCAL if ctx.clients.is_local else POLICY_OPERATION
        hint = retry_after_seconds(headers)
        budget = Backoff(
            first=max(base.first, min(hint or 0.0, base.cap)), factor=2.0, cap=base.cap, budget=base.budget
        )

        def finished() -> dict[str, Any] | None:
            got = wire(call(lambda: statuses.get(vault, rg, name, op)))
            return None if str(got.get("status")).lower() == "inprogress" else got

        done = ctx.waiter.until(f"Azure has written the backup policy {name}", finished, budget)
        if str(done.get("status")).lower() == "failed":
            err = done.get("error") or {}
            raise PermanentError(
                f"Azure could not write the backup policy {name}: {err.get('message') or done}",
                code=str(err.get("code") or "OperationFailed"),
            )

    def create(self, ctx: Context, planned: dict[str, Any]) -> dict[str, Any]:
        return self._put(
            ctx, planned["resource_group_name"], planned["recovery_vault_name"], planned["name"], planned
        )

    def read(self, ctx: Context, prior: dict[str, Any]) -> dict[str, Any] | None:
        rid = parse_resource_id(prior["id"], expect=TYPE)
        got = not_found_is_none(
            lambda: ctx.clients.backup().protection_policies.get(rid.names[0], rid.resource_group, rid.name)
        )
        return None if got is None else to_state(wire(got), prior)

    def update(self, ctx, prior, planned, changed):
        rid = parse_resource_id(prior["id"], expect=TYPE)
        return self._put(ctx, rid.resource_group, rid.names[0], rid.name, planned)

    def delete(self, ctx: Context, prior: dict[str, Any]) -> None:
        rid = parse_resource_id(prior["id"], expect=TYPE)
        poller = not_found_is_none(
            lambda: ctx.clients.backup().protection_policies.begin_delete(
                rid.names[0], rid.resource_group, rid.name
            )
        )
        if poller is not None:
            not_found_is_none(lambda: wait_lro(poller))

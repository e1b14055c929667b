"""azurerm_backup_policy_vm <-> ``.../vaults/{v}/backupPolicies/{name}`` (AzureIaasVM policies).

V1 policies use ``SimpleSchedulePolicy``; V2 (Enhanced) ``SimpleSchedulePolicyV2`` with
hourly, daily or weekly schedules. Retention is a ``LongTermRetentionPolicy``. Times
of day travel as full timestamps whose date Azure ignores.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from providers.azurerm.errors import retry_after_seconds
from providers.azurerm.ids import ResourceId, parse_resource_id
from providers.azurerm.listing import backup_policies_of, read_body
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
from providers.base import PermanentError, RetryableError

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
# backup_policy_vm_resource.go, resourceBackupProtectionPolicyVMWaitForUpdate). vaultform never
# sleeps for it: it checks the write's operation once and, while it runs, raises RetryableError with
# Azure's Retry-After, so the executor waits visibly and calls again; the operation is remembered
# (per policy and body) so the retry checks it instead of writing again.
RETRY_HINT = 30.0  # when Azure sends no Retry-After (its spec examples say 60)
RETRY_HINT_LOCAL = 0.5


def operation_id(location: str | None) -> str | None:
    """The operation id at the end of a ``.../operationResults/{id}?api-version=...`` URL."""
    if not location or "/operationResults/" not in location:
        return None
    return location.split("/operationResults/", 1)[1].split("?", 1)[0].strip("/") or None


class BackupPolicyVM(Handler):
    type_name = "azurerm_backup_policy_vm"
    # Azure shows a new policy only when its write has finished, so after a crash "not there"
    # proves nothing: the create intent stays pending and apply looks for the policy again
    # (locate) right before writing it, instead of recovery concluding it was never created.
    asynchronous_create = True
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

    # (policy id, body) -> (operation id, Retry-After) of a write Azure is still carrying out
    _pending: ClassVar[dict[tuple[int, str, str], tuple[str, float]]] = {}

    def _put(self, ctx: Context, rg: str, vault: str, name: str, planned: dict[str, Any]) -> dict[str, Any]:
        backup = ctx.clients.backup()
        ops = backup.protection_policies
        body = policy_body(planned)
        key = (
            id(ctx.clients),  # one cloud connection: another one's operations mean nothing here
            str(policy_id(ctx, rg, vault, name)).lower(),
            json.dumps(body, sort_keys=True, default=str),
        )
        default_hint = RETRY_HINT_LOCAL if ctx.clients.is_local else RETRY_HINT
        pending = self._pending.get(key)
        if pending is None:
            status, headers, got = call(
                lambda: ops.create_or_update(
                    vault,
                    rg,
                    name,
                    body,
                    cls=lambda resp, out, _h: (
                        resp.http_response.status_code,
                        resp.http_response.headers,
                        out,
                    ),
                )
            )
            if status != 202 and got is not None:
                return to_state(wire(got), planned)
            op = operation_id(headers.get("Location")) or operation_id(
                (headers.get("Azure-AsyncOperation") or "").replace("/operations/", "/operationResults/")
            )
            pending = (op or "", retry_after_seconds(headers) or default_hint)
            self._pending[key] = pending
        op, hint = pending
        if op:
            done = wire(
                not_found_is_none(
                    lambda: backup.protection_policy_operation_statuses.get(vault, rg, name, op)
                )
            )
            if done is None:  # Azure no longer knows the operation: write again
                self._pending.pop(key, None)
                return self._put(ctx, rg, vault, name, planned)
            state = str(done.get("status") or "").lower()
            if state == "inprogress":
                raise RetryableError(
                    f"Azure is still writing the backup policy {name} (operation {op})",
                    code="PolicyWriteInProgress",
                    retry_after=hint,
                    waiting=True,
                )
            if state == "failed":
                self._pending.pop(key, None)
                err = done.get("error") or {}
                raise PermanentError(
                    f"Azure could not write the backup policy {name}: {err.get('message') or done}",
                    code=str(err.get("code") or "OperationFailed"),
                )
        got = not_found_is_none(lambda: ops.get(vault, rg, name))
        if got is None:
            raise RetryableError(
                f"Azure has accepted the backup policy {name} but doesn't show it yet",
                code="PolicyNotShownYet",
                retry_after=hint,
            )
        self._pending.pop(key, None)
        return to_state(wire(got), planned)

    def existing(self, ctx: Context, planned: dict[str, Any], id_: str) -> str | None:
        """A policy this connection is still writing (a retried create) is not someone else's."""
        if any(k[0] == id(ctx.clients) and k[1] == id_.lower() for k in self._pending):
            return None
        return super().existing(ctx, planned, id_)

    def create(self, ctx: Context, planned: dict[str, Any]) -> dict[str, Any]:
        return self._put(
            ctx, planned["resource_group_name"], planned["recovery_vault_name"], planned["name"], planned
        )

    def read(self, ctx: Context, prior: dict[str, Any]) -> dict[str, Any] | None:
        rid = parse_resource_id(prior["id"], expect=TYPE)
        got = read_body(
            ctx,
            backup_policies_of(str(rid)),
            str(rid),
            lambda: ctx.clients.backup().protection_policies.get(rid.names[0], rid.resource_group, rid.name),
        )
        return None if got is None else to_state(got, prior)

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

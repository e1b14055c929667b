"""VM backup policies of a Recovery Services vault (``.../vaults/{v}/backupPolicies/{p}``).

A policy write is asynchronous, as in Azure: the PUT is checked at once (a bad policy is a 400) and
answers 202 with ``Location`` (``.../backupPolicies/{p}/operationResults/{id}``),
``Azure-AsyncOperation`` (``.../backupPolicies/{p}/operations/{id}``) and ``Retry-After``; the
policy (or its new version) shows on GET only when the operation has finished, so a GET right after
creating one can answer 404 - azurerm polls GET until found (backup_policy_vm_resource.go,
resourceBackupProtectionPolicyVMWaitForUpdate). Spec examples (2026-10-01):
AzureIaasVm/ProtectionPolicies_CreateOrUpdate_Complex.json, ProtectionPolicyOperationResults_Get.json,
ProtectionPolicyOperationStatuses_Get.json. With ``backup_operation_seconds`` 0 the PUT answers 200.
"""

from __future__ import annotations

import copy

from providers.azurelocal import rules
from providers.azurelocal.http import AzureError, Request, Response
from providers.azurelocal.router import ARM
from providers.azurelocal.services import _arm, _backup_async
from providers.azurelocal.store import Kind

VAULT = _arm.RG + "/providers/Microsoft.RecoveryServices/vaults/{vault}"
TYPE = "Microsoft.RecoveryServices/vaults/backupPolicies"
SCHEDULE_TYPE = {"V1": "SimpleSchedulePolicy", "V2": "SimpleSchedulePolicyV2"}
FREQUENCIES = {"V1": ("Daily", "Weekly"), "V2": ("Hourly", "Daily", "Weekly")}
DAILY_RETENTION = (7, 9999)


def invalid(message: str) -> AzureError:
    # real code, 400: 'Input for create or update policy is not in proper format' (public RSV client notes)
    return AzureError(400, "BMSUserErrorInvalidPolicyInput", message)


def policy_id(vault_id: str, name: str) -> str:
    return f"{vault_id}/backupPolicies/{name}"


def validate(props: dict) -> dict:
    """Normalise and check an AzureIaasVM policy's properties (raises Azure-style 400s)."""
    out = copy.deepcopy(props)
    kind = out.get("backupManagementType")
    if kind != "AzureIaasVM":
        raise invalid(f"backupManagementType '{kind}' is not supported here; use 'AzureIaasVM' (VM backup).")
    version = out.get("policyType") or "V1"
    if version not in SCHEDULE_TYPE:
        raise invalid(f"policyType '{version}' is not valid; use V1 or V2.")
    out["policyType"] = version
    schedule = out.get("schedulePolicy") or {}
    if schedule.get("schedulePolicyType") != SCHEDULE_TYPE[version]:
        raise invalid(
            f"A {version} policy needs schedulePolicyType '{SCHEDULE_TYPE[version]}', "
            f"got '{schedule.get('schedulePolicyType')}'."
        )
    frequency = schedule.get("scheduleRunFrequency") or (
        (schedule.get("dailySchedule") and "Daily") or (schedule.get("hourlySchedule") and "Hourly")
    )
    if frequency not in FREQUENCIES[version]:
        raise invalid(
            f"scheduleRunFrequency '{frequency}' is not valid for a {version} policy; use "
            f"{', '.join(FREQUENCIES[version])}."
        )
    retention = out.get("retentionPolicy") or {}
    if retention.get("retentionPolicyType") != "LongTermRetentionPolicy":
        raise invalid("retentionPolicy needs retentionPolicyType 'LongTermRetentionPolicy'.")
    daily = retention.get("dailySchedule")
    if frequency in ("Daily", "Hourly") and not daily:
        raise invalid(f"A {frequency} schedule needs a daily retention (retentionPolicy.dailySchedule).")
    if daily:
        count = int((daily.get("retentionDuration") or {}).get("count") or 0)
        if not DAILY_RETENTION[0] <= count <= DAILY_RETENTION[1]:
            raise invalid(
                f"Daily retention must keep {DAILY_RETENTION[0]} to {DAILY_RETENTION[1]} days, got {count}."
            )
    instant = out.get("instantRpRetentionRangeInDays")
    limit = 30 if version == "V2" else 5
    if instant is not None and not 1 <= int(instant) <= limit:
        raise invalid(
            f"instantRpRetentionRangeInDays must be 1..{limit} for a {version} policy, got {instant}."
        )
    out.setdefault("instantRpRetentionRangeInDays", 2)
    out.setdefault("timeZone", "UTC")
    return out


_RETENTIONS = {  # retention schedule -> the words for it
    "dailySchedule": "daily",
    "weeklySchedule": "weekly",
    "monthlySchedule": "monthly",
    "yearlySchedule": "yearly",
}


def shortened_retention(old: dict, new: dict) -> list[str]:
    """The retentions ``new`` keeps for less time than ``old`` ("daily 30 -> 7"), or drops."""
    before = old.get("retentionPolicy") or {}
    after = new.get("retentionPolicy") or {}
    out = []
    for key, words in _RETENTIONS.items():
        kept = int(((before.get(key) or {}).get("retentionDuration") or {}).get("count") or 0)
        if not kept:
            continue
        now = int(((after.get(key) or {}).get("retentionDuration") or {}).get("count") or 0)
        if now < kept:
            out.append(f"{words} {kept} -> {now}" if now else f"{words} {kept} -> none")
    return out


def items_using(env, policy: dict) -> list[dict]:
    vault_id = policy["id"].rsplit("/backupPolicies/", 1)[0]
    return [
        i
        for i in env.store.list(Kind.PROTECTED_ITEM, vault_id + "/")
        if (i["properties"].get("policyId") or "").lower() == policy["id"].lower()
    ]


PENDING = "_policy"  # the body a policy operation writes when it finishes
APPLIED = "_applied"


def land_finished(env, pid: str) -> None:
    """Write the policy bodies whose operations have finished (oldest first)."""
    ops = sorted(_backup_async.operations_under(env, pid), key=lambda o: o[_backup_async.DONE_AT])
    for op in ops:
        if op["status"] == "Succeeded" and PENDING in op and not op.get(APPLIED):
            env.store.put(Kind.BACKUP_POLICY, op[PENDING]["id"], op[PENDING])
            op[APPLIED] = True
            env.store.put(Kind.OPERATION, f"{pid}/operations/{op['name']}", op)


def land_all(env, vault_id: str) -> None:
    seen = {
        o["id"].split("/operationsStatus/")[0]
        for o in env.store.list(Kind.OPERATION, vault_id + "/backupPolicies/")
    }
    for pid in seen:
        land_finished(env, pid)


def register(router, env) -> None:
    one = VAULT + "/backupPolicies/{name}"

    def vault_of(p: dict) -> dict:
        _arm.require_group(env, p["sub"], p["rg"])
        vault = env.store.get(
            Kind.RS_VAULT,
            _arm.resource_id(p["sub"], p["rg"], "Microsoft.RecoveryServices/vaults", p["vault"]),
        )
        if vault is None:
            raise _arm.not_found("Microsoft.RecoveryServices/vaults", p["vault"], p["rg"])
        return vault

    def load(p: dict) -> dict:
        pid = policy_id(vault_of(p)["id"], p["name"])
        land_finished(env, pid)
        body = env.store.get(Kind.BACKUP_POLICY, pid)
        if body is None:
            raise AzureError(
                404,
                # invented code (none found publicly)
                "BMSUserErrorPolicyNotFound",
                f"Policy '{p['name']}' was not found in vault '{p['vault']}'.",
            )
        return body

    @router.route(ARM, "PUT", one)
    def put_policy(request: Request) -> Response:
        p = request.params
        vault = vault_of(p)
        data = _arm.body_of(request)
        rid = policy_id(vault["id"], p["name"])
        land_finished(env, rid)
        existing = env.store.get(Kind.BACKUP_POLICY, rid)
        props = validate(data.get("properties") or {})
        if existing and existing["properties"]["policyType"] != props["policyType"]:
            raise invalid(
                f"Policy '{p['name']}' is {existing['properties']['policyType']}; its policyType can't change."
            )
        if existing and rules.immutability_state(vault) != "Disabled":
            shortened = shortened_retention(existing["properties"], props)
            if shortened:
                # An immutable vault (Unlocked or Locked) refuses any change that lowers a policy's
                # retention (Microsoft Learn, "Immutable vault for Azure Backup", restricted operations:
                # "Modify backup policy to reduce retention"; a Microsoft Q&A answer quotes the refusal
                # "Reduction in retention is not allowed since the vault is immutable"). The code is
                # invented (none found publicly).
                raise AzureError(
                    400,
                    "BMSUserErrorRetentionReductionNotAllowedOnImmutableVault",
                    f"Vault '{p['vault']}' is immutable: policy '{p['name']}' can't keep backups for less "
                    f"time than it does ({', '.join(shortened)}).",
                )
        body = {
            "id": existing["id"] if existing else rid,
            "name": existing["name"] if existing else p["name"],
            "type": TYPE,
            "location": vault["location"],
            "tags": data.get("tags") or {},
            "properties": props,
        }
        body["properties"]["protectedItemsCount"] = len(items_using(env, body)) if existing else 0
        if _backup_async.duration(env) <= 0:
            env.store.put(Kind.BACKUP_POLICY, body["id"], body)
            return _arm.ok(body)
        op = _backup_async.start(env, rid, "CreateOrUpdatePolicy", extra={PENDING: body})
        return _backup_async.accepted(env, op, rid, status_kind="operations")

    @router.route(ARM, "GET", one + "/operationResults/{op}")
    def policy_operation_result(request: Request) -> Response:
        # 202 while running; 200 with the policy when done (ProtectionPolicyOperationResults_Get.json)
        p = request.params
        rid = policy_id(vault_of(p)["id"], p["name"])
        op = _backup_async.load(env, rid, p["op"])
        if op["status"] == "InProgress":
            return _backup_async.still_running(env, op, rid)
        return _arm.ok(load(p))

    @router.route(ARM, "GET", one + "/operations/{op}")
    def policy_operation_status(request: Request) -> Response:
        # ProtectionPolicyOperationStatuses_Get.json: id (the bare operation id), name, status,
        # startTime, endTime, and properties {objectType: OperationStatusJobsExtendedInfo, jobIds,
        # failedJobsError}. The example lists one job; the local Azure starts no job for a policy
        # write, so its list is empty (invented).
        p = request.params
        rid = policy_id(vault_of(p)["id"], p["name"])
        land_finished(env, rid)
        op = _backup_async.load(env, rid, p["op"])
        jobs_info = {"objectType": "OperationStatusJobsExtendedInfo", "jobIds": [], "failedJobsError": {}}
        return Response(200, {**_backup_async.status_body(op), "id": op["name"], "properties": jobs_info})

    @router.route(ARM, "GET", one)
    def get_policy(request: Request) -> Response:
        body = load(request.params)
        body["properties"]["protectedItemsCount"] = len(items_using(env, body))
        return _arm.ok(body)

    @router.route(ARM, "DELETE", one)
    def delete_policy(request: Request) -> Response:
        p = request.params
        vault = vault_of(p)
        body = env.store.get(Kind.BACKUP_POLICY, policy_id(vault["id"], p["name"]))
        if body is None:
            return Response(204)
        users = items_using(env, body)
        if users:
            raise AzureError(
                400,
                # invented code; the rule is documented (backup-azure-delete-vault: a policy with items can't be deleted)
                "BMSUserErrorPolicyInUse",
                f"Policy '{p['name']}' protects {len(users)} item(s); move them to another policy or "
                f"stop their protection before deleting it.",
            )
        env.store.delete(Kind.BACKUP_POLICY, body["id"])
        return Response(200)

    @router.route(ARM, "GET", VAULT + "/backupPolicies")
    def list_policies(request: Request) -> Response:
        vault = vault_of(request.params)
        land_all(env, vault["id"])
        return _arm.listing(
            env.store.list(Kind.BACKUP_POLICY, vault["id"] + "/backupPolicies/"), request, token="$skipToken"
        )

"""Backup now, recovery points and restore for a protected VM; the work is the data path's.

``POST .../protectedItems/{item}/backup`` runs ``datapath.run_backup`` and answers 202 pointing at
an operation whose status names the job; ``POST .../recoveryPoints/{rp}/restore`` runs
``datapath.restore`` the same way. The jobs themselves are listed by the jobs service.
"""

from __future__ import annotations

from providers.azurelocal.http import AzureError, Request, Response
from providers.azurelocal.router import ARM
from providers.azurelocal.services import _arm, operations, protected_items
from providers.azurelocal.store import Kind

RECOVERY_POINTS = protected_items.ITEM + "/recoveryPoints"
NOT_BACKED_UP = ("ProtectionStopped", "BackupsSuspended")


def _job_operation(env, resource_id: str, name: str, job: dict) -> Response:
    op = operations.record_operation(
        env,
        resource_id,
        name,
        properties={"objectType": "OperationStatusJobExtendedInfo", "jobId": job["name"]},
    )
    return operations.accepted(env, op)


def trigger_backup(env, vault: dict, item: dict, caller: str | None) -> dict:
    from providers.azurelocal import datapath

    state = item["properties"].get("protectionState")
    if state in NOT_BACKED_UP:
        raise AzureError(
            400,
            # invented code (none found publicly)
            "BMSUserErrorBackupNotAllowed",
            f"Protection of '{item['properties']['friendlyName']}' is {state}; resume protection "
            f"before taking a backup.",
        )
    job = datapath.run_backup(env, vault["id"], item["id"], caller)
    if job["properties"]["status"] == "Completed":
        with env.store.transaction():
            fresh = env.store.get(Kind.PROTECTED_ITEM, item["id"])
            if fresh is not None:
                props = fresh["properties"]
                if props.get("protectionState") == "IRPending":
                    props["protectionState"] = "Protected"
                props.setdefault("extendedInfo", {})["recoveryPointCount"] = len(
                    env.store.list(Kind.RECOVERY_POINT, item["id"] + "/")
                )
                env.store.put(Kind.PROTECTED_ITEM, fresh["id"], fresh)
    return job


def _recovery_point(env, item: dict, name: str) -> dict:
    rp = env.store.get(Kind.RECOVERY_POINT, f"{item['id']}/recoveryPoints/{name}")
    if rp is None:
        raise AzureError(
            404,
            # invented code (none found publicly)
            "BMSUserErrorRecoveryPointNotFound",
            f"Recovery point '{name}' was not found for '{item['properties']['friendlyName']}'.",
        )
    return rp


def register(router, env) -> None:
    @router.route(ARM, "POST", protected_items.ITEM + "/backup")
    def backup_now(request: Request) -> Response:
        vault, item = protected_items.load_item(env, request.params)
        job = trigger_backup(env, vault, item, _arm.caller_id(request))
        return _job_operation(env, item["id"], "Backup", job)

    @router.route(ARM, "GET", RECOVERY_POINTS)
    def list_points(request: Request) -> Response:
        _, item = protected_items.load_item(env, request.params)
        points = sorted(
            env.store.list(Kind.RECOVERY_POINT, item["id"] + "/recoveryPoints/"),
            key=lambda rp: rp["properties"].get("recoveryPointTime", ""),
            reverse=True,
        )
        return _arm.listing(points, request, token="$skipToken")

    @router.route(ARM, "GET", RECOVERY_POINTS + "/{rp}")
    def get_point(request: Request) -> Response:
        _, item = protected_items.load_item(env, request.params)
        return _arm.ok(_recovery_point(env, item, request.params["rp"]))

    @router.route(ARM, "POST", RECOVERY_POINTS + "/{rp}/restore")
    def restore(request: Request) -> Response:
        from providers.azurelocal import datapath

        vault, item = protected_items.load_item(env, request.params)
        rp = _recovery_point(env, item, request.params["rp"])
        props = _arm.body_of(request).get("properties") or {}
        kind = props.get("objectType") or "IaasVMRestoreRequest"
        if not kind.startswith("IaasVMRestore"):
            raise AzureError(
                400,
                # real code: az backup troubleshooting notes quote 'BMSUserErrorInvalidInput: Input provided for the call is invalid.' (400)
                "BMSUserErrorInvalidInput",
                f"objectType '{kind}' is not a VM restore request; use IaasVMRestoreRequest.",
            )
        des_id = props.get("diskEncryptionSetId")
        if des_id and env.store.get(Kind.DISK_ENCRYPTION_SET, des_id) is None:
            raise AzureError(
                400,
                # invented code (none found publicly)
                "BMSUserErrorDiskEncryptionSetNotFound",
                f"The disk encryption set '{des_id}' was not found.",
            )
        job = datapath.restore(
            env,
            vault["id"],
            rp["id"],
            des_id=des_id,
            target=props.get("targetResourceGroupId"),
            principal_id=_arm.caller_id(request),
        )
        return _job_operation(env, rp["id"], "Restore", job)

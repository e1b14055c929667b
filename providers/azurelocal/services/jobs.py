"""Backup jobs of a Recovery Services vault: the record every backup, restore, protection and key
assignment leaves, listed and read through ``.../vaults/{v}/backupJobs``."""

from __future__ import annotations

from providers.azurelocal.app import parse_time
from providers.azurelocal.http import AzureError, Request, Response
from providers.azurelocal.router import ARM
from providers.azurelocal.services import _arm
from providers.azurelocal.store import Kind

VAULT = _arm.RG + "/providers/Microsoft.RecoveryServices/vaults/{vault}"
TERMINAL = frozenset({"Completed", "Failed", "CompletedWithWarnings", "Cancelled"})
JOB_TYPES = {"AzureIaasVM": "AzureIaaSVMJob", "Vault": "VaultJob"}


def job_id(vault_id: str, name: str) -> str:
    return f"{vault_id}/backupJobs/{name}"


def create_job(
    env,
    vault_id: str,
    operation: str,
    entity: str,
    status: str = "InProgress",
    *,
    management_type: str = "AzureIaasVM",
    extra: dict | None = None,
) -> dict:
    """Record a job (``status`` InProgress unless given) and return its document."""
    name = env.new_guid()
    now = env.now_iso()
    body = {
        "id": job_id(vault_id, name),
        "name": name,
        "type": "Microsoft.RecoveryServices/vaults/backupJobs",
        "properties": {
            "jobType": JOB_TYPES.get(management_type, "AzureIaaSVMJob"),
            "entityFriendlyName": entity,
            "backupManagementType": management_type,
            "operation": operation,
            "status": status,
            "startTime": now,
            "activityId": env.new_guid(),
            "errorDetails": [],
            "extendedInfo": {"tasksList": [], "propertyBag": {}},
        },
    }
    if extra:
        body["properties"]["extendedInfo"]["propertyBag"].update({k: str(v) for k, v in extra.items()})
    if status in TERMINAL:
        _finish_fields(env, body, status, None)
    env.store.put(Kind.JOB, body["id"], body)
    return body


def _finish_fields(env, body: dict, status: str, error: dict | None) -> None:
    props = body["properties"]
    props["status"] = status
    props["endTime"] = env.now_iso()
    start, end = parse_time(props.get("startTime")), parse_time(props["endTime"])
    seconds = (end - start).total_seconds() if start and end else 0
    props["duration"] = f"PT{max(seconds, 0):.0f}S"
    if error:
        props["errorDetails"] = [
            {
                "errorCode": error.get("code", "Failed"),
                "errorString": error.get("message", ""),
                "recommendations": list(error.get("recommendations") or []),
            }
        ]


def find_job(env, job_ref: str) -> dict | None:
    """A job by its full id or by its name (GUID)."""
    if "/" in job_ref:
        return env.store.get(Kind.JOB, job_ref)
    for body in env.store.list(Kind.JOB):
        if body["name"].lower() == job_ref.lower():
            return body
    return None


def finish_job(env, job_ref: str, status: str, error: dict | None = None) -> dict:
    """Move a job to a terminal status; ``error`` is ``{"code", "message"}`` for failures."""
    with env.store.transaction():
        body = find_job(env, job_ref)
        if body is None:
            raise KeyError(f"no backup job {job_ref}")
        _finish_fields(env, body, status, error)
        env.store.put(Kind.JOB, body["id"], body)
        return body


def jobs_of(env, vault_id: str) -> list[dict]:
    return sorted(
        env.store.list(Kind.JOB, vault_id + "/backupJobs/"),
        key=lambda b: b["properties"]["startTime"],
        reverse=True,
    )


def _filter(jobs: list[dict], text: str | None) -> list[dict]:
    """Honour ``operation eq 'X'`` / ``status eq 'Y'`` clauses of an OData $filter."""
    if not text:
        return jobs
    wanted = {}
    for clause in text.split(" and "):
        field, _, value = clause.strip().partition(" eq ")
        if value:
            wanted[field.strip().lower()] = value.strip().strip("'").lower()
    out = []
    for job in jobs:
        props = job["properties"]
        if all(
            props.get(k, "").lower() == v
            for k, v in wanted.items()
            if k in ("operation", "status", "backupmanagementtype")
        ):
            out.append(job)
    return out


def register(router, env) -> None:
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
        vault = vault_of(p)
        body = env.store.get(Kind.JOB, job_id(vault["id"], p["job"]))
        if body is None:
            raise AzureError(
                # invented code (none found publicly)
                404,
                "BMSUserErrorJobNotFound",
                f"Job '{p['job']}' was not found in vault '{p['vault']}'.",
            )
        return body

    @router.route(ARM, "GET", VAULT + "/backupJobs")
    def list_jobs(request: Request) -> Response:
        vault = vault_of(request.params)
        return _arm.listing(
            _filter(jobs_of(env, vault["id"]), request.query.get("$filter")), request, token="$skipToken"
        )

    @router.route(ARM, "GET", VAULT + "/backupJobs/{job}")
    def get_job(request: Request) -> Response:
        return _arm.ok(load(request.params))

    @router.route(ARM, "POST", VAULT + "/backupJobs/{job}/cancel")
    def cancel_job(request: Request) -> Response:
        body = load(request.params)
        if body["properties"]["status"] not in TERMINAL:
            finish_job(env, body["id"], "Cancelled")
        return Response(202, None, {"Retry-After": "0"})

    @router.route(ARM, "GET", VAULT + "/backupJobs/{job}/operationResults/{op}")
    def job_operation_result(request: Request) -> Response:
        load(request.params)
        return Response(204)

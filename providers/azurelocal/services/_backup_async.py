"""Azure Backup's own long-running operations: recorded when they start, finished on the emulator clock.

Azure Backup answers a container refresh, a policy write and a protection change with 202 and a
``Location`` under the object itself (``.../backupFabrics/Azure/operationResults/{id}``,
``.../backupPolicies/{name}/operationResults/{id}``, ``.../protectedItems/{item}/operationResults/{id}``)
plus ``Retry-After`` (60 in the spec examples; the emulator sends the whole seconds left of its own
delay). A protected item's delete points at the vault instead (``.../backupOperationResults/{id}``,
``.../backupOperations/{id}``: Common/ProtectedItem_Delete.json).
Until the operation finishes its result URL answers 202 again; afterwards 204 (refresh) or 200 with
the object (policy). Sources: azure-rest-api-specs
specification/recoveryservicesbackup/.../stable/2026-10-01/examples/Common/RefreshContainers.json,
RefreshContainers_OperationResults.json, RefreshContainers_OperationStatus.json and
AzureIaasVm/ProtectionPolicies_CreateOrUpdate_Complex.json, ProtectionPolicyOperationResults_Get.json,
ProtectionPolicyOperationStatuses_Get.json.

How long an operation runs is ``FaultSettings.backup_operation_seconds`` (0 finishes at once).
"""

from __future__ import annotations

import math
from datetime import timedelta

from providers.azurelocal import faults
from providers.azurelocal.app import parse_time
from providers.azurelocal.http import AzureError, Response
from providers.azurelocal.store import Kind

ARM_BASE = "https://management.azure.com"
API_VERSION = "2026-10-01"  # the api-version azure-mgmt-recoveryservicesbackup 11.2 sends
DONE_AT = "_doneAt"


def _key(scope: str, op: str) -> str:
    return f"{scope}/operations/{op}"


def duration(env) -> float:
    return float(faults.load(env.store).backup_operation_seconds)


def start(env, scope: str, name: str, *, seconds: float | None = None, extra: dict | None = None) -> dict:
    """Record an operation under ``scope`` (an ARM id) that finishes ``seconds`` from now."""
    op = env.new_guid()
    now = env.clock.now()
    wait = duration(env) if seconds is None else seconds
    body = {
        "id": f"{scope}/operationsStatus/{op}",
        "name": op,
        "operation": name,
        "status": "InProgress" if wait > 0 else "Succeeded",
        "startTime": now.isoformat().replace("+00:00", "Z"),
        # the spec example of an unfinished operation shows this placeholder end time
        # (Common/ProtectedItem_Delete_OperationStatus.json)
        "endTime": "0001-01-01T00:00:00.00000Z",
        DONE_AT: (now + timedelta(seconds=wait)).isoformat(),
        **(extra or {}),
    }
    env.store.put(Kind.OPERATION, _key(scope, op), body)
    return settle(env, body, scope)


def settle(env, body: dict, scope: str) -> dict:
    """The operation as of now: InProgress until its time has come, then Succeeded."""
    if body["status"] == "InProgress" and parse_time(body[DONE_AT]) <= env.clock.now():
        body["status"] = "Succeeded"
        body["endTime"] = body[DONE_AT].replace("+00:00", "Z")
        env.store.put(Kind.OPERATION, _key(scope, body["name"]), body)
    elif body["status"] == "Succeeded" and body["endTime"].startswith("0001"):
        body["endTime"] = body["startTime"]
    return body


def load(env, scope: str, op: str) -> dict:
    body = env.store.get(Kind.OPERATION, _key(scope, op))
    if body is None:
        # invented code: no public example shows the answer for an unknown operation id
        raise AzureError(404, "OperationNotFound", f"The operation '{op}' was not found.")
    return settle(env, body, scope)


def operations_under(env, scope: str) -> list[dict]:
    return [settle(env, b, scope) for b in env.store.list(Kind.OPERATION, scope + "/operations/")]


def remaining(env, body: dict) -> float:
    left = (parse_time(body[DONE_AT]) - env.clock.now()).total_seconds()
    return max(0.0, left)


def _retry_after(env, body: dict) -> str:
    # whole seconds: the spec declares Retry-After an integer (60 in the examples) and the SDK
    # reads it as int; 0 once the operation is done, so a poller does not wait for nothing
    return str(math.ceil(remaining(env, body)))


def url(scope: str, kind: str, op: str) -> str:
    return f"{ARM_BASE}{scope}/{kind}/{op}?api-version={API_VERSION}"


def accepted(
    env,
    body: dict,
    scope: str,
    *,
    status_kind: str | None = "operationsStatus",
    result_kind: str = "operationResults",
) -> Response:
    """202 with ``Location`` (the operation's result) and, where Azure sends one, ``Azure-AsyncOperation``."""
    headers = {
        "Location": url(scope, result_kind, body["name"]),
        "Retry-After": _retry_after(env, body),
    }
    if status_kind:
        headers["Azure-AsyncOperation"] = url(scope, status_kind, body["name"])
    return Response(202, None, headers)


def still_running(
    env, body: dict, scope: str, *, result_kind: str = "operationResults", status_kind: str | None = None
) -> Response:
    """The result URL of an unfinished operation: 202 pointing at itself (and, where Azure sends
    one, at its status)."""
    headers = {"Location": url(scope, result_kind, body["name"]), "Retry-After": _retry_after(env, body)}
    if status_kind:
        headers["Azure-AsyncOperation"] = url(scope, status_kind, body["name"])
    return Response(202, None, headers)


def status_body(body: dict) -> dict:
    return {k: v for k, v in body.items() if not k.startswith("_") and k != "operation"}


def bare_status(env, body: dict) -> Response:
    """A protected item's or a vault's operation status: ``id`` is the bare operation id (spec
    examples AzureIaasVm/ProtectedItemOperationStatus.json, Common/ProtectedItem_Delete_OperationStatus.json).
    While it runs it also carries Retry-After (invented: the examples show no headers) so a poller
    asks again when it is due rather than after its 30-second default."""
    headers = {"Retry-After": _retry_after(env, body)} if body["status"] == "InProgress" else {}
    return Response(200, {**status_body(body), "id": body["name"]}, headers)

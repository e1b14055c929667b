"""Long-running operation records and their status endpoints.

The emulator finishes its work inside the request, so an operation is born terminal; the
records exist so SDK pollers that follow ``Location`` or ``Azure-AsyncOperation`` get the
answers Azure gives (``Retry-After: 0`` keeps them from sleeping).
"""

from __future__ import annotations

from providers.azurelocal.http import AzureError, Request, Response
from providers.azurelocal.router import ARM
from providers.azurelocal.store import Kind

ARM_BASE = "https://management.azure.com"
API_VERSION = "2022-12-01"


def record_operation(
    env,
    resource_id: str,
    name: str,
    *,
    status: str = "Succeeded",
    error: dict | None = None,
    properties: dict | None = None,
) -> dict:
    op_id = env.new_guid()
    now = env.now_iso()
    body = {
        "id": f"/subscriptions/{env.subscription_id}/operationresults/{op_id}",
        "name": op_id,
        "operation": name,
        "resourceId": resource_id,
        "status": status,
        "startTime": now,
        "endTime": now,
    }
    if error:
        body["error"] = error
    if properties:
        body["properties"] = properties
    env.store.put(Kind.OPERATION, op_id, body)
    return body


def accepted(env, operation: dict) -> Response:
    """202 pointing at the operation's status endpoints."""
    return Response(202, None, async_headers(env, operation["name"]))


def async_headers(env, op: str) -> dict[str, str]:
    sub = env.subscription_id
    return {
        "Location": f"{ARM_BASE}/subscriptions/{sub}/operationresults/{op}?api-version={API_VERSION}",
        "Azure-AsyncOperation": f"{ARM_BASE}/subscriptions/{sub}/operationstatuses/{op}?api-version={API_VERSION}",
        "Retry-After": "0",
    }


def unknown_operation(env) -> str:
    """An operation id no status endpoint knows (its GET answers 404)."""
    return env.new_guid()


def _operation(env, request: Request) -> dict:
    body = env.store.get(Kind.OPERATION, request.params["op"])
    if body is None:
        # invented code: real Azure's 404 for an unknown operation carries no documented code
        # (azure-rest-api-specs issue 27869 shows only the status)
        raise AzureError(404, "OperationNotFound", f"The operation '{request.params['op']}' was not found.")
    return body


def register(router, env) -> None:
    @router.route(ARM, "GET", "/subscriptions/{sub}/operationresults/{op}")
    def operation_result(request: Request) -> Response:
        body = _operation(env, request)
        if body["status"] == "InProgress":
            return Response(
                202,
                None,
                {"Location": f"{ARM_BASE}{request.path}?api-version={API_VERSION}", "Retry-After": "0"},
            )
        if body["status"] == "Failed":
            err = body.get("error") or {"code": "OperationFailed", "message": "The operation failed."}
            raise AzureError(409, err["code"], err["message"])
        return Response(204)

    @router.route(ARM, "GET", "/subscriptions/{sub}/operationstatuses/{op}")
    def operation_status(request: Request) -> Response:
        body = _operation(env, request)
        return Response(200, {k: v for k, v in body.items() if k != "operation"})

"""User-assigned managed identities; each one is a service principal the emulator knows."""

from __future__ import annotations

from providers.azurelocal.http import AzureError, Request, Response
from providers.azurelocal.router import ARM
from providers.azurelocal.services import _arm
from providers.azurelocal.store import Kind

TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"


def forget(env, body: dict) -> None:
    """The identity is gone: so is its principal."""
    env.remove_principal(body["properties"]["principalId"])


ISOLATION_SCOPES = {"none": "None", "regional": "Regional"}


def _isolation_scope(data: dict) -> str:
    wanted = str((data.get("properties") or {}).get("isolationScope") or "None")
    scope = ISOLATION_SCOPES.get(wanted.lower())
    if scope is None:
        # invented code: Azure's answer to an unknown isolation scope was not found publicly
        raise AzureError(
            400, "InvalidIsolationScope", f"isolationScope '{wanted}' is not valid; use None or Regional."
        )
    return scope


def register(router, env) -> None:
    one = _arm.RG + "/providers/" + TYPE + "/{name}"

    @router.route(ARM, "PUT", one)
    def put_identity(request: Request) -> Response:
        p = request.params
        group = _arm.require_group(env, p["sub"], p["rg"])
        _arm.check_name("identity", p["name"])
        data = _arm.body_of(request)
        rid = _arm.resource_id(p["sub"], group["name"], TYPE, p["name"])
        existing = env.store.get(Kind.IDENTITY, rid)
        location = _arm.location_of(data, existing["location"] if existing else None)
        if existing and location != existing["location"]:
            raise AzureError(
                400,
                "InvalidResourceLocation",
                f"The resource '{p['name']}' already exists in location '{existing['location']}' "
                f"in resource group '{group['name']}'. A resource with the same name cannot be "
                f"created in location '{location}'.",
            )
        if existing:
            body = {**existing, "tags": data.get("tags") or {}}
        else:
            principal_id, client_id = env.new_guid(), env.new_guid()
            body = {
                "id": rid,
                "name": p["name"],
                "type": TYPE,
                "location": location,
                "tags": data.get("tags") or {},
                "properties": {
                    "tenantId": env.tenant_id,
                    "principalId": principal_id,
                    "clientId": client_id,
                    # "None" or "Regional" (Microsoft.ManagedIdentity 2024-11-30 userAssignedIdentities)
                    "isolationScope": _isolation_scope(data),
                },
            }
            env.register_principal(
                {
                    "object_id": principal_id,
                    "tenant_id": env.tenant_id,
                    "type": "ServicePrincipal",
                    "display_name": p["name"],
                    "enabled": True,
                    "kind": "user_assigned",
                    "resource_id": rid,
                    "client_id": client_id,
                }
            )
        env.store.put(Kind.IDENTITY, body["id"], body)
        return _arm.ok(body, 200 if existing else 201)

    @router.route(ARM, "PATCH", one)
    def patch_identity(request: Request) -> Response:
        p = request.params
        _arm.require_group(env, p["sub"], p["rg"])
        existing = env.store.get(Kind.IDENTITY, _arm.resource_id(p["sub"], p["rg"], TYPE, p["name"]))
        if existing is None:
            raise _arm.not_found(TYPE, p["name"], p["rg"])
        data = _arm.body_of(request)
        if "tags" in data:
            existing["tags"] = data["tags"] or {}
        env.store.put(Kind.IDENTITY, existing["id"], existing)
        return _arm.ok(existing)

    @router.route(ARM, "GET", one)
    def get_identity(request: Request) -> Response:
        p = request.params
        _arm.require_group(env, p["sub"], p["rg"])
        body = env.store.get(Kind.IDENTITY, _arm.resource_id(p["sub"], p["rg"], TYPE, p["name"]))
        if body is None:
            raise _arm.not_found(TYPE, p["name"], p["rg"])
        return _arm.ok(body)

    @router.route(ARM, "DELETE", one)
    def delete_identity(request: Request) -> Response:
        p = request.params
        _arm.require_group(env, p["sub"], p["rg"])
        body = env.store.get(Kind.IDENTITY, _arm.resource_id(p["sub"], p["rg"], TYPE, p["name"]))
        if body is None:
            return Response(204)
        with env.store.transaction():
            forget(env, body)
            env.store.delete(Kind.IDENTITY, body["id"])
        return Response(200)

    @router.route(ARM, "GET", _arm.RG + "/providers/" + TYPE)
    def list_in_group(request: Request) -> Response:
        p = request.params
        group = _arm.require_group(env, p["sub"], p["rg"])
        return _arm.listing(env.store.list(Kind.IDENTITY, group["id"] + "/"), request)

    @router.route(ARM, "GET", "/subscriptions/{sub}/providers/" + TYPE)
    def list_in_subscription(request: Request) -> Response:
        _arm.check_subscription(env, request.params["sub"])
        return _arm.listing(
            env.store.list(Kind.IDENTITY, f"/subscriptions/{request.params['sub']}/"), request
        )

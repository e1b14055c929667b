"""Resource groups: PUT/GET/HEAD/PATCH/DELETE/list, resource listing, and resource moves.

DELETE answers 202 with a Location to poll (as ARM does) and removes everything inside the group:
identities and vault principals go, key vaults go to the soft-deleted list. A Recovery Services
vault that still holds protected items blocks the whole deletion, as Azure refuses it.
"""

from __future__ import annotations

import json

from providers.azurelocal import rules
from providers.azurelocal.http import AzureError, Request, Response
from providers.azurelocal.router import ARM
from providers.azurelocal.services import _arm, operations
from providers.azurelocal.store import Kind

# kinds that live inside a resource group, in the order a cascade removes them
CONTAINED_KINDS = (
    Kind.PROTECTED_ITEM,
    Kind.RECOVERY_POINT,
    Kind.PROTECTION_CONTAINER,
    Kind.BACKUP_POLICY,
    Kind.JOB,
    Kind.RS_VAULT,
    Kind.ROLE_ASSIGNMENT,
    Kind.KEY_VAULT,
    Kind.IDENTITY,
    Kind.DISK_ENCRYPTION_SET,
    Kind.VM,
    Kind.DISK,
)
MOVABLE_KINDS = (
    Kind.IDENTITY,
    Kind.KEY_VAULT,
    Kind.RS_VAULT,
    Kind.BACKUP_POLICY,
    Kind.PROTECTION_CONTAINER,
    Kind.PROTECTED_ITEM,
    Kind.RECOVERY_POINT,
    Kind.JOB,
    Kind.ROLE_ASSIGNMENT,
    Kind.DISK_ENCRYPTION_SET,
)


def _group_body(env, sub: str, rg: str, data: dict, existing: dict | None) -> dict:
    location = _arm.location_of(data, existing["location"] if existing else None)
    if existing and location != existing["location"]:
        raise AzureError(
            409,
            "InvalidResourceGroupLocation",
            f"Invalid resource group location '{location}'. The Resource group already exists "
            f"in location '{existing['location']}'.",
        )
    body = {
        "id": existing["id"] if existing else _arm.group_id(sub, rg),
        "name": existing["name"] if existing else rg,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "tags": data.get("tags") or {},
        "properties": {"provisioningState": "Succeeded"},
        _arm.INTERNAL: (existing or {}).get(_arm.INTERNAL) or {"created": env.now_iso()},
    }
    if data.get("managedBy"):
        body["managedBy"] = data["managedBy"]
    return body


def contained(env, group_id: str) -> dict[str, list[dict]]:
    prefix = group_id.rstrip("/") + "/"
    return {kind: env.store.list(kind, prefix) for kind in CONTAINED_KINDS}


def _forget_identity(env, body: dict) -> None:
    principal = (body.get("identity") or {}).get("principalId")
    if principal:
        env.remove_principal(principal)


def delete_group(env, group: dict) -> None:
    """Cascade-delete a group's content (raises when a vault still protects items)."""
    from providers.azurelocal.services import identities, key_vaults, recovery_vaults

    content = contained(env, group["id"])
    for vault in content[Kind.RS_VAULT]:
        recovery_vaults.ensure_deletable(env, vault)
    cleanups = {
        Kind.KEY_VAULT: key_vaults.soft_delete_vault,
        Kind.IDENTITY: identities.forget,
        Kind.RS_VAULT: recovery_vaults.forget,
        Kind.DISK_ENCRYPTION_SET: _forget_identity,
    }
    with env.store.transaction():
        for kind in CONTAINED_KINDS:
            for body in content[kind]:
                cleanup = cleanups.get(kind)
                if cleanup:
                    cleanup(env, body)
                env.store.delete(kind, body["id"])
        for assignment in env.store.list(Kind.ROLE_ASSIGNMENT):
            scope = assignment["properties"]["scope"].lower()
            if scope == group["id"].lower() or scope.startswith(group["id"].lower() + "/"):
                env.store.delete(Kind.ROLE_ASSIGNMENT, assignment["id"])
        env.store.delete(Kind.RESOURCE_GROUP, group["id"])


def _move(env, source: dict, resource_ids: list[str], target_group_id: str) -> None:
    """Re-home resources (and everything under them) into the target group."""
    with env.store.transaction():
        for rid in resource_ids:
            name_part = rid[len(source["id"]) :]
            new_id = target_group_id + name_part
            for kind in MOVABLE_KINDS:
                for body in env.store.list(kind, rid):
                    if not (
                        body["id"].lower() == rid.lower() or body["id"].lower().startswith(rid.lower() + "/")
                    ):
                        continue
                    text = json.dumps(body)
                    moved = json.loads(_replace_ci(text, rid, new_id))
                    env.store.delete(kind, body["id"])
                    env.store.put(kind, moved["id"], moved)


def _replace_ci(text: str, old: str, new: str) -> str:
    import re

    return re.sub(re.escape(old), new.replace("\\", "\\\\"), text, flags=re.IGNORECASE)


def _move_request(env, request: Request) -> tuple[dict, list[str], str]:
    p = request.params
    source = _arm.require_group(env, p["sub"], p["rg"])
    data = _arm.body_of(request)
    resources = data.get("resources") or []
    target = data.get("targetResourceGroup") or data.get("targetResourceGroupId") or ""
    if not resources or not target:
        raise AzureError(
            400,
            "InvalidRequestContent",
            "A move needs 'resources' (resource ids) and 'targetResourceGroup' (a group id).",
        )
    target_sub, _, target_rg = target.strip("/").partition("/resourceGroups/")
    target_sub = target_sub.split("/")[-1]
    target_group = _arm.require_group(env, target_sub, target_rg.split("/")[0])
    for rid in resources:
        if not rid.lower().startswith(source["id"].lower() + "/providers/"):
            raise AzureError(
                400,
                "ResourceNotInSourceGroup",
                f"The resource '{rid}' is not in the source resource group '{source['name']}'.",
            )
        vault = env.store.get(Kind.RS_VAULT, rid)
        if vault is not None:
            rules.check_vault_move(vault)
    return source, resources, target_group["id"]


def register(router, env) -> None:
    base = "/subscriptions/{sub}/resourcegroups/{rg}"

    @router.route(ARM, "PUT", base)
    def put_group(request: Request) -> Response:
        p = request.params
        _arm.check_subscription(env, p["sub"])
        _arm.check_name("resourcegroup", p["rg"])
        existing = env.store.get(Kind.RESOURCE_GROUP, _arm.group_id(p["sub"], p["rg"]))
        body = _group_body(env, p["sub"], p["rg"], _arm.body_of(request), existing)
        env.store.put(Kind.RESOURCE_GROUP, body["id"], body)
        return _arm.ok(body, 200 if existing else 201)

    @router.route(ARM, "PATCH", base)
    def patch_group(request: Request) -> Response:
        p = request.params
        existing = _arm.require_group(env, p["sub"], p["rg"])
        data = _arm.body_of(request)
        if "tags" in data:
            existing["tags"] = data["tags"] or {}
        if data.get("managedBy"):
            existing["managedBy"] = data["managedBy"]
        env.store.put(Kind.RESOURCE_GROUP, existing["id"], existing)
        return _arm.ok(existing)

    @router.route(ARM, "GET", base)
    def get_group(request: Request) -> Response:
        return _arm.ok(_arm.require_group(env, request.params["sub"], request.params["rg"]))

    @router.route(ARM, "HEAD", base)
    def head_group(request: Request) -> Response:
        p = request.params
        _arm.check_subscription(env, p["sub"])
        found = env.store.get(Kind.RESOURCE_GROUP, _arm.group_id(p["sub"], p["rg"]))
        return Response(204 if found else 404)

    @router.route(ARM, "DELETE", base)
    def delete(request: Request) -> Response:
        p = request.params
        _arm.check_subscription(env, p["sub"])
        # a group that isn't there is 404 ResourceGroupNotFound: ResourceGroups_Delete answers only 200
        # and 202 (resources.json), and azurerm's delete takes a 404 as done
        # (internal/services/resource/resource_group_resource.go: response.WasNotFound)
        group = _arm.require_group(env, p["sub"], p["rg"])
        delete_group(env, group)
        return operations.accepted(env, operations.record_operation(env, group["id"], "DeleteResourceGroup"))

    @router.route(ARM, "GET", "/subscriptions/{sub}/resourcegroups")
    def list_groups(request: Request) -> Response:
        _arm.check_subscription(env, request.params["sub"])
        return _arm.listing(
            env.store.list(Kind.RESOURCE_GROUP, f"/subscriptions/{request.params['sub']}/"), request
        )

    @router.route(ARM, "GET", base + "/resources")
    def list_resources(request: Request) -> Response:
        from providers.azurelocal.services import subscriptions

        p = request.params
        group = _arm.require_group(env, p["sub"], p["rg"])
        return Response(
            200,
            {
                "value": subscriptions.resources_under(
                    env, group["id"] + "/providers/", request.query.get("$filter")
                )
            },
        )

    @router.route(ARM, "POST", base + "/validateMoveResources")
    def validate_move(request: Request) -> Response:
        _move_request(env, request)
        return operations.accepted(
            env, operations.record_operation(env, request.path, "ValidateMoveResources")
        )

    @router.route(ARM, "POST", base + "/moveResources")
    def move(request: Request) -> Response:
        source, resources, target_id = _move_request(env, request)
        _move(env, source, resources, target_id)
        return operations.accepted(env, operations.record_operation(env, request.path, "MoveResources"))

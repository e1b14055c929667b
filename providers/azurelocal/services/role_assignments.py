"""Role assignments at any scope and the built-in role definitions they point to.

A new principal may not be visible to role assignments yet: for ``principal_propagation_seconds``
after its creation (a fault setting) the emulator answers PrincipalNotFound, as Azure AD
replication does. ``createdOn`` feeds the grant propagation delay of ``access``.
"""

from __future__ import annotations

import re
import uuid

from providers.azurelocal import access
from providers.azurelocal.app import parse_time
from providers.azurelocal.http import AzureError, Request, Response
from providers.azurelocal.router import ARM
from providers.azurelocal.services import _arm
from providers.azurelocal.store import Kind

PROVIDER = "/providers/Microsoft.Authorization"
TYPE = "Microsoft.Authorization/roleAssignments"
PRINCIPAL_TYPES = {
    "user": "User",
    "group": "Group",
    "serviceprincipal": "ServicePrincipal",
    "foreigngroup": "ForeignGroup",
    "device": "Device",
}


def definition_body(role: access.BuiltinRole, scope: str) -> dict:
    return {
        "id": access.role_definition_id(scope if scope != "/" else "", role.guid),
        "name": role.guid,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": role.name,
            "type": "BuiltInRole",
            "description": role.description,
            "assignableScopes": ["/"],
            "permissions": [
                {
                    "actions": list(role.actions),
                    "notActions": [],
                    "dataActions": list(role.data_actions),
                    "notDataActions": [],
                }
            ],
            "createdOn": "2015-02-02T21:55:09.8806423Z",
            "updatedOn": "2024-01-01T00:00:00Z",
        },
    }


def _check_principal(env, principal_id: str, principal_type: str | None) -> dict:
    record = env.principal(principal_id)
    # A principal minutes old is not replicated to every directory replica yet: Azure answers 400
    # PrincipalNotFound (the message suggests retrying), and azurerm retries it
    # (internal/services/authorization/role_assignment_resource.go retries a 400 naming PrincipalNotFound).
    delay = env.faults.principal_delay(principal_id) if record is not None else 0.0
    young = (
        record is not None
        and delay
        and (env.clock.now() - parse_time(record.get("created"))).total_seconds() < delay
    )
    if record is None or young:
        raise AzureError(
            400,
            "PrincipalNotFound",
            f"Principal {principal_id.replace('-', '')} does not exist in the directory {env.tenant_id}. "
            f"Check that you have the correct principal ID. If you are creating this principal and then "
            f"immediately assigning a role, this error might be related to a replication delay; "
            f"retry, or set principalType.",
        )
    if principal_type:
        given = PRINCIPAL_TYPES.get(principal_type.lower())
        if given is None or given != record["type"]:
            raise AzureError(
                400,
                "UnmatchedPrincipalType",
                f"The PrincipalId '{principal_id.replace('-', '')}' has type '{record['type']}', which is "
                f"different from specified PrincipalType '{principal_type}'.",
            )
    return record


def _role(role_definition_id: str) -> access.BuiltinRole:
    role = access.ROLES_BY_GUID.get(access.role_guid(role_definition_id))
    if role is None:
        raise AzureError(
            400,
            "RoleDefinitionDoesNotExist",
            f"The specified role definition with ID '{access.role_guid(role_definition_id)}' does not exist.",
        )
    return role


def _in_or_below(assignment_scope: str, scope: str) -> bool:
    a, s = assignment_scope.rstrip("/").lower(), scope.rstrip("/").lower()
    return a == s or a.startswith(s + "/")


def _above_or_at(assignment_scope: str, scope: str) -> bool:
    a, s = assignment_scope.rstrip("/").lower(), scope.rstrip("/").lower()
    return s == a or s.startswith(a + "/")


def _filtered(env, scope: str, query: dict) -> list[dict]:
    text = query.get("$filter") or ""
    items = env.store.list(Kind.ROLE_ASSIGNMENT)
    if "atscope()" in text.lower():
        items = [i for i in items if _above_or_at(i["properties"]["scope"], scope)]
    else:
        items = [
            i
            for i in items
            if _in_or_below(i["properties"]["scope"], scope) or _above_or_at(i["properties"]["scope"], scope)
        ]
    m = re.search(r"(?:principalId|assignedTo\()\s*(?:eq\s*)?'([^']+)'", text, re.IGNORECASE)
    if m:
        items = [i for i in items if i["properties"]["principalId"].lower() == m.group(1).lower()]
    return items


def register(router, env) -> None:
    one = "{scope:path}" + PROVIDER + "/roleAssignments/{name}"

    @router.route(ARM, "PUT", one)
    def put_assignment(request: Request) -> Response:
        p = request.params
        scope = "/" + p["scope"].strip("/")
        props = _arm.body_of(request).get("properties") or {}
        try:
            uuid.UUID(p["name"])
        except ValueError:
            raise AzureError(
                400,
                "InvalidRoleAssignmentId",
                f"The role assignment ID '{p['name']}' is not valid. The role assignment ID must be a GUID.",
            ) from None
        if not props.get("principalId") or not props.get("roleDefinitionId"):
            raise AzureError(400, "InvalidRequestContent", "roleDefinitionId and principalId are required.")
        role = _role(props["roleDefinitionId"])
        rid = f"{scope}{PROVIDER}/roleAssignments/{p['name']}"
        existing = env.store.get(Kind.ROLE_ASSIGNMENT, rid)
        if existing:
            same = (
                existing["properties"]["principalId"].lower() == props["principalId"].lower()
                and access.role_guid(existing["properties"]["roleDefinitionId"]) == role.guid
            )
            if not same:
                raise AzureError(
                    400,
                    "RoleAssignmentUpdateNotPermitted",
                    "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                )
            return _arm.ok(existing, 201)
        record = _check_principal(env, props["principalId"], props.get("principalType"))
        # one assignment of a role to a principal at a scope, whatever its name: a second PUT is 409
        # RoleAssignmentExists "The role assignment already exists." even when identical (Azure/azure-cli
        # pull request 8599; hashicorp/terraform-provider-azurerm issue 17421 shows the wire answer)
        for other in env.store.list(Kind.ROLE_ASSIGNMENT):
            op = other["properties"]
            if (
                op["scope"].lower() == scope.lower()
                and op["principalId"].lower() == props["principalId"].lower()
                and access.role_guid(op["roleDefinitionId"]) == role.guid
            ):
                raise AzureError(409, "RoleAssignmentExists", "The role assignment already exists.")
        now = env.now_iso()
        sub_scope = f"/subscriptions/{env.subscription_id}"
        body = {
            "id": rid,
            "name": p["name"],
            "type": TYPE,
            "properties": {
                "roleDefinitionId": access.role_definition_id(sub_scope, role.guid),
                "principalId": props["principalId"],
                "principalType": record["type"],
                "scope": scope,
                "condition": props.get("condition"),
                "conditionVersion": props.get("conditionVersion"),
                "description": props.get("description"),
                "createdOn": now,
                "updatedOn": now,
                "createdBy": _arm.caller_id(request),
                "updatedBy": _arm.caller_id(request),
                "delegatedManagedIdentityResourceId": props.get("delegatedManagedIdentityResourceId"),
            },
        }
        env.store.put(Kind.ROLE_ASSIGNMENT, rid, body)
        return _arm.ok(body, 201)

    @router.route(ARM, "GET", one)
    def get_assignment(request: Request) -> Response:
        p = request.params
        body = env.store.get(
            Kind.ROLE_ASSIGNMENT, f"/{p['scope'].strip('/')}{PROVIDER}/roleAssignments/{p['name']}"
        )
        if body is None:
            raise AzureError(
                404, "RoleAssignmentNotFound", f"The role assignment '{p['name']}' is not found."
            )
        return _arm.ok(body)

    @router.route(ARM, "DELETE", one)
    def delete_assignment(request: Request) -> Response:
        p = request.params
        rid = f"/{p['scope'].strip('/')}{PROVIDER}/roleAssignments/{p['name']}"
        body = env.store.get(Kind.ROLE_ASSIGNMENT, rid)
        if body is None:
            return Response(204)
        env.store.delete(Kind.ROLE_ASSIGNMENT, rid)
        return _arm.ok(body)

    @router.route(ARM, "GET", "{scope:path}" + PROVIDER + "/roleAssignments")
    def list_assignments(request: Request) -> Response:
        scope = "/" + request.params["scope"].strip("/")
        return _arm.listing(_filtered(env, scope, request.query), request)

    def get_definition(request: Request) -> Response:
        p = request.params
        role = access.ROLES_BY_GUID.get(p["guid"].lower())
        if role is None:
            raise AzureError(
                404, "RoleDefinitionDoesNotExist", f"The role definition '{p['guid']}' could not be found."
            )
        return _arm.ok(definition_body(role, "/" + p.get("scope", "").strip("/")))

    def list_definitions(request: Request) -> Response:
        scope = "/" + request.params.get("scope", "").strip("/")
        text = request.query.get("$filter") or ""
        m = re.search(r"roleName\s+eq\s+'([^']+)'", text, re.IGNORECASE)
        roles = (
            [access.ROLES_BY_NAME[m.group(1).lower()]]
            if m and m.group(1).lower() in access.ROLES_BY_NAME
            else ([] if m else list(access.BUILTIN_ROLES))
        )
        return Response(200, {"value": [definition_body(r, scope) for r in roles]})

    for prefix in ("{scope:path}", ""):
        router.add(ARM, "GET", prefix + PROVIDER + "/roleDefinitions/{guid}", get_definition)
        router.add(ARM, "GET", prefix + PROVIDER + "/roleDefinitions", list_definitions)

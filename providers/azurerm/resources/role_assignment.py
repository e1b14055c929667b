"""azurerm_role_assignment <-> ``{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}``.

A role named by ``role_definition_name`` is looked up at the scope; the
assignment's name is a new GUID from the injected clock unless ``name`` is set.
A principal minutes old may be unknown to the authorization API yet
(``PrincipalNotFound``): the create is retried within a bound, visibly. Every
argument forces a new assignment (Azure can't change one in place).
"""

from __future__ import annotations

from typing import Any

from providers.azurerm.consistency import PRINCIPAL_REPLICATION
from providers.azurerm.ids import same_id, split_scoped_id
from providers.azurerm.listing import read_body, role_assignments_of
from providers.azurerm.resources.base import Context, Handler, call, dig, not_found_is_none, value, wire
from providers.azurerm.resources.grants import wait_for_role_assignment
from providers.base import PermanentError

MARKER = "/providers/Microsoft.Authorization/roleAssignments/"
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")


def find_role_definition_id(ctx: Context, scope: str, role_name: str) -> str:
    auth = ctx.clients.authorization()
    escaped = role_name.replace("'", "''")
    found = call(lambda: list(auth.role_definitions.list(scope, filter=f"roleName eq '{escaped}'")))
    for rd in found:
        body = wire(rd)
        if (dig(body, "properties.roleName") or "").lower() == role_name.lower():
            return body["id"]
    raise PermanentError(
        f"no role named {role_name!r} is defined at scope {scope}: check the spelling "
        f'(e.g. "Key Vault Crypto Service Encryption User")',
        code="RoleDefinitionNotFound",
    )


def _role_guid(role_definition_id: Any) -> str:
    """A role definition's GUID: the same role is defined at every scope under one GUID."""
    return str(role_definition_id or "").rstrip("/").rsplit("/", 1)[-1].lower()


def role_name_of(ctx: Context, role_definition_id: str) -> str | None:
    got = not_found_is_none(
        lambda: ctx.clients.authorization().role_definitions.get_by_id(role_definition_id)
    )
    return None if got is None else dig(wire(got), "properties.roleName")


def to_state(ctx: Context, body: dict[str, Any], prior: dict[str, Any] | None = None) -> dict[str, Any]:
    prior = prior or {}
    props = body.get("properties") or {}
    scope, name = split_scoped_id(body["id"], MARKER)
    rd_id = props.get("roleDefinitionId") or ""
    rd_name = (
        prior.get("role_definition_name")
        if same_id(prior.get("role_definition_id"), rd_id) and value(prior, "role_definition_name")
        else role_name_of(ctx, rd_id)
    )
    return {
        "id": body["id"],
        "name": name,
        "scope": prior.get("scope")
        if same_id(prior.get("scope"), props.get("scope") or scope)
        else props.get("scope") or scope,
        "role_definition_id": prior.get("role_definition_id")
        if same_id(prior.get("role_definition_id"), rd_id)
        else rd_id,
        "role_definition_name": rd_name,
        "principal_id": props.get("principalId"),
        "principal_type": props.get("principalType"),
        "description": props.get("description") or None,
        "condition": props.get("condition") or None,
        "condition_version": props.get("conditionVersion") or None,
        "skip_service_principal_aad_check": bool(value(prior, "skip_service_principal_aad_check", False)),
        "delegated_managed_identity_resource_id": props.get("delegatedManagedIdentityResourceId") or None,
    }


class RoleAssignment(Handler):
    type_name = "azurerm_role_assignment"
    refreshed = (
        "role_definition_id",
        "principal_id",
        "principal_type",
        "scope",
        "description",
        "condition",
        "condition_version",
        "delegated_managed_identity_resource_id",
    )
    # azurerm's schema: optional and computed, not force-new; it only steers the create
    updatable = ("skip_service_principal_aad_check",)

    def create(self, ctx: Context, planned: dict[str, Any]) -> dict[str, Any]:
        scope = planned["scope"]
        rd_id = value(planned, "role_definition_id") or find_role_definition_id(
            ctx, scope, planned["role_definition_name"]
        )
        name = value(planned, "name") or ctx.clock.new_id()
        props: dict[str, Any] = {"roleDefinitionId": rd_id, "principalId": planned["principal_id"]}
        if value(planned, "principal_type"):
            props["principalType"] = planned["principal_type"]
        elif value(planned, "skip_service_principal_aad_check", False):
            # naming the type lets ARM skip the directory lookup a fresh identity may fail
            props["principalType"] = "ServicePrincipal"
        for attr, prop in (
            ("description", "description"),
            ("condition", "condition"),
            ("condition_version", "conditionVersion"),
            ("delegated_managed_identity_resource_id", "delegatedManagedIdentityResourceId"),
        ):
            if value(planned, attr):
                props[prop] = planned[attr]
        auth = ctx.clients.authorization()
        body = {"properties": props}
        created = ctx.waiter.retrying(
            f"the role assignment for principal {planned['principal_id']}",
            lambda: call(lambda: auth.role_assignments.create(scope, name, body)),
            frozenset({"PrincipalNotFound"}),
            PRINCIPAL_REPLICATION,
        )
        rid = wire(created)["id"]
        got = wait_for_role_assignment(
            ctx,
            lambda: not_found_is_none(lambda: auth.role_assignments.get_by_id(rid)),
            f"the role assignment {rid}",
        )
        return to_state(
            ctx, wire(got), {**planned, "role_definition_id": value(planned, "role_definition_id") or rd_id}
        )

    def update(self, ctx, prior, planned, changed):
        got = self.read(
            ctx,
            {**prior, "skip_service_principal_aad_check": planned.get("skip_service_principal_aad_check")},
        )
        if got is None:
            raise PermanentError(
                f"the role assignment {prior['id']} no longer exists", code="RoleAssignmentNotFound"
            )
        return got

    def existing(self, ctx: Context, planned: dict[str, Any], id_: str) -> str | None:
        """An assignment of this name, or one granting the same role to the same
        principal at the same scope under another name (Azure refuses a second one)."""
        got = super().existing(ctx, planned, id_)
        if got:
            return got
        scope, principal = planned["scope"], planned["principal_id"]
        rd_id = value(planned, "role_definition_id") or find_role_definition_id(
            ctx, scope, planned["role_definition_name"]
        )
        auth = ctx.clients.authorization()
        escaped = str(principal).replace("'", "''")
        found = (
            not_found_is_none(
                lambda: list(
                    auth.role_assignments.list_for_scope(scope, filter=f"principalId eq '{escaped}'")
                )
            )
            or []
        )
        for ra in found:
            body = wire(ra)
            props = body.get("properties") or {}
            if (
                same_id(props.get("scope"), scope)
                and same_id(props.get("principalId"), principal)
                and _role_guid(props.get("roleDefinitionId")) == _role_guid(rd_id)
            ):
                return body["id"]
        return None

    def read(self, ctx: Context, prior: dict[str, Any]) -> dict[str, Any] | None:
        got = read_body(
            ctx,
            role_assignments_of(prior["id"]),
            prior["id"],
            lambda: ctx.clients.authorization().role_assignments.get_by_id(prior["id"]),
        )
        return None if got is None else to_state(ctx, got, prior)

    def delete(self, ctx: Context, prior: dict[str, Any]) -> None:
        not_found_is_none(lambda: ctx.clients.authorization().role_assignments.delete_by_id(prior["id"]))

"""azurerm_user_assigned_identity <-> ``Microsoft.ManagedIdentity/userAssignedIdentities``."""

from __future__ import annotations

from typing import Any

from providers.azurerm.ids import parse_resource_id
from providers.azurerm.listing import identities_of, read_body
from providers.azurerm.resources.base import (
    Context,
    DataSource,
    Handler,
    call,
    dig,
    keep_location,
    known,
    not_found_is_none,
    tags_of,
    value,
    wire,
)

TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"


def to_state(body: dict, prior: dict | None = None) -> dict[str, Any]:
    prior = prior or {}
    rid = parse_resource_id(body["id"], expect=TYPE)
    return {
        "id": str(rid),
        "name": rid.name,
        "resource_group_name": rid.resource_group,
        "location": keep_location(prior.get("location"), body.get("location")),
        "tags": dict(body.get("tags") or {}),
        "principal_id": dig(body, "properties.principalId"),
        "client_id": dig(body, "properties.clientId"),
        "tenant_id": dig(body, "properties.tenantId"),
        "isolation_scope": _isolation_scope(dig(body, "properties.isolationScope"), prior),
    }


def _isolation_scope(azure: str | None, prior: dict) -> str | None:
    """Azure reports "None" for an identity nobody scoped; that is what unset means."""
    if str(azure or "None") == "None" and not known(prior.get("isolation_scope")):
        return None
    return azure


class UserAssignedIdentity(Handler):
    type_name = "azurerm_user_assigned_identity"
    refreshed = ("location", "tags", "principal_id", "client_id", "tenant_id", "isolation_scope")
    updatable = ("tags",)
    implicit = {"isolation_scope": "None"}

    def _put(self, ctx: Context, rg: str, name: str, planned: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"location": planned["location"], "tags": tags_of(planned)}
        if value(planned, "isolation_scope"):
            body["properties"] = {"isolationScope": planned["isolation_scope"]}
        out = call(lambda: ctx.clients.msi().user_assigned_identities.create_or_update(rg, name, body))
        return to_state(wire(out), planned)

    def create(self, ctx: Context, planned: dict[str, Any]) -> dict[str, Any]:
        return self._put(ctx, planned["resource_group_name"], planned["name"], planned)

    def read(self, ctx: Context, prior: dict[str, Any]) -> dict[str, Any] | None:
        rid = parse_resource_id(prior["id"], expect=TYPE)
        got = read_body(
            ctx,
            identities_of(str(rid)),
            str(rid),
            lambda: ctx.clients.msi().user_assigned_identities.get(rid.resource_group, rid.name),
        )
        return None if got is None else to_state(got, prior)

    def update(self, ctx, prior, planned, changed):
        rid = parse_resource_id(prior["id"], expect=TYPE)
        body = {"tags": tags_of(planned)}
        out = call(
            lambda: ctx.clients.msi().user_assigned_identities.update(rid.resource_group, rid.name, body)
        )
        return to_state(wire(out), prior)

    def delete(self, ctx: Context, prior: dict[str, Any]) -> None:
        rid = parse_resource_id(prior["id"], expect=TYPE)
        not_found_is_none(
            lambda: ctx.clients.msi().user_assigned_identities.delete(rid.resource_group, rid.name)
        )


class UserAssignedIdentityData(DataSource):
    type_name = "azurerm_user_assigned_identity"

    def read(self, ctx: Context, config: dict[str, Any]) -> dict[str, Any] | None:
        rg, name = config["resource_group_name"], config["name"]
        got = not_found_is_none(lambda: ctx.clients.msi().user_assigned_identities.get(rg, name))
        return None if got is None else to_state(wire(got))

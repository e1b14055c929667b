"""azurerm_resource_group <-> ``/subscriptions/{s}/resourceGroups/{name}``."""

from __future__ import annotations

from typing import Any

from providers.azurerm.ids import parse_resource_id, resource_group_id
from providers.azurerm.listing import read_body, resource_groups_of
from providers.azurerm.resources.base import (
    Context,
    DataSource,
    Handler,
    call,
    dig,
    keep_location,
    not_found_is_none,
    tags_of,
    value,
    wait_lro,
    wire,
)
from providers.base import PermanentError


def to_state(body: dict, prior: dict | None = None) -> dict[str, Any]:
    prior = prior or {}
    rid = parse_resource_id(body["id"])
    return {
        "id": str(rid),
        "name": body.get("name") or rid.resource_group,
        "location": keep_location(prior.get("location"), body.get("location")),
        "managed_by": body.get("managedBy"),
        "tags": dict(body.get("tags") or {}),
    }


class ResourceGroup(Handler):
    type_name = "azurerm_resource_group"
    refreshed = ("location", "tags", "managed_by")
    updatable = ("tags", "managed_by")

    def create(self, ctx: Context, planned: dict[str, Any]) -> dict[str, Any]:
        name = planned["name"]
        body = {"location": planned["location"], "tags": tags_of(planned)}
        if value(planned, "managed_by"):
            body["managedBy"] = planned["managed_by"]
        out = call(lambda: ctx.clients.resources().resource_groups.create_or_update(name, body))
        return to_state(wire(out), planned)

    def read(self, ctx: Context, prior: dict[str, Any]) -> dict[str, Any] | None:
        rid = parse_resource_id(prior["id"], expect="Microsoft.Resources/resourceGroups")
        got = read_body(
            ctx,
            resource_groups_of(str(rid)),
            str(rid),
            lambda: ctx.clients.resources().resource_groups.get(rid.resource_group),
        )
        return None if got is None else to_state(got, prior)

    def update(self, ctx, prior, planned, changed):
        rid = parse_resource_id(prior["id"])
        patch: dict[str, Any] = {"tags": tags_of(planned)}
        if "managed_by" in changed:
            patch["managedBy"] = value(planned, "managed_by")
        out = call(lambda: ctx.clients.resources().resource_groups.update(rid.resource_group, patch))
        return to_state(wire(out), planned)

    def delete(self, ctx: Context, prior: dict[str, Any]) -> None:
        rid = parse_resource_id(prior["id"])
        if ctx.feature("resource_group", "prevent_deletion_if_contains_resources", True):
            inside = (
                not_found_is_none(
                    lambda: [
                        wire(r)["id"]
                        for r in ctx.clients.resources().resources.list_by_resource_group(rid.resource_group)
                    ]
                )
                or []
            )
            if inside:
                shown = "\n".join(f"  {i}" for i in inside[:10]) + ("\n  ..." if len(inside) > 10 else "")
                raise PermanentError(
                    f"resource group {rid.resource_group} still holds {len(inside)} resource(s) vaultform "
                    f"doesn't manage here:\n{shown}\nRemove them first, or set features {{ resource_group "
                    f"{{ prevent_deletion_if_contains_resources = false }} }} in the provider block.",
                    code="ResourceGroupNotEmpty",
                )
        poller = not_found_is_none(
            lambda: ctx.clients.resources().resource_groups.begin_delete(rid.resource_group)
        )
        if poller is not None:
            not_found_is_none(lambda: wait_lro(poller))


class ResourceGroupData(DataSource):
    type_name = "azurerm_resource_group"

    def read(self, ctx: Context, config: dict[str, Any]) -> dict[str, Any] | None:
        name = config["name"]
        got = not_found_is_none(lambda: ctx.clients.resources().resource_groups.get(name))
        if got is None:
            return None
        body = wire(got)
        return {
            "id": str(parse_resource_id(body["id"])),
            "name": body.get("name") or name,
            "location": dig(body, "location"),
            "managed_by": body.get("managedBy"),
            "tags": dict(body.get("tags") or {}),
        }


def group_id(ctx: Context, name: str) -> str:
    return resource_group_id(ctx.subscription_id, name)

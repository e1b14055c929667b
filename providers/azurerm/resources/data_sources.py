"""Data sources that aren't the read side of a managed type: the caller, and VMs.

``azurerm_client_config`` comes from the credential's token (a local token names
the principal; a real one is a JWT whose tid/oid/appid claims say who it is) and
the configured subscription. ``azurerm_virtual_machine`` is read through the
generic resources client (vaultform carries no compute SDK).
"""

from __future__ import annotations

from typing import Any

from providers.azurerm.ids import ResourceId
from providers.azurerm.resources.base import Context, DataSource, dig, keep_location, not_found_is_none, wire
from providers.azurerm.resources.recovery_services_vault import identity_from_wire

VM_API_VERSION = "2024-03-01"


class ClientConfigData(DataSource):
    type_name = "azurerm_client_config"

    def read(self, ctx: Context, config: dict[str, Any]) -> dict[str, Any] | None:
        who = ctx.clients.caller()
        return {
            "id": (
                f"clientConfigs/clientId={who.client_id};objectId={who.object_id};"
                f"subscriptionId={who.subscription_id};tenantId={who.tenant_id}"
            ),
            "client_id": who.client_id,
            "object_id": who.object_id,
            "subscription_id": who.subscription_id,
            "tenant_id": who.tenant_id,
        }


def _power_state(view: dict[str, Any] | None) -> str | None:
    for status in (view or {}).get("statuses") or []:
        code = str(status.get("code") or "")
        if code.lower().startswith("powerstate/"):
            return code.split("/", 1)[1]
    return None


class VirtualMachineData(DataSource):
    type_name = "azurerm_virtual_machine"

    def read(self, ctx: Context, config: dict[str, Any]) -> dict[str, Any] | None:
        vm_id = str(
            ResourceId(
                ctx.subscription_id,
                config["resource_group_name"],
                "Microsoft.Compute",
                ("virtualMachines",),
                (config["name"],),
            )
        )
        res = ctx.clients.resources().resources
        got = not_found_is_none(lambda: res.get_by_id(vm_id, api_version=VM_API_VERSION))
        if got is None:
            return None
        body = wire(got)
        view = dig(body, "properties.instanceView") or wire(
            not_found_is_none(lambda: res.get_by_id(f"{vm_id}/instanceView", api_version=VM_API_VERSION))
        )
        return {
            "id": body.get("id") or vm_id,
            "name": body.get("name") or config["name"],
            "resource_group_name": config["resource_group_name"],
            "location": keep_location(None, body.get("location")),
            "power_state": _power_state(view if isinstance(view, dict) else dig(view, "properties")),
            # addresses live on network interfaces, which vaultform doesn't read
            "private_ip_address": None,
            "private_ip_addresses": [],
            "public_ip_address": None,
            "public_ip_addresses": [],
            "identity": identity_from_wire(body.get("identity"), None),
        }

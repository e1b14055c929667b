"""What the plan says about a VM another vault protects already: Azure Backup won't protect it twice.

A VM is protected by one Recovery Services vault at a time; protecting it in a second one is refused
at apply ("Virtual machine is already registered\\registering with another recovery services vault",
Azure/terraform-provider-azapi issue 398), after the rest of the plan has been made - a vault
created and encrypted for nothing. It happens when two configurations (or two workspaces of one)
protect the same VM, or when the portal protected it first. Azure Backup answers the question before
anything is made: Backup Status - Get (``backup_status.get``; the check `az backup protection
check-vm` makes, Azure/azure-cli issue 21018) names the vault that protects a VM. The plan asks it
for each VM it starts protecting whose id and vault are known when planning, and refuses the
protection the apply would fail on, naming the vault that holds the VM - or, when that is the very
vault (protected outside this state), the import block that takes it over. A backup soft-deleted in
the same vault is no obstacle: the create undeletes it.
"""

from __future__ import annotations

from typing import Any

from providers.azurerm.ids import InvalidIdError, parse_resource_id
from providers.azurerm.resources.backup_protected_vm import VM_TYPE
from providers.azurerm.resources.base import Context, call, dig, not_found_is_none, wire
from providers.azurerm.resources.data_sources import VM_API_VERSION
from providers.base import PlannedInstance
from reconciler.diagnostics import Diagnostic, error

PROTECTED_VM = "azurerm_backup_protected_vm"


def _known_text(value: Any) -> str | None:
    """A non-empty string (an unknown value is not one)."""
    return value if isinstance(value, str) and value else None


def _vault_name(vault_id: str) -> tuple[str, str]:
    """(resource group, vault name) of a vault id as Backup Status writes it (``.../Vaults/NAME``)."""
    parts = vault_id.rstrip("/").split("/")
    lower = [p.lower() for p in parts]
    group = parts[lower.index("resourcegroups") + 1] if "resourcegroups" in lower else ""
    return group, parts[-1]


def vm_protected_elsewhere(ctx: Context, inst: PlannedInstance) -> Diagnostic | None:
    if inst.type_name != PROTECTED_VM or inst.action != "create" or inst.after is None:
        return None
    vm_id = _known_text(inst.after.get("source_vm_id"))
    group = _known_text(inst.after.get("resource_group_name"))
    vault = _known_text(inst.after.get("recovery_vault_name"))
    if vm_id is None or group is None or vault is None:
        return None
    try:
        vm = parse_resource_id(vm_id, expect=VM_TYPE)
    except InvalidIdError:
        return None  # the schema's check names it
    found = not_found_is_none(
        lambda: ctx.clients.resources().resources.get_by_id(str(vm), api_version=VM_API_VERSION)
    )
    location = _known_text(wire(found).get("location")) if found is not None else None
    if location is None:
        return None  # no such VM (yet): the protection's own create says so
    status = wire(
        call(
            lambda: ctx.clients.backup().backup_status.get(
                location, {"resourceId": str(vm), "resourceType": "VM"}
            )
        )
    )
    holder = _known_text(status.get("vaultId"))
    if str(status.get("protectionStatus") or "").lower() != "protected" or holder is None:
        return None
    holder_group, holder_name = _vault_name(holder)
    address = str(inst.address)
    if (holder_group.lower(), holder_name.lower()) == (group.lower(), vault.lower()):
        item = _known_text(status.get("protectedItemName")) or ""
        container = _known_text(status.get("containerName")) or ""
        held = not_found_is_none(
            lambda: ctx.clients.backup().protected_items.get(vault, group, "Azure", container, item)
        )
        if held is None or dig(wire(held), "properties.isScheduledForDeferredDelete") is True:
            return None  # soft-deleted here: protecting it again brings it back (the create does)
        import_id = f"{holder}/backupFabrics/Azure/protectionContainers/{container}/protectedItems/{item}"
        return error(
            "vm_already_protected",
            f"{address} is protected in Azure already",
            f"Vault {vault} already protects {vm.name}, outside this state, so creating {address} "
            f"fails at apply after the rest of the plan has been applied. Take the protection over "
            f'instead: add an import block with to = {address} and id = "{import_id}" to the '
            "configuration (or run `vaultform import` with that address and id), then plan again.",
            address=address,
        )
    return error(
        "vm_already_protected",
        f"{vm.name} is protected by another vault",
        f"Azure Backup protects a VM in one vault at a time, and vault {holder_name} (resource group "
        f"{holder_group}) protects {vm.name} now: creating {address} in vault {vault} fails at apply, "
        "after the rest of the plan has been applied. Stop the VM's protection in "
        f"{holder_name} first (where it is managed: its configuration, or az backup protection "
        "disable), or leave it there and drop this protection.",
        address=address,
    )

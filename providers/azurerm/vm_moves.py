"""A protected VM moved to another vault: Azure Backup protects a VM in one vault at a time.

Changing a protected VM's vault replaces its azurerm_backup_protected_vm: the old protection is
stopped with its data deleted, and the VM protected in the new vault. A vault with soft delete on
keeps those deleted backups for 14 days or more. With basic soft delete the VM still counts as
that vault's meanwhile (its backup item stays, isScheduledForDeferredDelete), so the new vault's
protection is refused ("already registered with another recovery services vault",
Azure/terraform-provider-azapi issue 398) - after the old protection is gone: the VM is left
unprotected. Enhanced soft delete lets a soft-deleted item be registered with another vault
(Microsoft Learn, "enhanced soft delete": "re-registration of soft deleted items"), and which one a
real vault has is not read here - so the plan warns rather than refuses. Made the other way round
(create_before_destroy) the new protection comes while the old one is still there, refused the
same way (refused: that holds with either soft delete). A pure look at the planned instances.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from providers.azurerm.planned_text import text_of
from providers.base import PlannedInstance
from reconciler.diagnostics import Diagnostic, error, warning

VAULT = "azurerm_recovery_services_vault"
PROTECTED_VM = "azurerm_backup_protected_vm"


def _place(values: dict[str, Any] | None) -> tuple[str, str] | None:
    group, vault = text_of(values, "resource_group_name"), text_of(values, "recovery_vault_name")
    return (group, vault) if group and vault else None


def vms_moved_between_vaults(instances: Iterable[PlannedInstance]) -> list[Diagnostic]:
    instances = list(instances)
    soft_delete = {}  # (group, vault) -> whether the vault keeps deleted backups (now)
    for v in instances:
        if v.type_name == VAULT and v.before is not None:
            key = (text_of(v.before, "resource_group_name"), text_of(v.before, "name"))
            soft_delete[key] = v.before.get("soft_delete_enabled", True) is not False
    found = []
    for item in instances:
        if item.type_name != PROTECTED_VM or item.action != "replace":
            continue
        old, new = _place(item.before), _place(item.after)
        vm_before, vm_after = text_of(item.before, "source_vm_id"), text_of(item.after, "source_vm_id")
        if old is None or new is None or old == new or not vm_before or vm_before != vm_after:
            continue
        address, vm = str(item.address), vm_before.rsplit("/", 1)[-1]
        if item.create_before_destroy:
            found.append(
                error(
                    "vm_move_not_first",
                    f"{address} can't protect {vm} in {new[1]} before {old[1]} lets it go",
                    f"Azure Backup protects a VM in one vault at a time, so protecting {vm} in vault "
                    f"{new[1]} while {old[1]} still does fails at apply. Remove create_before_destroy "
                    f"from {address}: the old protection goes first.",
                    address=address,
                )
            )
        elif soft_delete.get(old) is True:  # a vault the plan does not hold: not known, not judged
            found.append(
                warning(
                    "vm_move_soft_deleted",
                    f"{vm} may be left unprotected by its move from vault {old[1]} to {new[1]}",
                    f"Moving {address} to vault {new[1]} deletes {vm}'s protection in {old[1]}, whose "
                    "soft delete keeps the deleted backups (14 days or more). With basic soft delete the "
                    f"VM stays {old[1]}'s meanwhile and Azure Backup refuses to protect it in {new[1]}: "
                    "the apply deletes the old protection, then fails, leaving the VM unprotected (the "
                    "local Azure behaves so). With enhanced soft delete a soft-deleted item may be "
                    "registered with another vault, and the move goes through. If the old vault's soft "
                    f"delete is basic: keep the VM where it is; or stop its protection in {old[1]} and move "
                    "it once the soft-deleted backups are gone; or, where the vault allows it, turn soft "
                    f"delete off on {old[1]} (soft_delete_enabled = false) and apply that first.",
                    address=address,
                )
            )
    return found

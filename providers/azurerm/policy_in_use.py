"""A backup policy that protects VMs is replaced only by making the new one first.

Azure Backup refuses to delete a policy while items use it (the delete answers an error, and
Microsoft's guide to deleting a vault has the items moved or stopped first). A policy replaced
delete-first (its name changed, without create_before_destroy) is deleted while the protected
VMs still name it: the apply fails there, after what came before it. With create_before_destroy
the new policy is made, the VMs move to it, and the old one goes last (the apply graph waits for
the dependents' updates before deleting a replaced object's old one). The plan says so first and
names the lifecycle setting; a pure look at the planned instances, no call to Azure.
"""

from __future__ import annotations

from collections.abc import Iterable

from providers.azurerm.planned_text import text_of
from providers.base import PlannedInstance
from reconciler.diagnostics import Diagnostic, error

POLICY = "azurerm_backup_policy_vm"
PROTECTED_VM = "azurerm_backup_protected_vm"
_STAYING = ("no-op", "update")  # a protected VM that is there before and after the policy's delete


def policies_in_use(instances: Iterable[PlannedInstance]) -> list[Diagnostic]:
    instances = list(instances)
    users: dict[str, list[str]] = {}
    for item in instances:
        if item.type_name == PROTECTED_VM and item.action in _STAYING:
            used = text_of(item.before, "backup_policy_id")
            if used:
                users.setdefault(used, []).append(str(item.address))
    found = []
    for policy in instances:
        if policy.type_name != POLICY or policy.action != "replace" or policy.create_before_destroy:
            continue
        using = users.get(text_of(policy.before, "id"), [])
        if not using:
            continue
        address = str(policy.address)
        found.append(
            error(
                "backup_policy_in_use",
                f"{address} is deleted while VMs still use it",
                f"This plan replaces {address} by deleting it first, but it protects "
                f"{', '.join(using)}, and Azure Backup refuses to delete a policy that protects items: the apply fails "
                "there, after what comes before it. Add lifecycle { create_before_destroy = true } to "
                f"{address}: the new policy is made, the VMs move to it, and the old one goes last "
                "(the new one needs a name of its own). Or move the VMs to another policy in one "
                "apply and replace this one in the next.",
                address=address,
            )
        )
    return found

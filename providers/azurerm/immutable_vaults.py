"""An immutable vault keeps what it has promised: retention only grows, backups stay until they expire.

A Recovery Services vault with immutability on (Unlocked or Locked) refuses any change that would
lose backups before their time (Microsoft Learn, "Immutable vault for Azure Backup", restricted
operations): lowering a policy's retention, and stopping a VM's protection with its data deleted -
which is what deleting an azurerm_backup_protected_vm does. A plan that does either in such a vault
fails at apply; the vault, when the plan holds it (its history counts the recovery points), tells
the plan first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from providers.azurerm.planned_text import text_of
from providers.base import PlannedInstance
from reconciler.diagnostics import Diagnostic, error

VAULT = "azurerm_recovery_services_vault"
POLICY = "azurerm_backup_policy_vm"
PROTECTED_VM = "azurerm_backup_protected_vm"
RETENTIONS = ("retention_daily", "retention_weekly", "retention_monthly", "retention_yearly")
IMMUTABLE = ("unlocked", "locked")


def _count(values: dict | None, name: str) -> int:
    blocks = (values or {}).get(name)
    first: Any = blocks[0] if isinstance(blocks, list) and blocks else None
    count = first.get("count") if isinstance(first, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) else 0


def shortened(before: dict | None, after: dict | None) -> list[str]:
    """The retentions ``after`` keeps for less time than ``before`` ("retention_daily 30 -> 7")."""
    out = []
    for name in RETENTIONS:
        kept, now = _count(before, name), _count(after, name)
        if kept and now < kept:
            out.append(f"{name} {kept} -> {now}" if now else f"{name} {kept} -> none")
    return out


def retention_cut_in_immutable_vaults(instances: Iterable[PlannedInstance]) -> list[Diagnostic]:
    instances = list(instances)
    immutable = {
        (text_of(v.after or v.before, "resource_group_name"), text_of(v.after or v.before, "name")): v
        for v in instances
        if v.type_name == VAULT and text_of(v.before or v.after, "immutability") in IMMUTABLE
    }
    found = []
    for policy in instances:
        if policy.type_name != POLICY or policy.action != "update":
            continue
        place = (text_of(policy.after, "resource_group_name"), text_of(policy.after, "recovery_vault_name"))
        vault = immutable.get(place)
        cut = shortened(policy.before, policy.after)
        if vault is None or not cut:
            continue
        address = str(policy.address)
        found.append(
            error(
                "immutable_retention",
                f"{address} can't keep backups for less time in an immutable vault",
                f"{vault.address} is immutable, and Azure Backup refuses any change that would lose "
                f"backups before their time: this plan shortens {', '.join(cut)}, which fails at "
                "apply. Keep the retention (it may grow); a shorter one needs a vault without "
                "immutability (a Locked vault stays immutable for good).",
                address=address,
            )
        )
    return found


def backups_deleted_in_immutable_vaults(instances: Iterable[PlannedInstance]) -> list[Diagnostic]:
    instances = list(instances)
    holding = {}  # immutable vaults whose items hold recovery points now
    for v in instances:
        history = (v.refreshed or {}).get("_history")
        points = history.get("recovery_points") if isinstance(history, dict) else None
        immutable = v.type_name == VAULT and text_of(v.before, "immutability") in IMMUTABLE
        if immutable and isinstance(points, int) and points > 0:
            holding[(text_of(v.before, "resource_group_name"), text_of(v.before, "name"))] = v
    found = []
    for item in instances:
        if item.type_name != PROTECTED_VM or item.action not in ("delete", "replace"):
            continue
        vault = holding.get(
            (text_of(item.before, "resource_group_name"), text_of(item.before, "recovery_vault_name"))
        )
        if vault is None:
            continue
        address = str(item.address)
        found.append(
            error(
                "immutable_delete_data",
                f"{address} can't be deleted with its backups in an immutable vault",
                f"Deleting {address} stops the VM's protection and deletes its backups, and "
                f"{vault.address} is immutable: Azure Backup keeps recovery points until they expire "
                "and refuses the delete at apply. To stop backing the VM up, stop its protection and "
                "keep its data (the portal, or az backup protection disable without --delete-backup-data), "
                "then let vaultform forget the item: a removed block with lifecycle { destroy = false }.",
                address=address,
            )
        )
    return found

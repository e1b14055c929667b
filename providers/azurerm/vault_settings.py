"""A vault's storage redundancy is settled by its first protected item.

Azure Backup lets a vault's storage replication type (storage_mode_type) change only until backup
is configured in it; from then on the setting is locked (Microsoft Learn, "Set storage redundancy
for the Recovery Services vault": the option is disabled once items are protected; the vault's
backup storage config reports storageTypeState "Locked"). A plan that changes it on a vault that
has had items fails at apply. The vault's history, read at refresh (``_history.had_items``,
``vault_history``), tells the plan first - a pure look at the planned instances.
"""

from __future__ import annotations

from collections.abc import Iterable

from providers.azurerm.planned_text import text_of
from providers.base import PlannedInstance
from reconciler.diagnostics import Diagnostic, error

VAULT = "azurerm_recovery_services_vault"
HISTORY = "_history"


def storage_redundancy_locked(instances: Iterable[PlannedInstance]) -> list[Diagnostic]:
    found = []
    for vault in instances:
        if vault.type_name != VAULT or vault.action != "update":
            continue
        before, after = text_of(vault.before, "storage_mode_type"), text_of(vault.after, "storage_mode_type")
        if not before or not after or before == after:
            continue
        history = (vault.refreshed or {}).get(HISTORY)
        if not isinstance(history, dict) or history.get("had_items") is not True:
            continue
        address = str(vault.address)
        found.append(
            error(
                "vault_storage_locked",
                f"The storage redundancy of {address} can't change any more",
                f"{address} has had protected items, and Azure Backup fixes a vault's storage "
                "redundancy once backup is configured in it: changing storage_mode_type from "
                f"{(vault.before or {}).get('storage_mode_type')} to "
                f"{(vault.after or {}).get('storage_mode_type')} fails at apply. Keep the current "
                "value; for other redundancy, back up to a new vault set up with it from the start.",
                address=address,
            )
        )
    return found

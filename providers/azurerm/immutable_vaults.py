"""An immutable vault keeps what it has promised: a policy's retention only grows.

A Recovery Services vault with immutability on (Unlocked or Locked) refuses any change that would
lose backups before their time, lowering a policy's retention among them (Microsoft Learn,
"Immutable vault for Azure Backup", restricted operations). A plan that shortens a retention in
such a vault fails at apply; the vault it names, when the plan holds it, tells the plan first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from providers.base import PlannedInstance
from reconciler.diagnostics import Diagnostic, error

VAULT = "azurerm_recovery_services_vault"
POLICY = "azurerm_backup_policy_vm"
RETENTIONS = ("retention_daily", "retention_weekly", "retention_monthly", "retention_yearly")
IMMUTABLE = ("unlocked", "locked")


def _count(values: dict | None, name: str) -> int:
    blocks = (values or {}).get(name)
    first: Any = blocks[0] if isinstance(blocks, list) and blocks else None
    count = first.get("count") if isinstance(first, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) else 0


def _text(values: dict | None, name: str) -> str:
    value = (values or {}).get(name)
    return value.lower() if isinstance(value, str) else ""


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
        (_text(v.after or v.before, "resource_group_name"), _text(v.after or v.before, "name")): v
        for v in instances
        if v.type_name == VAULT and _text(v.before or v.after, "immutability") in IMMUTABLE
    }
    found = []
    for policy in instances:
        if policy.type_name != POLICY or policy.action != "update":
            continue
        place = (_text(policy.after, "resource_group_name"), _text(policy.after, "recovery_vault_name"))
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

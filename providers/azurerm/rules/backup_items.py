"""R15: a Recovery Services vault can't be deleted while Azure keeps soft-deleted backup items in it.

Azure Backup keeps a deleted VM backup soft-deleted for the vault's soft delete retention (14 days
by default; the item shows isScheduledForDeferredDelete and deferredDeleteTimeInUTC), and refuses to
delete the vault meanwhile with 400 ServiceResourceNotEmptyWithBackendMessage (Azure CLI issue 14776,
azurerm issue 8351). A plan that deletes such a vault would fail at apply after the items are gone
from state; the plan says so first, with the ways out. It knows from two places:

* refresh: the vault's ``_history.soft_deleted_items`` (names and when each goes for good);
* this plan: protected VMs it deletes from a vault whose soft delete is on - they will be
  soft-deleted, so the same plan can't delete their vault.

Items the vault protects now that this configuration doesn't manage (protected in the portal, by
another configuration, or dropped from state) stop the delete too (the same 400: Azure CLI issue
14776 lists protected items among the vault's "existing resources"): refresh lists them in
``_history.active_items`` and the plan names them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from reconciler.diagnostics import Diagnostic

from .context import RuleContext
from .estate import VaultCase, items_of
from .model import HISTORY_KEY, TypeName
from .table import diagnose, join_words

SOFT_DELETE_DAYS = 14  # Azure's default retention (softDeleteRetentionPeriodInDays)


def _history(case: VaultCase) -> dict[str, Any]:
    got = case.vault.value(HISTORY_KEY)
    return got if isinstance(got, dict) else {}


def _days_until(ctx: RuleContext, until: Any) -> int | None:
    try:
        moment = datetime.fromisoformat(str(until).replace("Z", "+00:00"))
    except ValueError:
        return None
    left = (moment - ctx.now).total_seconds()
    return max(0, int(-(-left // 86400)))


def _vm_key(source: Any) -> str:
    return source.rstrip("/").lower() if isinstance(source, str) else ""


def _unmanaged_items(ctx: RuleContext, case: VaultCase) -> list[str]:
    """Names of items the vault protects now that no protected VM of this configuration stands for."""
    managed = {
        _vm_key(n.value("source_vm_id")) for n in items_of(ctx.index, case.vault, TypeName.PROTECTED_VM)
    }
    managed |= {
        _vm_key(n.previous("source_vm_id")) for n in items_of(ctx.index, case.vault, TypeName.PROTECTED_VM)
    }
    active = [i for i in _history(case).get("active_items") or [] if isinstance(i, dict)]
    return [str(i.get("name")) for i in active if _vm_key(i.get("source")) not in managed]


def r15_vault_keeps_soft_deleted_items(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        v = case.vault
        if not v.action.removes_object:
            continue
        unmanaged = _unmanaged_items(ctx, case)
        if unmanaged:
            yield diagnose(
                "R15/unmanaged_items",
                address=v.address,
                location=v.location,
                vault=v.address,
                items=join_words(unmanaged),
            )
            continue
        soft = [i for i in _history(case).get("soft_deleted_items") or [] if isinstance(i, dict)]
        if soft:
            # an unknown or missing date sorts first (a value known only after apply has no truth)
            last = max((u if isinstance(u := i.get("until"), str) else "") for i in soft)
            yield diagnose(
                "R15/soft_deleted",
                address=v.address,
                location=v.location,
                vault=v.address,
                items=join_words([str(i.get("name")) for i in soft]),
                until=last or "the end of their retention",
                days=_days_until(ctx, last) if last else SOFT_DELETE_DAYS,
            )
            continue
        if v.previous("soft_delete_enabled") is False:
            continue
        deleted = [n for n in items_of(ctx.index, v, TypeName.PROTECTED_VM) if n.action.removes_object]
        if deleted:
            yield diagnose(
                "R15/will_soft_delete",
                address=v.address,
                location=v.location,
                vault=v.address,
                items=join_words([n.address for n in deleted]),
                days=SOFT_DELETE_DAYS,
            )


BACKUP_ITEM_CHECKS = (r15_vault_keeps_soft_deleted_items,)

"""Backup items: R15, a Recovery Services vault can't be deleted while Azure keeps soft-deleted backup
items in it; R16, a VM is protected only by a vault in its own region.

R16: "Backup is within a region. You need a vault in every Azure region that contains VMs you want to
back up. You can't back up to a different region." (Microsoft Learn, Support matrix for Azure Backup,
"Backups between vaults"). Azure refuses the protection at apply, after everything before it in the
plan has been made; the plan knows both regions when the VM is read by a data source
(``azurerm_virtual_machine``, whose ``location`` is the VM's) and says so first.

R15:

Azure Backup keeps a deleted VM backup soft-deleted for the vault's soft delete retention (14 days
by default; the item shows isScheduledForDeferredDelete and deferredDeleteTimeInUTC), and refuses to
delete the vault meanwhile with 400 ServiceResourceNotEmptyWithBackendMessage (Azure CLI issue 14776,
azurerm issue 8351). A plan that deletes such a vault would fail at apply after the items are gone
from state; the plan says so first, with the ways out. It knows from two places:

* refresh: the vault's ``_history.soft_deleted_items`` (names and when each goes for good);
* this plan: protected VMs it deletes from a vault whose soft delete is on - they will be
  soft-deleted, so the same plan can't delete their vault.

Protected VMs of this configuration that the plan keeps while it deletes their vault (a vault
renamed without a moved block: the item names the vault by name, so it stays as it is) stop the
delete the same way. Items the vault protects now that this configuration doesn't manage
(protected in the portal, by another configuration, or dropped from state) stop it too (the same 400: Azure CLI issue
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
from .model import HISTORY_KEY, Action, Node, TypeName, recovery_points
from .refs import known_str, normalize_location
from .table import diagnose, join_words

SOFT_DELETE_DAYS = 14  # Azure's default retention (softDeleteRetentionPeriodInDays)
_NEW = {Action.CREATE, Action.REPLACE}  # a protection (or its vault) that Azure judges at this apply


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
    listed = _history(case).get("active_items")
    active = [i for i in listed if isinstance(i, dict)] if isinstance(listed, list) else []
    return [str(i.get("name")) for i in active if _vm_key(i.get("source")) not in managed]


def _stays_in(item: Node, vault: Node) -> bool:
    """Whether a protected VM the plan keeps is, after it, still in the vault as it is now (same
    resource group and vault name; a value not known yet is not taken as the same)."""
    place = [known_str(item.planned(k)) or "" for k in ("resource_group_name", "recovery_vault_name")]
    now = [known_str(vault.previous(k)) or "" for k in ("resource_group_name", "name")]
    return all(place) and all(now) and [p.lower() for p in place] == [n.lower() for n in now]


def r15_vault_keeps_soft_deleted_items(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        v = case.vault
        if not v.action.removes_object:
            continue
        kept = [
            n
            for n in items_of(ctx.index, v, TypeName.PROTECTED_VM)
            if n.action in (Action.NOOP, Action.UPDATE) and _stays_in(n, v)
        ]
        if kept:
            yield diagnose(
                "R15/kept_items",
                address=v.address,
                location=v.location,
                vault=v.address,
                items=join_words([n.address for n in kept]),
            )
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
        listed = _history(case).get("soft_deleted_items")
        soft = [i for i in listed if isinstance(i, dict)] if isinstance(listed, list) else []
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


def _vm_nodes(ctx: RuleContext) -> dict[str, Node]:
    """The VMs the plan reads (data sources), by id in lower case."""
    table = ctx.index.memo.get("vms_by_id")
    if table is None:
        table = ctx.index.memo["vms_by_id"] = {
            _vm_key(n.value("id")): n
            for n in ctx.index.of_type(TypeName.VIRTUAL_MACHINE, data=True)
            if known_str(n.value("id"))
        }
    return table


def _vm_of(ctx: RuleContext, item: Node) -> Node | None:
    """The data source the protected VM's source_vm_id comes from: the one its expression names
    (``data.azurerm_virtual_machine.app.id``), else the one that read the same id (several data
    sources may read one VM; the item's own is the one to name)."""
    for ref in item.refs_for("source_vm_id"):
        for node in ctx.index.resolve(ref, item):
            if node.type_name == TypeName.VIRTUAL_MACHINE.value:
                return node
    return _vm_nodes(ctx).get(_vm_key(known_str(item.planned("source_vm_id"))))


def r16_vm_in_another_region(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        vault_loc = normalize_location(case.vault.value("location"))
        if not vault_loc or not case.vault.action.exists_after:
            continue
        for item in items_of(ctx.index, case.vault, TypeName.PROTECTED_VM):
            if not (_NEW & {item.action, case.vault.action}):
                continue  # protection Azure already accepted is not judged again
            vm = _vm_of(ctx, item)
            vm_loc = normalize_location(vm.value("location")) if vm is not None else None
            if vm is None or not vm_loc or vm_loc == vault_loc:
                continue
            yield diagnose(
                "R16/region",
                address=item.address,
                location=item.location,
                item=item.address,
                vm=vm.address,
                vm_location=vm.value("location"),
                vault=case.address,
                vault_location=case.vault.value("location"),
            )


def a6_backups_deleted_for_good(ctx: RuleContext) -> Iterable[Diagnostic]:
    """Removing a protected VM stops its protection and deletes its backup data; with the vault's
    soft delete off nothing keeps it (Microsoft Learn, "Soft delete for Azure Backup": with it on,
    deleted backup data "is retained for 14 additional days"; with it off, "all future deletions of
    protected items will result in immediate removal, without the ability to restore"). A replacement - a renamed vault or policy moves the item -
    does the same to the old item's recovery points, which is easy to miss in a plan."""
    for case in ctx.cases:
        v = case.vault
        points = recovery_points(v)
        soft_delete = v.previous("soft_delete_enabled")
        if soft_delete is None:
            soft_delete = v.value("soft_delete_enabled")  # a prior state written without it
        if not points or soft_delete is not False:
            continue
        gone = [n for n in items_of(ctx.index, v, TypeName.PROTECTED_VM) if n.action.removes_object]
        gone += [
            n
            for n in ctx.index.of_type(TypeName.PROTECTED_VM, data=False)
            if n.action.removes_object and n not in gone and _was_in(n, v)
        ]
        if gone:
            yield diagnose(
                "A6",
                address=gone[0].address,
                location=gone[0].location,
                vault=v.address,
                items=join_words([n.address for n in gone]),
                points=points,
            )


def _was_in(item: Node, vault: Node) -> bool:
    """The item was protected in ``vault`` before this plan (its prior vault name and group)."""
    name, group = item.previous("recovery_vault_name"), item.previous("resource_group_name")
    return (
        isinstance(name, str)
        and isinstance(group, str)
        and name.lower() == str(vault.previous("name") or "").lower()
        and group.lower() == str(vault.previous("resource_group_name") or "").lower()
    )


BACKUP_ITEM_CHECKS = (
    r15_vault_keeps_soft_deleted_items,
    r16_vm_in_another_region,
    a6_backups_deleted_for_good,
)

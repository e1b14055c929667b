"""azurerm_backup_protected_vm: a VM protected by a policy in a Recovery Services vault.

The sequence azurerm follows: refresh the vault's view of the Azure fabric, find the
VM among the protectable items, PUT the protected item (the SDK polls the
operation), then read it back. Names follow Azure's convention:
container ``iaasvmcontainer;iaasvmcontainerv2;{vm rg};{vm}``, item
``vm;iaasvmcontainerv2;{vm rg};{vm}``, fabric ``Azure``.
"""

from __future__ import annotations

from typing import Any

from providers.azurerm.consistency import READ_BACK, Backoff
from providers.azurerm.ids import ResourceId, parse_resource_id, same_id
from providers.azurerm.resources.base import (
    Context,
    Handler,
    call,
    dig,
    keep_spelling,
    not_found_is_none,
    value,
    wait_lro,
    wire,
)
from providers.azurerm.resources.data_sources import VM_API_VERSION
from providers.base import PermanentError, RetryableError

TYPE = "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems"
VM_TYPE = "Microsoft.Compute/virtualMachines"
FABRIC = "Azure"
ITEM_TYPE = "Microsoft.Compute/virtualMachines"
# How long a container refresh may take to list a VM as protectable.
PROTECTABLE = Backoff(first=2.0, factor=2.0, cap=10.0, budget=60.0)
# The local Azure discovers a VM at the container refresh: waiting there longer
# than a moment only delays Azure's own refusal.
PROTECTABLE_LOCAL = Backoff(first=1.0, factor=2.0, cap=2.0, budget=3.0)
# Azure Backup's answers to a protection request for a VM it has not discovered yet
# (the VM exists: its container or item is unknown to the vault so far).
NOT_DISCOVERED_CODES = frozenset(
    c.lower()
    for c in (
        "BMSUserErrorVMNotFound",
        "BMSUserErrorContainerObjectNotFound",
        "BMSUserErrorItemNotFound",
        "BMSUserErrorNotFound",
        "UserErrorVmNotFound",
    )
)
# provider features that turn a destroy into "keep the data": feature -> protection state
RETAIN_ON_DESTROY = (
    ("vm_backup_stop_protection_and_retain_data_on_destroy", "ProtectionStopped"),
    ("vm_backup_suspend_protection_and_retain_data_on_destroy", "BackupsSuspended"),
)


def container_name(vm: ResourceId) -> str:
    return f"iaasvmcontainer;iaasvmcontainerv2;{vm.resource_group};{vm.name}"


def item_name(vm: ResourceId) -> str:
    return f"vm;iaasvmcontainerv2;{vm.resource_group};{vm.name}"


def item_id(ctx: Context, rg: str, vault: str, vm: ResourceId) -> ResourceId:
    return ResourceId(
        ctx.subscription_id,
        rg,
        "Microsoft.RecoveryServices",
        ("vaults", "backupFabrics", "protectionContainers", "protectedItems"),
        (vault, FABRIC, container_name(vm), item_name(vm)),
    )


def not_discovered(exc: PermanentError) -> bool:
    """Whether Azure refused a protection request only because it doesn't know the VM yet."""
    return exc.status == 404 or exc.code.split("/")[0].lower() in NOT_DISCOVERED_CODES


def _parts(id_: str) -> tuple[str, str, str, str]:
    """-> (resource group, vault, container, item)."""
    rid = parse_resource_id(id_, expect=TYPE)
    return rid.resource_group, rid.names[0], rid.names[2], rid.names[3]


def _luns(planned: dict[str, Any]) -> dict[str, Any] | None:
    for attr, include in (("include_disk_luns", True), ("exclude_disk_luns", False)):
        luns = value(planned, attr)
        if luns:
            return {
                "diskExclusionProperties": {
                    "diskLunList": sorted(int(x) for x in luns),
                    "isInclusionList": include,
                }
            }
    return None


def to_state(body: dict[str, Any], ref: dict[str, Any] | None = None) -> dict[str, Any]:
    ref = ref or {}
    rg, vault, _, _ = _parts(body["id"])
    props = body.get("properties") or {}
    excl = dig(props, "extendedProperties.diskExclusionProperties") or {}
    luns = excl.get("diskLunList") or None
    include = bool(excl.get("isInclusionList"))
    policy = props.get("policyId") or None
    return {
        "id": str(parse_resource_id(body["id"])),
        "resource_group_name": rg,
        "recovery_vault_name": vault,
        "source_vm_id": keep_spelling(ref.get("source_vm_id"), props.get("sourceResourceId")),
        "backup_policy_id": keep_spelling(ref.get("backup_policy_id"), policy),
        "protection_state": props.get("protectionState"),
        "include_disk_luns": luns if include else None,
        "exclude_disk_luns": luns if not include else None,
    }


class BackupProtectedVM(Handler):
    type_name = "azurerm_backup_protected_vm"
    refreshed = ("backup_policy_id", "protection_state", "source_vm_id")
    updatable = ("backup_policy_id", "protection_state", "include_disk_luns", "exclude_disk_luns")

    def _find_protectable(self, ctx: Context, rg: str, vault: str, vm: ResourceId) -> dict[str, Any] | None:
        backup = ctx.clients.backup()
        items = call(
            lambda: list(
                backup.backup_protectable_items.list(
                    vault, rg, filter="backupManagementType eq 'AzureIaasVM'"
                )
            )
        )
        for it in items:
            body = wire(it)
            if same_id(dig(body, "properties.virtualMachineId"), str(vm)):
                return body
        return None

    def _put(
        self,
        ctx: Context,
        rg: str,
        vault: str,
        vm: ResourceId,
        planned: dict[str, Any],
        state: str | None = None,
    ) -> dict[str, Any]:
        backup = ctx.clients.backup()
        props: dict[str, Any] = {
            "protectedItemType": ITEM_TYPE,
            "sourceResourceId": str(vm),
            "policyId": value(planned, "backup_policy_id", ""),
        }
        if state in ("ProtectionStopped", "BackupsSuspended"):
            # stop (or suspend) backups, keep the recovery points
            props["protectionState"] = state
            props["policyId"] = ""
        ext = _luns(planned)
        if ext:
            props["extendedProperties"] = ext
        body = {"properties": props}
        poller = call(
            lambda: backup.protected_items.begin_create_or_update(
                vault, rg, FABRIC, container_name(vm), item_name(vm), body
            )
        )
        wait_lro(poller)
        got = ctx.waiter.until(
            f"the protected item for {vm.name} shows",
            lambda: not_found_is_none(
                lambda: backup.protected_items.get(vault, rg, FABRIC, container_name(vm), item_name(vm))
            ),
            READ_BACK,
        )
        return to_state(wire(got), planned)

    def create(self, ctx: Context, planned: dict[str, Any]) -> dict[str, Any]:
        rg, vault = planned["resource_group_name"], planned["recovery_vault_name"]
        vm = parse_resource_id(planned["source_vm_id"], expect=VM_TYPE)
        if not value(planned, "backup_policy_id"):
            raise PermanentError(
                "backup_policy_id is needed to start protecting a VM", code="InvalidArgument"
            )
        backup = ctx.clients.backup()
        call(lambda: backup.protection_containers.refresh(vault, rg, FABRIC))
        state = value(planned, "protection_state")
        if not self._vm_exists(ctx, vm) or self._find_protectable(ctx, rg, vault, vm) is not None:
            # a missing VM never shows: Azure's answer says so with its own code
            return self._put(ctx, rg, vault, vm, planned, state)
        # Not listed yet: ask Azure now and let its answer decide. A VM protected by
        # another vault, or in another region, is refused at once; only an answer
        # saying Azure doesn't know the VM yet is worth waiting for its discovery.
        try:
            return self._put(ctx, rg, vault, vm, planned, state)
        except PermanentError as exc:
            if not not_discovered(exc):
                raise
            budget = PROTECTABLE_LOCAL if ctx.clients.is_local else PROTECTABLE
            try:
                ctx.waiter.until(
                    f"{vm.name} is listed as protectable in {vault}",
                    lambda: self._find_protectable(ctx, rg, vault, vm),
                    budget,
                )
            except RetryableError:
                ctx.waiter.report(f"{vm.name} isn't listed as protectable in {vault}; asking Azure again")
        return self._put(ctx, rg, vault, vm, planned, state)

    @staticmethod
    def _vm_exists(ctx: Context, vm: ResourceId) -> bool:
        resources = ctx.clients.resources().resources
        return not_found_is_none(lambda: resources.get_by_id(str(vm), api_version=VM_API_VERSION)) is not None

    def existing(self, ctx: Context, planned: dict[str, Any], id_: str) -> str | None:
        """The VM already protected in this vault (an item scheduled for deferred delete
        doesn't count: protecting it again is how it comes back)."""
        rg, vault, container, item = _parts(id_)
        got = not_found_is_none(
            lambda: ctx.clients.backup().protected_items.get(vault, rg, FABRIC, container, item)
        )
        if got is None:
            return None
        body = wire(got)
        if dig(body, "properties.isScheduledForDeferredDelete") is True:
            return None
        return str(parse_resource_id(body.get("id") or id_))

    def read(self, ctx: Context, prior: dict[str, Any]) -> dict[str, Any] | None:
        rg, vault, container, item = _parts(prior["id"])
        got = not_found_is_none(
            lambda: ctx.clients.backup().protected_items.get(vault, rg, FABRIC, container, item)
        )
        return None if got is None else to_state(wire(got), prior)

    def update(self, ctx, prior, planned, changed):
        rg, vault, _, _ = _parts(prior["id"])
        vm = parse_resource_id(prior.get("source_vm_id") or planned["source_vm_id"], expect=VM_TYPE)
        return self._put(ctx, rg, vault, vm, planned, value(planned, "protection_state"))

    def delete(self, ctx: Context, prior: dict[str, Any]) -> None:
        rg, vault, container, item = _parts(prior["id"])
        for feature, state in RETAIN_ON_DESTROY:
            if ctx.feature("recovery_service", feature, False):
                # keep the recovery points: stop (or suspend) protection instead of deleting
                vm = parse_resource_id(prior["source_vm_id"], expect=VM_TYPE)
                self._put(ctx, rg, vault, vm, prior, state)
                return
        items = ctx.clients.backup().protected_items
        not_found_is_none(lambda: items.delete(vault, rg, FABRIC, container, item))
        ctx.waiter.until(
            f"the protected item {item} is gone",
            lambda: not_found_is_none(lambda: items.get(vault, rg, FABRIC, container, item)) is None,
            READ_BACK,
        )

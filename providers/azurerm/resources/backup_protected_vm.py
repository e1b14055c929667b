"""azurerm_backup_protected_vm: a VM protected by a policy in a Recovery Services vault.

The sequence azurerm follows: refresh the vault's view of the Azure fabric, find the
VM among the protectable items, PUT the protected item (the SDK polls the
operation), then read it back. Names follow Azure's convention:
container ``iaasvmcontainer;iaasvmcontainerv2;{vm rg};{vm}``, item
``vm;iaasvmcontainerv2;{vm rg};{vm}``, fabric ``Azure``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from providers.azurerm.consistency import READ_BACK
from providers.azurerm.errors import retry_after_seconds
from providers.azurerm.ids import ResourceId, parse_resource_id
from providers.azurerm.listing import protected_items_of, read_body
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
# A container refresh (Azure Backup's VM discovery) answers 202 with a Location that answers 202
# until the discovery is done, then 204 (spec examples 2026-10-01 Common/RefreshContainers.json,
# RefreshContainers_OperationResults.json; Retry-After 60 there).
# Delay hint when Azure refuses a VM it has not discovered yet: the executor retries the create
# (which refreshes the containers again) after it.
NOT_DISCOVERED_RETRY = 30.0
NOT_DISCOVERED_RETRY_LOCAL = 0.5
# Azure Backup's answer to a protection request for a VM it has not discovered yet (the VM
# exists: its container is unknown to the vault so far): 400
# BMSUserErrorInvalidConfigureProtectionRequest, "Please ensure that container exists" - azurerm
# issues 2143 and 2207. A 404 on the item or container says the same.
NOT_DISCOVERED_CODES = frozenset({"bmsusererrorinvalidconfigureprotectionrequest"})
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


# States Azure passes through on its way to Protected: "Protected" as written stays in agreement
# with them (azurerm's DiffSuppressFunc on protection_state does the same).
TRANSIENT_STATES = frozenset({"IRPending", "ProtectionPaused"})


def _state_as_written(written: Any, azure: Any) -> Any:
    return written if written == "Protected" and azure in TRANSIENT_STATES else azure


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
        "protection_state": _state_as_written(ref.get("protection_state"), props.get("protectionState")),
        "include_disk_luns": luns if include else None,
        "exclude_disk_luns": luns if not include else None,
    }


class BackupProtectedVM(Handler):
    type_name = "azurerm_backup_protected_vm"
    refreshed = (
        "backup_policy_id",
        "protection_state",
        "source_vm_id",
        "include_disk_luns",
        "exclude_disk_luns",
    )
    updatable = ("backup_policy_id", "protection_state", "include_disk_luns", "exclude_disk_luns")

    def _put(
        self,
        ctx: Context,
        rg: str,
        vault: str,
        vm: ResourceId,
        planned: dict[str, Any],
        state: str | None = None,
        clear_luns: bool = False,
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
        elif clear_luns:  # the LUN lists were removed: back up every disk again
            props["extendedProperties"] = {
                "diskExclusionProperties": {"diskLunList": [], "isInclusionList": False}
            }
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

    # (resource group, vault) -> (operation id, Retry-After) of a container refresh still running
    _refreshing: ClassVar[dict[tuple[int, str, str], tuple[str, float]]] = {}

    def _discovery(self, ctx: Context, rg: str, vault: str, vm: ResourceId) -> None:
        """Start the vault's container refresh, or check the one already started; while it runs
        raise RetryableError with Azure's Retry-After, so the executor waits (visibly) and asks
        again - vaultform never sleeps here."""
        backup = ctx.clients.backup()
        key = (id(ctx.clients), rg.lower(), vault.lower())  # per cloud connection
        default_hint = NOT_DISCOVERED_RETRY_LOCAL if ctx.clients.is_local else NOT_DISCOVERED_RETRY
        pending = self._refreshing.get(key)
        if pending is None:
            headers = call(
                lambda: backup.protection_containers.refresh(
                    vault, rg, FABRIC, cls=lambda resp, _b, _h: resp.http_response.headers
                )
            )
            location = (headers or {}).get("Location") or ""
            op = (
                location.split("/operationResults/", 1)[1].split("?", 1)[0]
                if "/operationResults/" in location
                else ""
            )
            pending = (op, retry_after_seconds(headers) or default_hint)
            self._refreshing[key] = pending
        op, hint = pending
        running = bool(op) and (
            not_found_is_none(
                lambda: backup.protection_container_refresh_operation_results.get(
                    vault, rg, FABRIC, op, cls=lambda resp, _b, _h: resp.http_response.status_code
                )
            )
            == 202
        )
        if running:
            raise RetryableError(
                f"vault {vault} is discovering virtual machines (container refresh) before it can "
                f"protect {vm.name}",
                code="ContainerRefreshInProgress",
                retry_after=hint,
                waiting=True,
            )
        self._refreshing.pop(key, None)

    def _recover_soft_deleted(self, ctx: Context, rg: str, vault: str, vm: ResourceId) -> None:
        """An item soft-deleted earlier comes back (undelete), as azurerm does by default
        (features.recovery_services_vaults.recover_soft_deleted_backup_protected_vm)."""
        items = ctx.clients.backup().protected_items
        got = not_found_is_none(lambda: items.get(vault, rg, FABRIC, container_name(vm), item_name(vm)))
        if got is None or dig(wire(got), "properties.isScheduledForDeferredDelete") is not True:
            return
        if not ctx.feature("recovery_services_vaults", "recover_soft_deleted_backup_protected_vm", True):
            raise PermanentError(
                f"The backup of {vm.name} in vault {vault} is soft-deleted (it stays until "
                f"{dig(wire(got), 'properties.deferredDeleteTimeInUTC')}), and recovering it is turned off "
                f"by features.recovery_services_vaults.recover_soft_deleted_backup_protected_vm = false. "
                f"Turn that on, or undelete it yourself and import it.",
                code="SoftDeletedBackupItem",
            )
        ctx.waiter.report(f"recovering the soft-deleted backup of {vm.name} in {vault}")
        body = {"properties": {"protectedItemType": ITEM_TYPE, "isRehydrate": True}}
        wait_lro(
            call(
                lambda: items.begin_create_or_update(
                    vault, rg, FABRIC, container_name(vm), item_name(vm), body
                )
            )
        )

    def create(self, ctx: Context, planned: dict[str, Any]) -> dict[str, Any]:
        rg, vault = planned["resource_group_name"], planned["recovery_vault_name"]
        vm = parse_resource_id(planned["source_vm_id"], expect=VM_TYPE)
        if not value(planned, "backup_policy_id"):
            raise PermanentError(
                "backup_policy_id is needed to start protecting a VM", code="InvalidArgument"
            )
        self._recover_soft_deleted(ctx, rg, vault, vm)
        state = value(planned, "protection_state")
        # Ask first: a VM the vault already knows is protected at once, and a refusal that has
        # nothing to do with discovery (another vault protects it, another region) comes without
        # waiting. Only "not discovered yet" is worth a container refresh and a second request.
        try:
            return self._put(ctx, rg, vault, vm, planned, state)
        except PermanentError as exc:
            if not not_discovered(exc) or not self._vm_exists(ctx, vm):
                raise
        self._discovery(ctx, rg, vault, vm)
        try:
            return self._put(ctx, rg, vault, vm, planned, state)
        except PermanentError as exc:
            # Still unknown after a finished refresh: the executor retries the whole create (a
            # new refresh, then the request) after the hint.
            if not not_discovered(exc):
                raise
            raise RetryableError(
                f"vault {vault} has not discovered {vm.name} yet ({exc.code}); refreshing and asking again",
                code=exc.code,
                status=exc.status,
                retry_after=NOT_DISCOVERED_RETRY_LOCAL if ctx.clients.is_local else NOT_DISCOVERED_RETRY,
            ) from exc

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
        """The item, or None when it is gone - a soft-deleted item counts as gone, as in azurerm
        (backup_protected_vm_resource.go reads isScheduledForDeferredDelete so)."""
        rg, vault, container, item = _parts(prior["id"])
        got = read_body(
            ctx,
            protected_items_of(prior["id"]),
            prior["id"],
            lambda: ctx.clients.backup().protected_items.get(vault, rg, FABRIC, container, item),
        )
        if got is None or dig(got, "properties.isScheduledForDeferredDelete") is True:
            return None
        return to_state(got, prior)

    def update(self, ctx, prior, planned, changed):
        rg, vault, _, _ = _parts(prior["id"])
        vm = parse_resource_id(prior.get("source_vm_id") or planned["source_vm_id"], expect=VM_TYPE)
        clear = bool(value(prior, "include_disk_luns") or value(prior, "exclude_disk_luns"))
        return self._put(ctx, rg, vault, vm, planned, value(planned, "protection_state"), clear_luns=clear)

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
        # gone, or soft-deleted (the vault keeps it for its soft delete retention)
        ctx.waiter.until(
            f"the protected item {item} is deleted",
            lambda: self.read(ctx, prior) is None,
            READ_BACK,
        )

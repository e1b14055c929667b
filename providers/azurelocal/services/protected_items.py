"""VM protection in a Recovery Services vault: containers, protectable items, protected items.

Paths are the ones azure-mgmt-recoveryservicesbackup and azurerm use:
``.../vaults/{v}/backupFabrics/Azure/protectionContainers/iaasvmcontainer;iaasvmcontainerv2;{rg};{vm}/
protectedItems/vm;iaasvmcontainerv2;{rg};{vm}``, plus ``refreshContainers`` and
``backupProtectableItems`` for clients that discover VMs first. Every protect or register request
marks the vault's history - a failed attempt too - because that history decides whether CMK can
still be enabled on the vault.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from providers.azurelocal import faults, rules
from providers.azurelocal.app import parse_time
from providers.azurelocal.http import AzureError, Request, Response
from providers.azurelocal.router import ARM
from providers.azurelocal.services import (
    _arm,
    _backup_async,
    backup_policies,
    jobs,
    recovery_vaults,
)
from providers.azurelocal.store import Kind

VAULT = _arm.RG + "/providers/Microsoft.RecoveryServices/vaults/{vault}"
FABRIC = VAULT + "/backupFabrics/{fabric}"
CONTAINER = FABRIC + "/protectionContainers/{container}"
ITEM = CONTAINER + "/protectedItems/{item}"
VM_TYPE = "Microsoft.Compute/virtualMachines"
CLASSIC_VM_TYPE = "Microsoft.ClassicCompute/virtualMachines"
PROTECTION_STATES = (
    "IRPending",
    "Protected",
    "ProtectionError",
    "ProtectionStopped",
    "ProtectionPaused",
    "BackupsSuspended",
)


@dataclass(frozen=True)
class VmRef:
    resource_group: str
    vm: str

    @property
    def container(self) -> str:
        return f"iaasvmcontainer;iaasvmcontainerv2;{self.resource_group};{self.vm}"

    @property
    def item(self) -> str:
        return f"VM;iaasvmcontainerv2;{self.resource_group};{self.vm}"

    def vm_id(self, sub: str) -> str:
        return f"/subscriptions/{sub}/resourceGroups/{self.resource_group}/providers/{VM_TYPE}/{self.vm}"


# real code: az backup troubleshooting notes quote 'BMSUserErrorInvalidInput: Input provided for the call is invalid.' (400)
def bad(message: str, code: str = "BMSUserErrorInvalidInput") -> AzureError:
    return AzureError(400, code, message)


# Azure's answer to a protection request for a VM its discovery (the container refresh) has not
# found yet; code, status and wording as azurerm issues 2143 and 2207 (and PR 1637) show them.
NOT_DISCOVERED = (
    400,
    "BMSUserErrorInvalidConfigureProtectionRequest",
    "Input for configure protection is not in proper format\r\nPlease ensure that container exists and "
    "other parameters are in valid format",
)
# A deleted backup item stays, soft-deleted, for the vault's soft delete retention (14 days by
# default): the item answers GET with isScheduledForDeferredDelete true and deferredDeleteTimeInUTC,
# and the vault can't be deleted meanwhile. Fields: the ProtectedItem definition of the
# recoveryservicesbackup spec (isScheduledForDeferredDelete, deferredDeleteTimeInUTC,
# deferredDeleteTimeRemaining, isDeferredDeleteScheduleUpcoming, isRehydrate); behaviour:
# learn.microsoft.com/azure/backup/backup-azure-security-feature-cloud (soft delete for VMs).
SOFT_DELETE_ON = ("enabled", "alwayson")
# A write to a soft-deleted item other than the undelete (isRehydrate) - invented code: Azure's
# own for this case was not found in public sources.
SOFT_DELETED_WRITE = "BMSUserErrorItemSoftDeleted"


def fabric_scope(vault: dict) -> str:
    return f"{vault['id']}/backupFabrics/Azure"


def discovered(env, vault: dict, ref: VmRef) -> bool:
    """Whether the vault's discovery has found the VM: a finished container refresh, or a
    container the vault already has for it."""
    if not faults.load(env.store).backup_discovery_required:
        return True
    container = env.store.get(
        Kind.PROTECTION_CONTAINER, f"{fabric_scope(vault)}/protectionContainers/{ref.container}"
    )
    if container is not None:
        return True
    return any(
        op.get("operation") == "RefreshContainers" and op["status"] == "Succeeded"
        for op in _backup_async.operations_under(env, fabric_scope(vault))
    )


def soft_deleted(item: dict) -> bool:
    return bool(item["properties"].get("isScheduledForDeferredDelete"))


def soft_delete_days(vault: dict) -> int | None:
    """The vault's soft delete retention in days, or None when soft delete is off."""
    soft = ((vault.get("properties") or {}).get("securitySettings") or {}).get("softDeleteSettings") or {}
    if str(soft.get("softDeleteState") or "Enabled").lower() not in SOFT_DELETE_ON:
        return None
    return int(soft.get("softDeleteRetentionPeriodInDays") or 14)


def _remaining(seconds: float) -> str:
    """A .NET TimeSpan string, d.hh:mm:ss, as deferredDeleteTimeRemaining carries it."""
    total = max(0, int(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{days}.{hours:02d}:{minutes:02d}:{secs:02d}"


def refresh_deferred(env, item: dict) -> dict:
    """Keep deferredDeleteTimeRemaining current on a soft-deleted item (as read now)."""
    if soft_deleted(item):
        left = (parse_time(item["properties"]["deferredDeleteTimeInUTC"]) - env.clock.now()).total_seconds()
        item["properties"]["deferredDeleteTimeRemaining"] = _remaining(left)
        item["properties"]["isDeferredDeleteScheduleUpcoming"] = left < 2 * 86400
    return item


def purge_expired(env, vault_id: str) -> None:
    """Soft-deleted items whose retention has passed are gone for good."""
    now = env.clock.now()
    for item in env.store.list(Kind.PROTECTED_ITEM, vault_id + "/"):
        if soft_deleted(item) and parse_time(item["properties"]["deferredDeleteTimeInUTC"]) <= now:
            _erase(env, item)


def parse_name(name: str, kind: str) -> VmRef:
    """``iaasvmcontainer;iaasvmcontainerv2;rg;vm`` or ``vm;iaasvmcontainerv2;rg;vm`` -> VmRef."""
    parts = name.split(";")
    expected = "iaasvmcontainer" if kind == "container" else "vm"
    if len(parts) != 4 or parts[0].lower() != expected or parts[1].lower() != "iaasvmcontainerv2":
        example = (
            "iaasvmcontainer;iaasvmcontainerv2;{rg};{vm}"
            if kind == "container"
            else "vm;iaasvmcontainerv2;{rg};{vm}"
        )
        raise bad(f"The {kind} name '{name}' is not in the correct format; expected '{example}'.")
    return VmRef(parts[2], parts[3])


def vm_ref_of(vm_id: str) -> VmRef:
    parts = vm_id.strip("/").split("/")
    return VmRef(parts[3], parts[-1])


def container_body(vault: dict, ref: VmRef, vm: dict) -> dict:
    return {
        "id": f"{vault['id']}/backupFabrics/Azure/protectionContainers/{ref.container}",
        "name": ref.container,
        "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers",
        "properties": {
            "friendlyName": vm["name"],
            "backupManagementType": "AzureIaasVM",
            "registrationStatus": "Registered",
            "healthStatus": "Healthy",
            "containerType": VM_TYPE,
            "protectableObjectType": VM_TYPE,
            "virtualMachineId": vm["id"],
            "virtualMachineVersion": "Compute",
            "resourceGroup": ref.resource_group,
        },
    }


def _item_body(
    env, vault: dict, ref: VmRef, vm: dict, policy: dict, container_id: str, extended: dict | None = None
) -> dict:
    return {
        "id": f"{container_id}/protectedItems/{ref.item}",
        "name": ref.item,
        "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems",
        "location": vault["location"],
        "properties": {
            "protectedItemType": VM_TYPE,
            "backupManagementType": "AzureIaasVM",
            "workloadType": "VM",
            "containerName": f"iaasvmcontainerv2;{ref.resource_group};{ref.vm}",
            "sourceResourceId": vm["id"],
            "virtualMachineId": vm["id"],
            "friendlyName": vm["name"],
            "policyId": policy["id"],
            "policyName": policy["name"],
            "protectionStatus": "Healthy",
            "protectionState": "IRPending",
            "healthStatus": "Passed",
            "lastBackupStatus": "",
            "protectedItemDataId": str(abs(hash(vm["id"].lower())) % 10**12),
            "isScheduledForDeferredDelete": False,
            "isRehydrate": False,
            "extendedInfo": {"recoveryPointCount": 0, "policyInconsistent": False},
            **({"extendedProperties": extended} if extended else {}),
        },
    }


def protected_elsewhere(env, vm_id: str, vault_id: str) -> dict | None:
    """The item of another vault that holds ``vm_id``, a soft-deleted one too: basic soft delete
    keeps a deleted backup item registered to its vault (invented detail: no public source says
    so; Azure/terraform-provider-azapi issue 398 shows the refusal of a VM registered elsewhere).
    Enhanced soft delete lets a soft-deleted item be registered with another vault (Microsoft
    Learn, "enhanced soft delete") - not reproduced here."""
    for item in env.store.list(Kind.PROTECTED_ITEM):
        if (item["properties"].get("sourceResourceId") or "").lower() == vm_id.lower() and not item[
            "id"
        ].lower().startswith(vault_id.lower() + "/"):
            return item
    return None


def _vault(env, p: dict) -> dict:
    _arm.require_group(env, p["sub"], p["rg"])
    vault = env.store.get(
        Kind.RS_VAULT, _arm.resource_id(p["sub"], p["rg"], "Microsoft.RecoveryServices/vaults", p["vault"])
    )
    if vault is None:
        raise _arm.not_found("Microsoft.RecoveryServices/vaults", p["vault"], p["rg"])
    if "fabric" in p and p["fabric"].lower() != "azure":
        raise bad(f"Fabric '{p['fabric']}' is not valid for Azure VM backup; use 'Azure'.")
    return vault


def _check_vm(env, vault: dict, ref: VmRef, item_type: str | None, source_id: str | None) -> dict:
    if item_type and item_type.lower() == CLASSIC_VM_TYPE.lower():
        if rules.encryption_of(vault):
            raise bad(
                "Classic virtual machines can't be backed up to a vault encrypted with a customer-managed "
                "key; migrate the VM to Azure Resource Manager first.",
                # invented code (none found publicly)
                "BMSUserErrorClassicVMNotSupportedWithCMK",
            )
        raise bad(
            "Classic virtual machines are not supported; migrate the VM to Azure Resource Manager.",
            # invented code (none found publicly)
            "BMSUserErrorClassicVMNotSupported",
        )
    if item_type and item_type.lower() != VM_TYPE.lower():
        raise bad(f"protectedItemType '{item_type}' is not supported; use '{VM_TYPE}'.")
    vm_id = ref.vm_id(vault["id"].split("/")[2])
    if source_id and source_id.lower() != vm_id.lower():
        raise bad(f"sourceResourceId '{source_id}' does not match the item name, which names '{vm_id}'.")
    vm = env.store.get(Kind.VM, vm_id)
    if vm is None:
        # invented code (none found publicly)
        raise AzureError(404, "BMSUserErrorVMNotFound", f"The virtual machine '{vm_id}' was not found.")
    if _arm.normalize_location(vm["location"]) != vault["location"]:
        raise bad(
            f"The virtual machine is in '{vm['location']}' but the vault is in '{vault['location']}'; a VM can "
            f"only be protected by a vault in its own region.",
            # invented code (none found publicly)
            "BMSUserErrorVMAndVaultInDifferentRegion",
        )
    other = protected_elsewhere(env, vm["id"], vault["id"])
    if other is not None:
        raise bad(
            f"The virtual machine '{vm['name']}' is already protected by vault "
            f"'{other['id'].split('/vaults/')[1].split('/')[0]}'; stop its protection there first.",
            # invented code (none found publicly)
            "BMSUserErrorVMAlreadyProtected",
        )
    return vm


def _policy(env, vault: dict, policy_id: str | None) -> dict:
    if not policy_id:
        raise bad("policyId is required to protect an item.")
    backup_policies.land_finished(env, policy_id)
    policy = env.store.get(Kind.BACKUP_POLICY, policy_id)
    if policy is None or not policy["id"].lower().startswith(vault["id"].lower() + "/"):
        raise AzureError(
            400,
            # invented code (none found publicly)
            "BMSUserErrorPolicyNotFound",
            f"The backup policy '{policy_id}' was not found in vault '{vault['name']}'.",
        )
    return policy


def protect(env, vault: dict, ref: VmRef, props: dict, caller: str | None) -> tuple[dict, str]:
    """Create the container and item (the vault's history is marked before any check); the item and
    the id of the ConfigureBackup job that did it."""
    recovery_vaults.mark_history(env, vault["id"], attempt=True)
    vm = _check_vm(env, vault, ref, props.get("protectedItemType"), props.get("sourceResourceId"))
    if not discovered(env, vault, ref):
        raise AzureError(*NOT_DISCOVERED)
    policy = _policy(env, vault, props.get("policyId"))
    container = env.store.get(
        Kind.PROTECTION_CONTAINER, f"{vault['id']}/backupFabrics/Azure/protectionContainers/{ref.container}"
    ) or container_body(vault, ref, vm)
    item = _item_body(env, vault, ref, vm, policy, container["id"], props.get("extendedProperties"))
    with env.store.transaction():
        env.store.put(Kind.PROTECTION_CONTAINER, container["id"], container)
        env.store.put(Kind.PROTECTED_ITEM, item["id"], item)
        recovery_vaults.mark_history(env, vault["id"], items=True)
    job = jobs.create_job(env, vault["id"], "ConfigureBackup", vm["name"], "Completed")
    return item, job["name"]


def undelete(env, vault: dict, item: dict) -> tuple[dict, str]:
    """``isRehydrate: true`` on a soft-deleted item brings it back, protection stopped with its
    data kept (azurerm's resourceRecoveryServicesVaultBackupProtectedVMRecoverSoftDeleted)."""
    current = item["properties"]
    current["isScheduledForDeferredDelete"] = False
    for key in ("deferredDeleteTimeInUTC", "deferredDeleteTimeRemaining", "isDeferredDeleteScheduleUpcoming"):
        current.pop(key, None)
    current["protectionState"] = "ProtectionStopped"
    env.store.put(Kind.PROTECTED_ITEM, item["id"], item)
    job = jobs.create_job(env, vault["id"], "Undelete", current["friendlyName"], "Completed")
    return item, job["name"]


def update(env, vault: dict, item: dict, props: dict) -> tuple[dict, str]:
    """Change an item's protection; the item and the id of the ConfigureBackup job that did it
    (the operation's status names it: AzureIaasVm/ProtectedItemOperationStatus.json)."""
    current = item["properties"]
    if soft_deleted(item):
        if props.get("isRehydrate"):
            return undelete(env, vault, item)
        raise bad(
            f"'{current['friendlyName']}' is soft-deleted until {current['deferredDeleteTimeInUTC']}; "
            f"undelete it (isRehydrate: true) before changing its protection.",
            SOFT_DELETED_WRITE,
        )
    if "extendedProperties" in props:
        current["extendedProperties"] = props.get("extendedProperties") or {}
    if props.get("policyId") and props["policyId"].lower() != current["policyId"].lower():
        policy = _policy(env, vault, props["policyId"])
        current["policyId"], current["policyName"] = policy["id"], policy["name"]
    state = props.get("protectionState")
    if state:
        if state not in PROTECTION_STATES:
            raise bad(f"protectionState '{state}' is not valid; use one of {', '.join(PROTECTION_STATES)}.")
        if state == "BackupsSuspended" and rules.immutability_state(vault) == "Disabled":
            raise bad(
                # invented code; azure-rest-api-specs issue 32688 shows the refusal's message is unclear
                "Backups can be suspended only on an immutable vault.",
                "BMSUserErrorSuspendNeedsImmutability",
            )
        if current["protectionState"] in ("ProtectionStopped", "BackupsSuspended") and state in (
            "Protected",
            "IRPending",
        ):
            current["protectionState"] = "Protected"
        else:
            current["protectionState"] = state
    stopped = state in ("ProtectionStopped", "BackupsSuspended")
    job = jobs.create_job(
        env,
        vault["id"],
        "ConfigureBackup",
        current["friendlyName"],
        "Completed",
        extra={"Protection state": state} if stopped else None,
    )
    env.store.put(Kind.PROTECTED_ITEM, item["id"], item)
    return item, job["name"]


def remove(env, vault: dict, item: dict) -> None:
    """Stop protection and delete backup data: with the vault's soft delete on, the item and its
    recovery points stay, soft-deleted, for the retention period; otherwise they go now."""
    days = soft_delete_days(vault)
    if days is not None and not soft_deleted(item):
        props = item["properties"]
        props["isScheduledForDeferredDelete"] = True
        props["deferredDeleteTimeInUTC"] = (
            (env.clock.now() + timedelta(days=days)).isoformat().replace("+00:00", "Z")
        )
        props["protectionState"] = "ProtectionStopped"
        props["policyId"], props["policyName"] = "", ""  # protection stopped: no policy uses it now
        env.store.put(Kind.PROTECTED_ITEM, item["id"], refresh_deferred(env, item))
        jobs.create_job(env, vault["id"], "DeleteBackupData", props["friendlyName"], "Completed")
        return
    if days is not None:
        return  # already soft-deleted: nothing more happens until its retention ends
    _erase(env, item)
    jobs.create_job(env, vault["id"], "DeleteBackupData", item["properties"]["friendlyName"], "Completed")


def _erase(env, item: dict) -> None:
    """The item, its recovery points, and its container when it was the last item, go."""
    container_id = item["id"].rsplit("/protectedItems/", 1)[0]
    with env.store.transaction():
        for rp in env.store.list(Kind.RECOVERY_POINT, item["id"] + "/"):
            env.store.delete(Kind.RECOVERY_POINT, rp["id"])
        env.store.delete(Kind.PROTECTED_ITEM, item["id"])
        if not env.store.list(Kind.PROTECTED_ITEM, container_id + "/"):
            env.store.delete(Kind.PROTECTION_CONTAINER, container_id)


def _item_id(vault: dict, p: dict) -> str:
    return (
        f"{vault['id']}/backupFabrics/Azure/protectionContainers/{p['container']}/protectedItems/{p['item']}"
    )


def load_item(env, p: dict) -> tuple[dict, dict]:
    vault = _vault(env, p)
    purge_expired(env, vault["id"])
    parse_name(p["container"], "container")
    parse_name(p["item"], "item")
    item = env.store.get(
        Kind.PROTECTED_ITEM,
        f"{vault['id']}/backupFabrics/Azure/protectionContainers/{p['container']}/protectedItems/{p['item']}",
    )
    if item is None:
        raise AzureError(
            # invented code (none found publicly)
            404,
            "BMSUserErrorItemNotFound",
            f"Item '{p['item']}' is not protected by vault '{p['vault']}'.",
        )
    return vault, refresh_deferred(env, item)


def protectable_items(env, vault: dict) -> list[dict]:
    out = []
    for vm in env.store.list(Kind.VM, f"/subscriptions/{env.subscription_id}/"):
        if _arm.normalize_location(vm["location"]) != vault["location"]:
            continue
        ref = vm_ref_of(vm["id"])
        protected = env.store.get(
            Kind.PROTECTED_ITEM,
            f"{vault['id']}/backupFabrics/Azure/protectionContainers/"
            f"{ref.container}/protectedItems/{ref.item}",
        )
        if protected or protected_elsewhere(env, vm["id"], vault["id"]) or not discovered(env, vault, ref):
            continue
        out.append(
            {
                "id": f"{vault['id']}/backupFabrics/Azure/protectionContainers/{ref.container}/"
                f"protectableItems/{ref.item}",
                "name": ref.item.lower(),
                "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectableItems",
                "properties": {
                    "protectableItemType": VM_TYPE,
                    "backupManagementType": "AzureIaasVM",
                    "friendlyName": vm["name"],
                    "protectionState": "NotProtected",
                    "virtualMachineId": vm["id"],
                    "workloadType": "VM",
                },
            }
        )
    return out


BACKUP_STATUS = "/subscriptions/{sub}/providers/Microsoft.RecoveryServices/locations/{location}/backupStatus"


def backup_status(env, resource_id: str) -> dict:
    """What Azure Backup answers about a VM, whichever vault protects it: Backup Status - Get (spec
    example 2021-12-01 AzureIaasVm/GetBackupStatus.json: protectionStatus, vaultId, fabricName,
    containerName, protectedItemName, policyName, errorCode). It is the check `az backup protection
    check-vm` makes (Azure/azure-cli issue 21018: "check whether backup is already enabled on this
    VM"). A soft-deleted item still holds its VM: it counts, as it does when another vault tries to
    protect the VM (``protected_elsewhere``). An unprotected VM's answer, "NotProtected" with no
    vault, is the spec's ProtectionStatus enum; the rest of that answer is invented."""
    for item in env.store.list(Kind.PROTECTED_ITEM):
        props = item["properties"]
        if (props.get("sourceResourceId") or "").lower() != resource_id.lower():
            continue
        vault_id, _, rest = item["id"].partition("/backupFabrics/")
        container = rest.split("/protectionContainers/", 1)[1].split("/", 1)[0]
        policy = (props.get("policyId") or "").rstrip("/").rsplit("/", 1)[-1]
        return {
            "protectionStatus": "Protected",
            "vaultId": vault_id,
            "fabricName": "Azure",
            "containerName": container,
            "protectedItemName": item["name"],
            "policyName": policy,
            "errorCode": "Success",
        }
    return {"protectionStatus": "NotProtected", "errorCode": "Success"}


def register(router, env) -> None:
    @router.route(ARM, "POST", BACKUP_STATUS)
    def get_backup_status(request: Request) -> Response:
        body = _arm.body_of(request)
        resource_id = body.get("resourceId")
        if not isinstance(resource_id, str) or not resource_id:
            raise bad("resourceId is required.")
        return _arm.ok(backup_status(env, resource_id))

    @router.route(ARM, "PUT", ITEM)
    def put_item(request: Request) -> Response:
        p = request.params
        vault = _vault(env, p)
        ref = parse_name(p["item"], "item")
        container_ref = parse_name(p["container"], "container")
        if (container_ref.resource_group.lower(), container_ref.vm.lower()) != (
            ref.resource_group.lower(),
            ref.vm.lower(),
        ):
            raise bad(f"Container '{p['container']}' and item '{p['item']}' name different virtual machines.")
        props = _arm.body_of(request).get("properties") or {}
        existing = env.store.get(
            Kind.PROTECTED_ITEM,
            f"{vault['id']}/backupFabrics/Azure/protectionContainers/"
            f"{p['container']}/protectedItems/{p['item']}",
        )
        if existing is None:
            item, job = protect(env, vault, ref, props, _arm.caller_id(request))
        else:
            item, job = update(env, vault, existing, props)
        # 202, no body, Location .../protectedItems/{item}/operationResults/{op}, Azure-AsyncOperation
        # .../protectedItems/{item}/operationsStatus/{op} and Retry-After: spec examples (2025-02-01)
        # AzureIaasVm/ConfigureProtection.json and AzureIaasVm/StopProtection.json. The change is
        # recorded at once; the operation runs on the emulator clock. Its status names the job:
        # properties {objectType: OperationStatusJobExtendedInfo, jobId} (ProtectedItemOperationStatus.json).
        job_info = {"objectType": "OperationStatusJobExtendedInfo", "jobId": job}
        op = _backup_async.start(env, item["id"], "ConfigureProtection", extra={"properties": job_info})
        return _backup_async.accepted(env, op, item["id"])

    @router.route(ARM, "GET", ITEM)
    def get_item(request: Request) -> Response:
        return _arm.ok(load_item(env, request.params)[1])

    @router.route(ARM, "DELETE", ITEM)
    def delete_item(request: Request) -> Response:
        try:
            vault, item = load_item(env, request.params)
        except AzureError as exc:
            if exc.status == 404 and exc.code == "BMSUserErrorItemNotFound":
                return Response(204)  # Common/ProtectedItem_Delete.json lists 204
            raise
        if rules.immutability_state(vault) != "Disabled" and env.store.list(
            Kind.RECOVERY_POINT, item["id"] + "/"
        ):
            # An immutable vault (Unlocked or Locked) won't delete recovery points before they expire:
            # "Stop protection with delete data" is a restricted operation (Microsoft Learn, "Immutable
            # vault for Azure Backup"); stopping protection and keeping the data is allowed. The code
            # is invented (none found publicly).
            raise AzureError(
                400,
                "BMSUserErrorDeleteDataNotAllowedOnImmutableVault",
                f"Vault '{request.params['vault']}' is immutable: the backups of "
                f"'{item['properties'].get('friendlyName')}' can't be deleted before they expire; stop "
                "its protection and keep the data instead.",
            )
        remove(env, vault, item)
        # 202, Azure-AsyncOperation .../vaults/{v}/backupOperations/{op}, Location
        # .../vaults/{v}/backupOperationResults/{op} (vault-level, not under the item) and Retry-After:
        # spec example (2025-02-01) Common/ProtectedItem_Delete.json.
        op = _backup_async.start(env, vault["id"], "DeleteProtectedItem")
        return _backup_async.accepted(
            env, op, vault["id"], status_kind="backupOperations", result_kind="backupOperationResults"
        )

    @router.route(ARM, "GET", ITEM + "/operationResults/{op}")
    def item_operation_result(request: Request) -> Response:
        # 202 (Location, Azure-AsyncOperation, Retry-After) while running, then 200 with the item
        # (204 once it is gone): spec example AzureIaasVm/ProtectedItemOperationResults.json
        vault = _vault(env, request.params)
        scope = _item_id(vault, request.params)
        op = _backup_async.load(env, scope, request.params["op"])
        if op["status"] == "InProgress":
            return _backup_async.still_running(env, op, scope, status_kind="operationsStatus")
        item = env.store.get(Kind.PROTECTED_ITEM, scope)
        return _arm.ok(refresh_deferred(env, item)) if item is not None else Response(204)

    @router.route(ARM, "GET", ITEM + "/operationsStatus/{op}")
    def item_operation_status(request: Request) -> Response:
        # spec example AzureIaasVm/ProtectedItemOperationStatus.json
        vault = _vault(env, request.params)
        op = _backup_async.load(env, _item_id(vault, request.params), request.params["op"])
        return _backup_async.bare_status(env, op)

    @router.route(ARM, "GET", VAULT + "/backupOperationResults/{op}")
    def vault_operation_result(request: Request) -> Response:
        # 202 while running, with Azure-AsyncOperation (.../backupOperations/{op}), Location
        # (.../backupOperationResults/{op}) and Retry-After; 204 when done: spec example (2025-02-01)
        # Common/ProtectedItem_Delete_OperationResult.json
        scope = _vault(env, request.params)["id"]
        op = _backup_async.load(env, scope, request.params["op"])
        if op["status"] == "InProgress":
            return _backup_async.still_running(
                env, op, scope, result_kind="backupOperationResults", status_kind="backupOperations"
            )
        return Response(204)

    @router.route(ARM, "GET", VAULT + "/backupOperations/{op}")
    def vault_operation_status(request: Request) -> Response:
        # spec example Common/ProtectedItem_Delete_OperationStatus.json
        scope = _vault(env, request.params)["id"]
        return _backup_async.bare_status(env, _backup_async.load(env, scope, request.params["op"]))

    @router.route(ARM, "GET", VAULT + "/backupProtectedItems")
    def list_items(request: Request) -> Response:
        vault = _vault(env, request.params)
        purge_expired(env, vault["id"])
        return _arm.listing(
            [refresh_deferred(env, i) for i in env.store.list(Kind.PROTECTED_ITEM, vault["id"] + "/")],
            request,
            token="$skipToken",  # the spec's name for backup lists' paging parameter (bms.json)
        )

    @router.route(ARM, "GET", CONTAINER)
    def get_container(request: Request) -> Response:
        p = request.params
        vault = _vault(env, p)
        body = env.store.get(
            Kind.PROTECTION_CONTAINER,
            f"{vault['id']}/backupFabrics/Azure/protectionContainers/{p['container']}",
        )
        if body is None:
            raise AzureError(
                404,
                # invented code (none found publicly)
                "BMSUserErrorContainerNotFound",
                f"Container '{p['container']}' is not registered to vault '{p['vault']}'.",
            )
        return _arm.ok(body)

    @router.route(ARM, "PUT", CONTAINER)
    def register_container(request: Request) -> Response:
        p = request.params
        vault = _vault(env, p)
        recovery_vaults.mark_history(env, vault["id"], attempt=True)
        ref = parse_name(p["container"], "container")
        vm = _check_vm(env, vault, ref, VM_TYPE, None)
        body = container_body(vault, ref, vm)
        env.store.put(Kind.PROTECTION_CONTAINER, body["id"], body)
        jobs.create_job(env, vault["id"], "Register", vm["name"], "Completed")
        return _arm.ok(body)

    @router.route(ARM, "GET", VAULT + "/backupProtectionContainers")
    def list_containers(request: Request) -> Response:
        vault = _vault(env, request.params)
        return _arm.listing(
            env.store.list(Kind.PROTECTION_CONTAINER, vault["id"] + "/"), request, token="$skipToken"
        )

    @router.route(ARM, "POST", FABRIC + "/refreshContainers")
    def refresh(request: Request) -> Response:
        # 202 with Location (.../backupFabrics/Azure/operationResults/{id}) and Retry-After, no body:
        # spec example Common/RefreshContainers.json. Discovery finishes when the operation does.
        vault = _vault(env, request.params)
        op = _backup_async.start(env, fabric_scope(vault), "RefreshContainers")
        return _backup_async.accepted(env, op, fabric_scope(vault), status_kind=None)

    @router.route(ARM, "GET", VAULT + "/backupProtectableItems")
    def list_protectable(request: Request) -> Response:
        vault = _vault(env, request.params)
        return Response(200, {"value": protectable_items(env, vault)})

    @router.route(ARM, "GET", FABRIC + "/operationResults/{op}")
    def fabric_operation_result(request: Request) -> Response:
        # 202 (Location + Retry-After) while running, 204 when done:
        # spec example Common/RefreshContainers_OperationResults.json
        scope = fabric_scope(_vault(env, request.params))
        op = _backup_async.load(env, scope, request.params["op"])
        if op["status"] == "InProgress":
            return _backup_async.still_running(env, op, scope)
        return Response(204)

    @router.route(ARM, "GET", FABRIC + "/operationsStatus/{op}")
    def fabric_operation_status(request: Request) -> Response:
        # spec example Common/RefreshContainers_OperationStatus.json
        scope = fabric_scope(_vault(env, request.params))
        return Response(200, _backup_async.status_body(_backup_async.load(env, scope, request.params["op"])))

"""What customer-managed keys protect: backup and restore of VM disks in the local Azure.

A Recovery Services vault has one AES-256 data encryption key (DEK). It is wrapped by the vault's
key encryption key - the customer's RSA key version in Key Vault, used through the vault's managed
identity (system- or user-assigned per ``kekIdentity``) - or, for a vault without CMK, by the
emulator's platform key. A backup reads the VM's disks, seals each with AES-256-GCM under the DEK
(associated data binds the recovery point and disk), and writes a recovery point that records the
wrapped DEK and the key version that wrapped it. After a key rotation the DEK is re-wrapped with the
new version at the next backup; a versionless key id follows a new version only once it is
``rotation_delay_seconds`` old on the emulator clock (default one hour, as Azure documents).
A restore unwraps the DEK with the recorded version, decrypts, checks the digest byte for byte, and
writes restored disks, optionally under a disk encryption set's key.

Failures end the job with an Azure-Backup-style code (``Failure``); nothing raises to the caller.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

from providers.azurelocal import crypto, diskdata, keyrotation, keystore, rules
from providers.azurelocal.http import AzureError
from providers.azurelocal.kvrules import inner_code, vault_document
from providers.azurelocal.store import Kind

ROTATION_DELAY_KEY = "rotation_delay_seconds"
DEFAULT_ROTATION_DELAY = 3600.0
PLATFORM_KEY = "platform"
WRAP_ALG = "RSA-OAEP-256"


@dataclass(frozen=True)
class FailureSpec:
    code: str
    hint: str
    found: bool  # the code is Azure's own (Backup's documentation); otherwise shared with rules.py


class Failure(enum.Enum):
    IDENTITY = FailureSpec(
        "UserErrorCMKMissingMangedIdentityPermissionOnKeyVault",
        "Keep the vault's managed identity enabled and attached, and grant it Get, Wrap Key and Unwrap "
        "Key on the key (access policy) or 'Key Vault Crypto Service Encryption User' (RBAC).",
        True,
    )
    KEY_NOT_FOUND = FailureSpec(
        "UserErrorKeyVaultKeyWasNotFound",
        "Recover the deleted key (or key vault) from soft delete, or point the vault at an existing key.",
        True,
    )
    KEY_DISABLED = FailureSpec(
        "UserErrorCMKKeyNotEnabled",
        "Enable the key version again; a version that wrapped backup data must stay enabled.",
        False,
    )
    KEY_EXPIRED = FailureSpec(
        "UserErrorCMKKeyExpired",
        "Extend the key's expiry or rotate to a new version and point the vault at it.",
        False,
    )
    FIREWALL = FailureSpec(
        "UserErrorCMKKeyVaultAuthFailure",
        "Let trusted Azure services through the key vault's firewall (bypass AzureServices) or set its default "
        "network action to Allow.",
        True,
    )
    NETWORK = FailureSpec(
        "UserErrorCMKUserAssignedIdentityNetworkRestricted",
        "Allow trusted Azure services (bypass AzureServices) with the system-assigned identity, or set "
        "the key vault's default network action to Allow.",
        False,
    )
    INTEGRITY = FailureSpec(
        "UserErrorRecoveryPointIntegrityCheckFailed",
        "The recovery point's data or wrapped key was altered; restore from another recovery point.",
        False,
    )
    NOT_FOUND = FailureSpec(
        "UserErrorBackupItemNotFound",
        "Check the vault, protected item, virtual machine or recovery point id.",
        False,
    )


class JobFailure(Exception):
    def __init__(self, failure: Failure, message: str) -> None:
        super().__init__(message)
        self.failure = failure
        self.message = message

    def error(self) -> dict:
        spec = self.failure.value
        return {"code": spec.code, "message": self.message, "recommendations": [spec.hint]}


# --------------------------------------------------------------------------- settings


def rotation_delay(env) -> float:
    return float(env.store.meta(ROTATION_DELAY_KEY, DEFAULT_ROTATION_DELAY))


def set_rotation_delay(env, seconds: float) -> None:
    if seconds < 0:
        raise ValueError("the rotation delay must not be negative")
    env.store.set_meta(ROTATION_DELAY_KEY, float(seconds))


# --------------------------------------------------------------------------- key access for a vault


def _kek_identity(vault: dict) -> tuple[str, bool]:
    try:
        principal_id, user_assigned = rules.cmk_identity_principal(vault)
    except AzureError as exc:
        raise JobFailure(
            Failure.IDENTITY, f"The vault's encryption identity is not usable: {exc.message}"
        ) from None
    return principal_id, user_assigned


def _translate(exc: AzureError, key_id: str, action: str) -> JobFailure:
    inner = inner_code(exc) or ""
    if exc.status == 404:
        return JobFailure(
            Failure.KEY_NOT_FOUND, f"Could not {action}: key '{key_id}' was not found ({exc.message})."
        )
    if inner == "KeyDisabled":
        return JobFailure(Failure.KEY_DISABLED, f"Could not {action}: key version '{key_id}' is disabled.")
    if inner in ("KeyExpired", "KeyNotYetValid"):
        return JobFailure(
            Failure.KEY_EXPIRED, f"Could not {action}: key version '{key_id}' is expired or not yet valid."
        )
    if inner == "ForbiddenByFirewall":
        return JobFailure(
            Failure.FIREWALL,
            f"Could not {action}: the key vault's firewall refused the vault's "
            f"identity ({exc.message.splitlines()[0]}).",
        )
    if exc.status == 400:
        return JobFailure(
            Failure.INTEGRITY,
            f"Could not {action}: the wrapped data key does not unwrap with '{key_id}'; it was altered.",
        )
    return JobFailure(
        Failure.IDENTITY,
        f"Could not {action} with key '{key_id}': {exc.code} {inner and f'({inner}) '}{exc.message}",
    )


def _check_state(env, info: keystore.KeyInfo, *, for_wrap: bool) -> None:
    """Azure Backup reads the key before using it: a disabled version fails the job."""
    if not info.enabled:
        raise JobFailure(Failure.KEY_DISABLED, f"Key version '{info.versioned_id}' is disabled.")
    now = env.clock.now()
    if for_wrap and (info.expired(now) or info.not_yet_valid(now)):
        raise JobFailure(
            Failure.KEY_EXPIRED, f"Key version '{info.versioned_id}' is expired or not yet valid."
        )


def effective_key(env, vault: dict, adopted: str | None) -> keystore.KeyInfo:
    """The key version that should wrap the vault's DEK now."""
    key_uri = rules.cmk_key_uri(vault)
    ref = keystore.parse_key_id(key_uri)
    if ref is None:
        raise JobFailure(Failure.KEY_NOT_FOUND, f"The vault's key URI '{key_uri}' is not a Key Vault key id.")
    if ref.version:
        info = keystore.get_key(env, key_uri)
        if info is None:
            raise JobFailure(Failure.KEY_NOT_FOUND, f"Key '{key_uri}' was not found.")
        return info
    keyrotation.run_due_rotations(env, ref.vault_name, ref.name)
    versions = keystore.list_versions(env, ref.vault_name, ref.name)
    if not versions:
        raise JobFailure(Failure.KEY_NOT_FOUND, f"Key '{key_uri}' was not found.")
    index = next(
        (i for i, v in enumerate(versions) if adopted and v.versioned_id.lower() == adopted.lower()), None
    )
    current = versions[index] if index is not None else None
    settled = env.clock.now() - timedelta(seconds=rotation_delay(env))
    later = versions if index is None else versions[index + 1 :]
    newer = [v for v in later if v.enabled and v.created <= settled]
    if newer:
        return newer[-1]
    return current or versions[-1]


def _trusted(env, vault: dict, info: keystore.KeyInfo, user_assigned: bool) -> bool:
    """Backup calls Key Vault as a trusted service, admitted by ``bypass`` only with the system identity."""
    key_vault = vault_document(env, info.vault_name) or {}
    acls = (key_vault.get("properties") or {}).get("networkAcls") or {}
    if user_assigned and str(acls.get("defaultAction", "Allow")).lower() == "deny":
        raise JobFailure(
            Failure.NETWORK,
            f"The vault uses a user-assigned identity, which is not supported with key "
            f"vault '{info.vault_name}' denying network access by default.",
        )
    return not user_assigned


def _wrap(env, vault: dict, info: keystore.KeyInfo, dek: bytes) -> bytes:
    principal_id, user_assigned = _kek_identity(vault)
    _check_state(env, info, for_wrap=True)
    try:
        _, wrapped = keystore.wrap(
            env,
            principal_id,
            info.versioned_id,
            dek,
            alg=WRAP_ALG,
            trusted_service=_trusted(env, vault, info, user_assigned),
        )
    except AzureError as exc:
        raise _translate(exc, info.versioned_id, "wrap the data encryption key") from None
    return wrapped


def _unwrap(env, vault: dict, key_id: str, wrapped: bytes) -> bytes:
    if key_id == PLATFORM_KEY:
        try:
            return diskdata.platform_unwrap(env, wrapped, vault["id"].lower())
        except crypto.IntegrityError:
            raise JobFailure(
                Failure.INTEGRITY, "The platform-wrapped data encryption key was altered."
            ) from None
    principal_id, user_assigned = _kek_identity(vault)
    info = keystore.get_key(env, key_id)
    if info is None:
        raise JobFailure(
            Failure.KEY_NOT_FOUND,
            f"Key version '{key_id}' that wrapped the data encryption key was not found (deleted or purged).",
        )
    _check_state(env, info, for_wrap=False)
    try:
        return keystore.unwrap(
            env,
            principal_id,
            key_id,
            wrapped,
            alg=WRAP_ALG,
            trusted_service=_trusted(env, vault, info, user_assigned),
        )
    except AzureError as exc:
        raise _translate(exc, key_id, "unwrap the data encryption key") from None


# --------------------------------------------------------------------------- the vault's DEK


def current_dek_version(env, vault_id: str) -> str | None:
    """The key version id (or "platform") that wraps the vault's DEK now; None before the first backup."""
    vault = env.store.get(Kind.RS_VAULT, vault_id)
    return (((vault or {}).get("_emulator") or {}).get("dek") or {}).get("version_key_id")


def ensure_dek(env, vault_id: str) -> tuple[bytes, dict]:
    """The vault's DEK and its record, creating or re-wrapping it as the vault's key requires.

    One store transaction, so two backups of the same vault never make two data keys."""
    with env.store.transaction():
        return _ensure_dek(env, vault_id)


def _ensure_dek(env, vault_id: str) -> tuple[bytes, dict]:
    vault = env.store.get(Kind.RS_VAULT, vault_id)
    if vault is None:
        raise JobFailure(Failure.NOT_FOUND, f"Recovery Services vault '{vault_id}' was not found.")
    record = dict((vault.get("_emulator") or {}).get("dek") or {})
    cmk = rules.encryption_of(vault) is not None
    dek: bytes | None = None
    if record:
        dek = _unwrap(env, vault, record["version_key_id"], crypto.b64url_decode(record["wrapped"]))
    if not cmk:
        if dek is None:
            dek = crypto.new_data_key()
            record = {
                "version_key_id": PLATFORM_KEY,
                "created": env.now_iso(),
                "wrapped": crypto.b64url_encode(diskdata.platform_wrap(env, dek, vault["id"].lower())),
            }
            _save_dek(env, vault_id, record)
        return dek, record
    adopted = record.get("version_key_id") if record.get("version_key_id") != PLATFORM_KEY else None
    target = effective_key(env, vault, adopted or _assigned_version(vault))
    if dek is not None and adopted and adopted.lower() == target.versioned_id.lower():
        _check_state(env, target, for_wrap=True)
        return dek, record
    dek = dek or crypto.new_data_key()
    wrapped = _wrap(env, vault, target, dek)
    record = {
        "version_key_id": target.versioned_id,
        "created": record.get("created") or env.now_iso(),
        "rewrapped": env.now_iso(),
        "wrapped": crypto.b64url_encode(wrapped),
        "previous_version_key_id": record.get("version_key_id"),
    }
    _save_dek(env, vault_id, record)
    env.log(
        None, "Microsoft.RecoveryServices/vaults/dataEncryptionKey/wrap", vault_id, detail=target.versioned_id
    )
    return dek, record


def _assigned_version(vault: dict) -> str | None:
    """The key version in effect when the key was assigned (a versionless id starts from it)."""
    cmk = (vault.get("_emulator") or {}).get("cmk") or {}
    uri, version = cmk.get("key_uri"), cmk.get("key_version")
    ref = keystore.parse_key_id(uri or "")
    if ref is None or not uri or not version:
        return None
    return uri if ref.version else f"{uri.rstrip('/')}/{version}"


def _save_dek(env, vault_id: str, record: dict) -> None:
    with env.store.transaction():
        vault = env.store.get(Kind.RS_VAULT, vault_id)
        vault.setdefault("_emulator", {})["dek"] = record
        env.store.put(Kind.RS_VAULT, vault["id"], vault)


# --------------------------------------------------------------------------- jobs


def _jobs():
    from providers.azurelocal.services import jobs

    return jobs


def _job_key(job: dict) -> str:
    return job.get("id") or job.get("name") or ""


def _item_vm_id(item: dict | None) -> str | None:
    props = (item or {}).get("properties") or {}
    return props.get("sourceResourceId") or props.get("virtualMachineId")


def _name_of(resource_id: str | None) -> str:
    return (resource_id or "").rstrip("/").rsplit("/", 1)[-1]


def _binding(rp_id: str, disk_id: str) -> bytes:
    return f"{rp_id.lower()}|{disk_id.lower()}".encode()


def _mark_item(env, item_id: str | None, status: str, rp_id: str | None = None) -> None:
    if not item_id:
        return
    with env.store.transaction():
        item = env.store.get(Kind.PROTECTED_ITEM, item_id)
        if item is None:
            return
        props = item.setdefault("properties", {})
        props["lastBackupStatus"] = status
        props["lastBackupTime"] = env.now_iso()
        if rp_id:
            props["lastRecoveryPoint"] = env.now_iso()
        env.store.put(Kind.PROTECTED_ITEM, item["id"], item)


# --------------------------------------------------------------------------- backup


def run_backup(
    env, vault_id: str, item_id: str | None, principal_id: str | None = None, *, vm_id: str | None = None
) -> dict:
    """Back up the item's VM now; returns the finished job (Completed or Failed, never raises)."""
    item = env.store.get(Kind.PROTECTED_ITEM, item_id) if item_id else None
    vm_id = vm_id or _item_vm_id(item)
    job = _jobs().create_job(env, vault_id, "Backup", _name_of(vm_id) or _name_of(item_id), "InProgress")
    if item_id is None:  # a direct VM backup counts as having had items (no CMK afterwards)
        from providers.azurelocal.services.recovery_vaults import mark_history

        mark_history(env, vault_id, items=True)
    try:
        rp = _backup(env, vault_id, item_id, vm_id)
    except JobFailure as failure:
        _mark_item(env, item_id, "Failed")
        env.log(
            principal_id,
            "Microsoft.RecoveryServices/vaults/backupJobs/backup",
            vault_id,
            "Failed",
            failure.failure.value.code,
        )
        return _jobs().finish_job(env, _job_key(job), "Failed", failure.error())
    _mark_item(env, item_id, "Completed", rp["id"])
    env.log(
        principal_id, "Microsoft.RecoveryServices/vaults/backupJobs/backup", vault_id, "Succeeded", rp["id"]
    )
    finished = _jobs().finish_job(env, _job_key(job), "Completed")
    return _with_details(
        env,
        finished,
        {"Recovery point": rp["name"], "Data key wrapped by": rp["_emulator"]["key_version_id"]},
    )


def _backup(env, vault_id: str, item_id: str | None, vm_id: str | None) -> dict:
    if env.store.get(Kind.RS_VAULT, vault_id) is None:
        raise JobFailure(Failure.NOT_FOUND, f"Recovery Services vault '{vault_id}' was not found.")
    vm = env.store.get(Kind.VM, vm_id) if vm_id else None
    if vm is None:
        raise JobFailure(Failure.NOT_FOUND, f"Virtual machine '{vm_id}' was not found.")
    contents = []
    for disk_id in diskdata.vm_disk_ids(vm):
        disk = env.store.get(Kind.DISK, disk_id)
        if disk is None:
            raise JobFailure(
                Failure.NOT_FOUND, f"Disk '{disk_id}' of virtual machine '{vm['name']}' was not found."
            )
        try:
            contents.append((disk, diskdata.read_disk(env, disk)))
        except diskdata.DiskReadError as exc:
            raise JobFailure(Failure.IDENTITY, f"Could not read the source disk: {exc}") from None
    dek, record = ensure_dek(env, vault_id)
    rp_name = str(int(env.new_guid().replace("-", "")[:13], 16))
    owner = item_id or f"{vault_id}/backupFabrics/Azure/protectedItems/vm;{vm['name']}"
    rp_id = f"{owner}/recoveryPoints/{rp_name}"
    disks = []
    for disk, content in contents:
        sealed = crypto.seal_envelope(dek, content, _binding(rp_id, disk["id"]))
        disks.append(
            {
                "disk_id": disk["id"],
                "name": disk["name"],
                "size": len(content),
                "digest": crypto.digest(content),
                "envelope": sealed.to_json(),
            }
        )
    os_type = (((vm.get("properties") or {}).get("storageProfile") or {}).get("osDisk") or {}).get("osType")
    body = {
        "id": rp_id,
        "name": rp_name,
        "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/recoveryPoints",
        "properties": {
            "objectType": "IaasVMRecoveryPoint",
            "recoveryPointType": "CrashConsistent",
            "recoveryPointTime": env.now_iso(),
            "osType": os_type,
            "isManagedVirtualMachine": True,
            "sourceVMStorageType": "NormalStorage",
            "recoveryPointTierDetails": [{"type": "HardenedRP", "status": "Valid"}],
        },
        "_emulator": {
            "vault_id": vault_id,
            "item_id": item_id,
            "vm_id": vm["id"],
            "key_version_id": record["version_key_id"],
            "wrapped_dek": record["wrapped"],
            "disks": disks,
        },
    }
    env.store.put(Kind.RECOVERY_POINT, rp_id, body)
    return body


# --------------------------------------------------------------------------- restore


def restore(
    env,
    vault_id: str,
    recovery_point_id: str,
    *,
    des_id: str | None = None,
    target: str | None = None,
    principal_id: str | None = None,
) -> dict:
    """Restore the recovery point's disks into resource group ``target`` (default: the VM's group).

    Returns the finished job; a Completed job lists the restored disk ids in
    ``properties.extendedInfo.propertyBag["Restored disk(s)"]`` and ``restored_disk_ids``.
    """
    rp = env.store.get(Kind.RECOVERY_POINT, recovery_point_id)
    vm_id = ((rp or {}).get("_emulator") or {}).get("vm_id")
    job = _jobs().create_job(
        env, vault_id, "Restore", _name_of(vm_id) or _name_of(recovery_point_id), "InProgress"
    )
    try:
        disk_ids = _restore(env, vault_id, rp, recovery_point_id, des_id, target)
    except JobFailure as failure:
        env.log(
            principal_id,
            "Microsoft.RecoveryServices/vaults/backupJobs/restore",
            recovery_point_id,
            "Failed",
            failure.failure.value.code,
        )
        return _jobs().finish_job(env, _job_key(job), "Failed", failure.error())
    env.log(
        principal_id,
        "Microsoft.RecoveryServices/vaults/backupJobs/restore",
        recovery_point_id,
        "Succeeded",
        ", ".join(disk_ids),
    )
    finished = _jobs().finish_job(env, _job_key(job), "Completed")
    return _with_restored(env, finished, disk_ids)


def _with_details(env, job: dict, details: dict[str, str], extra: dict | None = None) -> dict:
    """Add ``details`` to the job's ``extendedInfo.propertyBag`` (and ``extra`` to its emulator data)."""
    with env.store.transaction():
        stored = env.store.get(Kind.JOB, job["id"]) if job.get("id") else None
        for body in filter(None, (job, stored)):
            body.setdefault("properties", {}).setdefault("extendedInfo", {}).setdefault(
                "propertyBag", {}
            ).update(details)
            body.setdefault("_emulator", {}).update(extra or {})
        if stored is not None:
            env.store.put(Kind.JOB, stored["id"], stored)
    job.update(extra or {})
    return job


def _with_restored(env, job: dict, disk_ids: list[str]) -> dict:
    return _with_details(
        env, job, {"Restored disk(s)": ", ".join(disk_ids)}, {"restored_disk_ids": list(disk_ids)}
    )


def _restore(
    env, vault_id: str, rp: dict | None, rp_id: str, des_id: str | None, target: str | None
) -> list[str]:
    vault = env.store.get(Kind.RS_VAULT, vault_id)
    if vault is None:
        raise JobFailure(Failure.NOT_FOUND, f"Recovery Services vault '{vault_id}' was not found.")
    extra = (rp or {}).get("_emulator") or {}
    if rp is None or (extra.get("vault_id") or "").lower() != vault_id.lower():
        raise JobFailure(
            Failure.NOT_FOUND, f"Recovery point '{rp_id}' was not found in vault '{vault['name']}'."
        )
    des = None
    if des_id:
        des = diskdata.disk_encryption_set(env, des_id)
        if des is None:
            raise JobFailure(Failure.NOT_FOUND, f"Disk encryption set '{des_id}' was not found.")
    group = (_group_of(target) if target and target.startswith("/") else target) or _group_of(
        extra.get("vm_id") or ""
    )
    group_id = f"/subscriptions/{env.subscription_id}/resourceGroups/{group}"
    if env.store.get(Kind.RESOURCE_GROUP, group_id) is None:
        raise JobFailure(Failure.NOT_FOUND, f"Target resource group '{group}' was not found.")
    try:
        wrapped = crypto.b64url_decode(extra["wrapped_dek"])
    except crypto.CryptoError:
        raise JobFailure(Failure.INTEGRITY, "The recovery point's wrapped data key is damaged.") from None
    dek = _unwrap(env, vault, extra["key_version_id"], wrapped)
    restored = []
    for disk in extra["disks"]:
        try:
            content = crypto.open_envelope(
                dek, crypto.Envelope.from_json(disk["envelope"]), _binding(rp_id, disk["disk_id"])
            )
        except crypto.IntegrityError as exc:
            raise JobFailure(
                Failure.INTEGRITY, f"Disk '{disk['name']}' of recovery point '{rp['name']}': {exc}."
            ) from None
        if crypto.digest(content) != disk["digest"] or len(content) != disk["size"]:
            raise JobFailure(
                Failure.INTEGRITY,
                f"Disk '{disk['name']}' of recovery point '{rp['name']}' does not "
                f"match the digest recorded at backup.",
            )
        restored.append(_write_restored_disk(env, group_id, rp, disk, content, des))
    return restored


def _group_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    lower = [p.lower() for p in parts]
    return parts[lower.index("resourcegroups") + 1] if "resourcegroups" in lower else ""


def _write_restored_disk(env, group_id: str, rp: dict, disk: dict, content: bytes, des: dict | None) -> str:
    disk_id = f"{group_id}/providers/Microsoft.Compute/disks/{disk['name']}-restored-{rp['name']}"
    if des is not None:
        identity = des.get("identity") or {}
        principal = identity.get("principalId") or next(
            (v.get("principalId") for v in (identity.get("userAssignedIdentities") or {}).values()), None
        )
        key_id = (des.get("properties") or {}).get("activeKey", {}).get("keyUrl")
        try:
            sealed = diskdata.seal_disk_content(env, disk_id, content, key_id=key_id, principal_id=principal)
        except AzureError as exc:
            failure = _translate(
                exc, key_id, f"encrypt the restored disk with disk encryption set '{des['name']}'"
            )
            raise JobFailure(failure.failure, failure.message) from None
        encryption = {"type": "EncryptionAtRestWithCustomerKey", "diskEncryptionSetId": des["id"]}
    else:
        sealed = diskdata.seal_disk_content(env, disk_id, content)
        encryption = {"type": "EncryptionAtRestWithPlatformKey"}
    body = {
        "id": disk_id,
        "name": disk_id.rsplit("/", 1)[-1],
        "type": "Microsoft.Compute/disks",
        "location": env.location_default,
        "managedBy": None,
        "sku": {"name": "Premium_LRS", "tier": "Premium"},
        "properties": {
            "diskSizeGB": 1,
            "encryption": encryption,
            "diskState": "Unattached",
            "provisioningState": "Succeeded",
            "creationData": {"createOption": "Restore", "sourceResourceId": rp["id"]},
        },
        "_emulator": {"sealed_content": sealed, "restored_from": rp["id"]},
    }
    env.store.put(Kind.DISK, disk_id, body)
    return disk_id


__all__ = [
    "Failure",
    "JobFailure",
    "rotation_delay",
    "set_rotation_delay",
    "effective_key",
    "current_dek_version",
    "ensure_dek",
    "run_backup",
    "restore",
]

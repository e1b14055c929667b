"""Disk contents of the local Azure: deterministic synthetic bytes for inventory disks, sealed bytes
for restored ones, and disk encryption sets (the objects that put a customer key on a disk).

An inventory disk's content is a SHA-256 stream from its content seed and a generation counter,
a few KB long; ``touch`` bumps the generation so the next backup sees different bytes. A restored
disk stores its bytes encrypted: AES-256-GCM under a per-disk data key that is wrapped either by
the disk encryption set's key (through the set's identity) or by the emulator's platform key.
"""

from __future__ import annotations

import hashlib

from providers.azurelocal import crypto, keystore
from providers.azurelocal.http import AzureError
from providers.azurelocal.store import Kind

DISK_BYTES = 4096
PLATFORM_LABEL = "vaultform-platform-key"


def _platform(env) -> crypto.Sealer:
    return keystore.master_sealer(env).derive(PLATFORM_LABEL)


def platform_wrap(env, dek: bytes, context: str) -> bytes:
    """Wrap a data key with the emulator's platform-managed key (vaults and disks without CMK)."""
    return _platform(env).seal(dek, context)


def platform_unwrap(env, wrapped: bytes, context: str) -> bytes:
    return _platform(env).open(wrapped, context)


def synthetic_content(seed: str, generation: int, size: int = DISK_BYTES) -> bytes:
    out = bytearray()
    block = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{generation}:{block}".encode()).digest()
        block += 1
    return bytes(out[:size])


def vm_disk_ids(vm: dict) -> list[str]:
    storage = (vm.get("properties") or {}).get("storageProfile") or {}
    ids = []
    os_disk = ((storage.get("osDisk") or {}).get("managedDisk") or {}).get("id")
    if os_disk:
        ids.append(os_disk)
    for data_disk in storage.get("dataDisks") or []:
        disk_id = ((data_disk or {}).get("managedDisk") or {}).get("id")
        if disk_id:
            ids.append(disk_id)
    return ids


def find_vm(env, name_or_id: str) -> dict | None:
    if name_or_id.startswith("/"):
        return env.store.get(Kind.VM, name_or_id)
    matches = [vm for vm in env.store.list(Kind.VM) if vm.get("name", "").lower() == name_or_id.lower()]
    return matches[0] if len(matches) == 1 else None


def touch(env, disk_id: str) -> int:
    """Change a disk's content (a new generation); returns the new generation."""
    with env.store.transaction():
        disk = env.store.get(Kind.DISK, disk_id)
        if disk is None:
            raise KeyError(disk_id)
        extra = disk.setdefault("_emulator", {})
        extra["generation"] = int(extra.get("generation", 0)) + 1
        env.store.put(Kind.DISK, disk["id"], disk)
    return extra["generation"]


class DiskReadError(Exception):
    """A disk's bytes can't be read (its key is unusable, or its sealed content was altered)."""


def read_disk(env, disk: dict) -> bytes:
    """The current bytes of a disk document."""
    extra = disk.get("_emulator") or {}
    sealed = extra.get("sealed_content")
    if not sealed:
        seed = extra.get("content_seed") or hashlib.sha256(disk["id"].lower().encode()).hexdigest()
        return synthetic_content(seed, int(extra.get("generation", 0)))
    envelope = crypto.Envelope.from_json(sealed["envelope"])
    wrapped = crypto.b64url_decode(sealed["wrapped_dek"])
    try:
        if sealed.get("key_id"):
            dek = keystore.unwrap(env, sealed["principal_id"], sealed["key_id"], wrapped)
        else:
            dek = platform_unwrap(env, wrapped, disk["id"].lower())
        return crypto.open_envelope(dek, envelope, disk["id"].lower().encode())
    except (crypto.IntegrityError, crypto.CryptoError) as exc:
        raise DiskReadError(f"disk {disk['id']}: {exc}") from None
    except AzureError as exc:  # Key Vault refused (disabled key, revoked grant)
        raise DiskReadError(f"disk {disk['id']}: {exc}") from None


def seal_disk_content(
    env, disk_id: str, content: bytes, *, key_id: str | None = None, principal_id: str | None = None
) -> dict:
    """The ``_emulator.sealed_content`` record for a restored disk."""
    dek = crypto.new_data_key()
    envelope = crypto.seal_envelope(dek, content, disk_id.lower().encode())
    if key_id:
        version_id, wrapped = keystore.wrap(env, principal_id, key_id, dek)
    else:
        version_id, wrapped = None, platform_wrap(env, dek, disk_id.lower())
    return {
        "envelope": envelope.to_json(),
        "wrapped_dek": crypto.b64url_encode(wrapped),
        "key_id": version_id,
        "principal_id": principal_id if key_id else None,
        "digest": crypto.digest(content),
    }


# --------------------------------------------------------------------------- disk encryption sets


def des_id(env, resource_group: str, name: str) -> str:
    return (
        f"/subscriptions/{env.subscription_id}/resourceGroups/{resource_group}"
        f"/providers/Microsoft.Compute/diskEncryptionSets/{name}"
    )


def create_disk_encryption_set(
    env,
    resource_group: str,
    name: str,
    key_id: str,
    *,
    location: str | None = None,
    principal_id: str | None = None,
) -> dict:
    """A disk encryption set with a system-assigned identity that must be granted access to the key."""
    ref = keystore.parse_key_id(key_id)
    if ref is None:
        raise ValueError(
            f"'{key_id}' is not a Key Vault key id (https://<vault>.vault.azure.net/keys/<name>[/<version>])"
        )
    if keystore.get_key(env, key_id) is None:
        raise ValueError(f"key '{key_id}' does not exist")
    set_id = des_id(env, resource_group, name)
    if env.store.get(Kind.DISK_ENCRYPTION_SET, set_id) is not None:
        raise ValueError(f"disk encryption set '{name}' already exists in resource group '{resource_group}'")
    object_id = env.new_guid()
    env.register_principal(
        {
            "object_id": object_id,
            "type": "ServicePrincipal",
            "display_name": name,
            "kind": "system_assigned",
            "resource_id": set_id,
        }
    )
    body = {
        "id": set_id,
        "name": name,
        "type": "Microsoft.Compute/diskEncryptionSets",
        "location": location or env.location_default,
        "identity": {"type": "SystemAssigned", "principalId": object_id, "tenantId": env.tenant_id},
        "properties": {
            "activeKey": {"keyUrl": key_id},
            "encryptionType": "EncryptionAtRestWithCustomerKey",
            "rotationToLatestKeyVersionEnabled": ref.version is None,
            "provisioningState": "Succeeded",
        },
    }
    env.store.put(Kind.DISK_ENCRYPTION_SET, set_id, body)
    env.log(principal_id, "Microsoft.Compute/diskEncryptionSets/write", set_id)
    return body


def disk_encryption_set(env, set_id: str) -> dict | None:
    return env.store.get(Kind.DISK_ENCRYPTION_SET, set_id)

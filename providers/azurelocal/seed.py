"""What a fresh local Azure holds: one tenant, one subscription, the deployer, and a workload group.

The ids are fixed so a database created today and one created tomorrow agree, and tests can
name them. ``ensure_seeded`` runs on every Emulator start and does work only once per schema.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

SEED_SCHEMA_VERSION = 1
META_KEY = "seed_schema_version"

TENANT_ID = "7f3c1a52-2d8e-4b6a-9c41-0e5d7a9b3f10"
SUBSCRIPTION_ID = "3b9e6c2d-58a1-4f07-b2d4-6a1e0c9f8d27"
DEPLOYER_OBJECT_ID = "c41d8e7a-0b3f-4a29-8e65-2f9d1b7c4a03"
DEPLOYER_NAME = "vaultform-deployer"
LOCATION_DEFAULT = "westeurope"
WORKLOAD_GROUP = "rg-workloads"
WORKLOAD_VMS = ("vm-app-01", "vm-app-02", "vm-db-01")


# Namespaces a new subscription starts registered for: Microsoft.Resources and
# Microsoft.Authorization are always registered; Microsoft.Compute hosts the seeded workload VMs.
REGISTERED_AT_START = ("Microsoft.Resources", "Microsoft.Authorization", "Microsoft.Compute")


@dataclass(frozen=True)
class SeedVm:
    name: str
    size: str
    os_type: str
    disk_gb: int


_VM_SHAPES = {
    "vm-app-01": SeedVm("vm-app-01", "Standard_B2s", "Linux", 30),
    "vm-app-02": SeedVm("vm-app-02", "Standard_B2s", "Linux", 30),
    "vm-db-01": SeedVm("vm-db-01", "Standard_D4s_v5", "Windows", 128),
}


def group_id(name: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{name}"


def vm_id(name: str) -> str:
    return f"{group_id(WORKLOAD_GROUP)}/providers/Microsoft.Compute/virtualMachines/{name}"


def disk_id(name: str) -> str:
    return f"{group_id(WORKLOAD_GROUP)}/providers/Microsoft.Compute/disks/{name}"


def disk_content_seed(vm_name: str) -> str:
    """Deterministic synthetic content seed for a VM's OS disk (the data path expands it)."""
    return hashlib.sha256(f"vaultform-disk:{vm_name}".encode()).hexdigest()


def _stable_guid(label: str) -> str:
    h = hashlib.sha256(f"vaultform-seed:{label}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _vm_body(shape: SeedVm) -> dict:
    os_disk = f"{shape.name}_OsDisk_1"
    return {
        "id": vm_id(shape.name),
        "name": shape.name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": LOCATION_DEFAULT,
        "tags": {},
        "properties": {
            "vmId": _stable_guid(f"vm:{shape.name}"),
            "hardwareProfile": {"vmSize": shape.size},
            "storageProfile": {
                "osDisk": {
                    "osType": shape.os_type,
                    "name": os_disk,
                    "createOption": "FromImage",
                    "diskSizeGB": shape.disk_gb,
                    "managedDisk": {"id": disk_id(os_disk), "storageAccountType": "Premium_LRS"},
                },
                "dataDisks": [],
            },
            "provisioningState": "Succeeded",
        },
        "_emulator": {"disk_content_seed": disk_content_seed(shape.name)},
    }


def _disk_body(shape: SeedVm) -> dict:
    name = f"{shape.name}_OsDisk_1"
    return {
        "id": disk_id(name),
        "name": name,
        "type": "Microsoft.Compute/disks",
        "location": LOCATION_DEFAULT,
        "managedBy": vm_id(shape.name),
        "sku": {"name": "Premium_LRS", "tier": "Premium"},
        "properties": {
            "osType": shape.os_type,
            "diskSizeGB": shape.disk_gb,
            "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
            "diskState": "Attached",
            "provisioningState": "Succeeded",
        },
        "_emulator": {"content_seed": disk_content_seed(shape.name)},
    }


def ensure_seeded(env) -> None:
    """Seed the store on first use (idempotent; bumps nothing when the schema is current)."""
    store = env.store
    if store.meta(META_KEY) == SEED_SCHEMA_VERSION:
        return
    with store.transaction():
        if store.meta(META_KEY) == SEED_SCHEMA_VERSION:
            return
        now = env.clock.now().isoformat()
        store.set_meta("tenant_id", TENANT_ID)
        store.set_meta("subscription_id", SUBSCRIPTION_ID)
        store.put(
            "subscription",
            f"/subscriptions/{SUBSCRIPTION_ID}",
            {
                "id": f"/subscriptions/{SUBSCRIPTION_ID}",
                "subscriptionId": SUBSCRIPTION_ID,
                "tenantId": TENANT_ID,
                "displayName": "vaultform local",
                "state": "Enabled",
                # A fresh subscription has only Azure's always-registered namespaces; the rest
                # answer MissingSubscriptionRegistration until registered (services/providers.py).
                "_emulator": {"registered": list(REGISTERED_AT_START)},
            },
        )
        env.register_principal(
            {
                "object_id": DEPLOYER_OBJECT_ID,
                "tenant_id": TENANT_ID,
                "type": "User",
                "display_name": DEPLOYER_NAME,
                "enabled": True,
                "kind": "deployer",
                "resource_id": None,
                "created": "2000-01-01T00:00:00+00:00",
            }
        )
        store.put(
            "resourcegroup",
            group_id(WORKLOAD_GROUP),
            {
                "id": group_id(WORKLOAD_GROUP),
                "name": WORKLOAD_GROUP,
                "type": "Microsoft.Resources/resourceGroups",
                "location": LOCATION_DEFAULT,
                "tags": {"purpose": "workloads"},
                "properties": {"provisioningState": "Succeeded"},
                "_emulator": {"created": now, "managed_by_seed": True},
            },
        )
        for name in WORKLOAD_VMS:
            shape = _VM_SHAPES[name]
            store.put("vm", vm_id(name), _vm_body(shape))
            store.put("disk", _disk_body(shape)["id"], _disk_body(shape))
        store.set_meta(META_KEY, SEED_SCHEMA_VERSION)

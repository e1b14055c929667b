"""examples/restore-with-des, as its README walks through it: a restore re-encrypted with a managed DES."""

from __future__ import annotations

import re

from providers.azurelocal import diskdata
from providers.azurelocal.app import Emulator
from providers.azurelocal.store import Kind
from tests.e2e.harness import EXAMPLES, Workspace

DB_DISK = (
    "/subscriptions/3b9e6c2d-58a1-4f07-b2d4-6a1e0c9f8d27/resourceGroups/rg-workloads"
    "/providers/Microsoft.Compute/disks/vm-db-01_OsDisk_1"
)
DISK_KEY = "https://kv-vfdes-cmk.vault.azure.net/keys/restored-disks/"


def _field(text: str, label: str) -> str:
    m = re.search(rf"{label}: (\S+)", text)
    assert m, f"no '{label}:' in\n{text}"
    return m.group(1)


def _disk(ws: Workspace, disk_id: str) -> tuple[dict, bytes]:
    env = Emulator(ws.db)
    try:
        disk = env.store.get(Kind.DISK, disk_id)
        assert disk is not None, f"no disk {disk_id}"
        return disk, diskdata.read_disk(env, disk)
    finally:
        env.store.close()


def test_restore_encrypts_the_restored_disk_with_the_managed_des(tmp_path):
    ws = Workspace(tmp_path, EXAMPLES / "restore-with-des")
    ws.ok("apply", "-auto-approve")
    ws.ok("plan", "-detailed-exitcode")
    des = ws.inventory()["diskencryptionset"]
    assert [d["name"] for d in des] == ["des-vfdes-restore"]
    des_principal = des[0]["identity"]["principalId"]

    backup = ws.cloud_ok("backup", "rsv-vfdes", "vm-db-01")
    rp = _field(backup.out, "recovery point")
    _, original = _disk(ws, DB_DISK)

    restored = ws.cloud_ok("restore", rp, "-des", "des-vfdes-restore", "-target", "rg-vfdes-backup")
    disk_id = _field(restored.out, "restored disk")
    assert "/resourceGroups/rg-vfdes-backup/" in disk_id
    disk, content = _disk(ws, disk_id)
    assert content == original, "the restored disk differs from the backed-up one"
    assert disk["properties"]["encryption"] == {
        "type": "EncryptionAtRestWithCustomerKey",
        "diskEncryptionSetId": des[0]["id"],
    }
    sealed = disk["_emulator"]["sealed_content"]
    assert sealed["key_id"].startswith(DISK_KEY) and sealed["principal_id"] == des_principal

    # without a set the restored disk gets the platform key
    plain = ws.cloud_ok("restore", rp)
    plain_disk, plain_content = _disk(ws, _field(plain.out, "restored disk"))
    assert plain_disk["properties"]["encryption"]["type"] == "EncryptionAtRestWithPlatformKey"
    assert plain_content == original

    ws.ok("plan", "-detailed-exitcode")  # restores change nothing vaultform manages

    ws.cloud_ok("remove-access-policy", "kv-vfdes-cmk", des_principal)
    failed = ws.cloud_ok("restore", rp, "-des", "des-vfdes-restore", code=1)
    assert "UserErrorCMKMissingMangedIdentityPermissionOnKeyVault" in failed.out
    drift = ws.ok("plan", "-detailed-exitcode", code=2)
    assert "azurerm_key_vault_access_policy.des will be created" in drift.out
    ws.ok("apply", "-auto-approve")
    ws.cloud_ok("restore", rp, "-des", "des-vfdes-restore")
    ws.ok("plan", "-detailed-exitcode")

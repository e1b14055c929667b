"""examples/key-rotation, as its README walks through it: rotate, back up, restore an older point.

The older recovery point was wrapped by the first key version: it restores byte for byte while that
version is enabled, and fails with UserErrorCMKKeyNotEnabled while it is disabled (rule R12).
"""

from __future__ import annotations

import re

from providers.azurelocal import diskdata
from providers.azurelocal.app import Emulator
from providers.azurelocal.store import Kind
from tests.e2e.harness import EXAMPLES, Workspace

VERSIONLESS = "https://kv-vfrot-cmk.vault.azure.net/keys/backup-cmk"
VM_DISK = (
    "/subscriptions/3b9e6c2d-58a1-4f07-b2d4-6a1e0c9f8d27/resourceGroups/rg-workloads"
    "/providers/Microsoft.Compute/disks/vm-app-01_OsDisk_1"
)


def _field(text: str, label: str) -> str:
    m = re.search(rf"{label}:? (\S+)", text)
    assert m, f"no '{label}:' in\n{text}"
    return m.group(1)


def _disk_bytes(ws: Workspace, disk_id: str) -> bytes:
    env = Emulator(ws.db)
    try:
        disk = env.store.get(Kind.DISK, disk_id)
        assert disk is not None, f"no disk {disk_id}"
        return diskdata.read_disk(env, disk)
    finally:
        env.store.close()


def test_restore_of_an_older_recovery_point_after_rotation(tmp_path):
    ws = Workspace(tmp_path, EXAMPLES / "key-rotation")
    ws.ok("apply", "-auto-approve")
    ws.ok("plan", "-detailed-exitcode")

    first = ws.cloud_ok("backup", "rsv-vfrot", "vm-app-01")
    rp1, version1 = _field(first.out, "recovery point"), _field(first.out, "data key wrapped by")
    assert version1.startswith(VERSIONLESS + "/")
    original = _disk_bytes(ws, VM_DISK)

    ws.cloud_ok("touch", "vm-app-01")
    assert _disk_bytes(ws, VM_DISK) != original
    version2 = _field(ws.cloud_ok("rotate-key", VERSIONLESS).out, "new key version")
    assert version2 != version1
    ws.ok("plan", "-detailed-exitcode")  # rotation changes nothing vaultform manages

    # within the hour the vault still wraps with the first version
    early = ws.cloud_ok("backup", "rsv-vfrot", "vm-app-01")
    assert _field(early.out, "data key wrapped by") == version1

    ws.cloud_ok("advance", "1h")
    second = ws.cloud_ok("backup", "rsv-vfrot", "vm-app-01")
    assert _field(second.out, "data key wrapped by") == version2
    rp2 = _field(second.out, "recovery point")

    restored = ws.cloud_ok("restore", rp1)
    disk = _field(restored.out, "restored disk")
    assert _disk_bytes(ws, disk) == original, "the older recovery point did not restore byte for byte"

    ws.cloud_ok("disable-key", version1)
    refused = ws.cloud_ok("restore", rp1, code=1)
    assert "UserErrorCMKKeyNotEnabled" in refused.out and version1 in refused.out
    # the newer point doesn't need the old version
    newer = ws.cloud_ok("restore", rp2)
    assert _disk_bytes(ws, _field(newer.out, "restored disk")) != original

    ws.cloud_ok("enable-key", version1)
    again = ws.cloud_ok("restore", rp1)
    assert _disk_bytes(ws, _field(again.out, "restored disk")) == original

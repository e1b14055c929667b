"""`vaultform audit` over a local Azure holding compliant and non-compliant vaults."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

ESTATES = Path(__file__).parent.parent / "fixtures" / "drift" / "estates"


def _audit(world) -> tuple[int, dict]:
    code, out, err = world.run("audit -json")
    assert code in (0, 2), f"audit failed ({code}):\n{out}\n{err}"
    doc = json.loads(out)
    return code, {v["name"]: v for v in doc["vaults"]} | {"": doc}


def _codes(vault: dict, severity: str = "error") -> set[str]:
    return {f["code"] for f in vault["findings"] if f["severity"] == severity}


def test_compliant_vaults(world):
    code, vaults = _audit(world)
    assert code == 0
    assert vaults[""]["format_version"] == "1.0"
    assert vaults[""]["summary"] == {
        "vaults": 2,
        "compliant": 2,
        "non_compliant": 0,
        "unreadable": 0,
        "exit_code": 0,
    }
    sys, uai = vaults["rsv-drift-sys"], vaults["rsv-drift-uai"]
    assert (sys["compliant"], sys["cmk"], sys["key_mode"], sys["identity"]) == (
        True,
        True,
        "pinned",
        "system-assigned",
    )
    assert (sys["authorization"], sys["grant"]) == ("access policies", "least-privilege")
    assert (sys["soft_delete"], sys["purge_protection"], sys["key_enabled"]) == (True, True, True)
    assert (uai["compliant"], uai["key_mode"], uai["identity"]) == (True, "rotating", "user-assigned")
    assert (uai["authorization"], uai["grant"]) == ("rbac", "least-privilege")
    assert "Key Vault Crypto Service Encryption User" in uai["grant_detail"]


def test_non_compliant_vaults(with_stray):
    world = with_stray
    world.ok("cloud disable-key {key_id}")
    world.ok("cloud remove-role-assignment {role_assignment}", "user-identity")
    code, vaults = _audit(world)
    assert code == 2
    assert vaults[""]["summary"]["non_compliant"] == 3
    assert _codes(vaults["rsv-drift-stray"]) == {"NO_CMK"}
    assert vaults["rsv-drift-stray"]["cmk"] is False
    assert _codes(vaults["rsv-drift-sys"]) == {"KEY_DISABLED"}
    assert vaults["rsv-drift-sys"]["key_enabled"] is False
    assert _codes(vaults["rsv-drift-uai"]) == {"GRANT_MISSING"}
    assert vaults["rsv-drift-uai"]["grant"] == "missing"


def test_identity_off_and_firewall(world):
    world.ok("cloud disable-identity rsv-drift-sys")
    world.ok("cloud set-network-rules kv-drift-uai -default-action Deny", "user-identity")
    code, vaults = _audit(world)
    assert code == 2
    assert "IDENTITY_MISSING" in _codes(vaults["rsv-drift-sys"])
    assert "FIREWALL_BLOCKS_IDENTITY" in _codes(vaults["rsv-drift-uai"])


def test_broader_grant_is_compliant_with_a_warning(world):
    shutil.copytree(ESTATES / "broader-grant", world.root / "broader-grant")
    world.ok("apply {dir} -auto-approve", "broader-grant")
    code, vaults = _audit(world)
    assert code == 0
    uai = vaults["rsv-drift-uai"]
    assert (uai["compliant"], uai["grant"]) == (True, "broader")
    assert _codes(uai, "warning") == {"GRANT_BROADER"}


def test_audit_markdown_and_text(with_stray, tmp_path):
    md = tmp_path / "audit.md"
    code, out, _ = with_stray.run(f"audit -markdown {md}")
    assert code == 2
    assert "1 of 3 Recovery Services vault(s) are not compliant." in out
    assert "rsv-drift-stray (rg-drift-sys): NOT COMPLIANT" in out
    text = md.read_text()
    assert (
        "| Vault | Resource group | Subscription | Compliant | CMK | Key | Identity | Purge protection "
        "| Grant | Problems |" in text
    )
    sub = "`3b9e6c2d-58a1-4f07-b2d4-6a1e0c9f8d27`"  # the local Azure's seeded subscription
    assert f"| `rsv-drift-stray` | `rg-drift-sys` | {sub} | ❌ | no |" in text
    assert f"| `rsv-drift-sys` | `rg-drift-sys` | {sub} | ✅ | yes | pinned, enabled |" in text
    # a finding names the vault's resource group too (two vaults may share a name)
    assert "- `rsv-drift-stray` (rg-drift-sys, subscription 3b9e6c2d-" in text


def test_expired_key_is_non_compliant(world):

    keys = world.key_client("kv-drift-uai")
    version = keys.get_key("cmk").properties.version
    keys.update_key_properties("cmk", version, expires_on=datetime.now(UTC) + timedelta(hours=1))
    code, vaults = _audit(world)
    assert code == 0 and vaults["rsv-drift-uai"]["key_expires"]
    world.ok("cloud advance 2h")  # the local Azure's clock decides what has expired
    code, vaults = _audit(world)
    assert code == 2
    assert _codes(vaults["rsv-drift-uai"]) == {"KEY_EXPIRED"}


def test_an_older_key_version_that_still_wraps_the_data_key(world):
    """R12: after a rotation the data key stays wrapped with the older version until a backup runs
    with the new one (an hour after it, for a versionless key id): disabling the older version
    before then breaks backups and restores, and audit says so; after such a backup it may go."""
    shutil.copytree(ESTATES / "backed-up", world.root / "backed-up")
    world.ok("apply {dir} -auto-approve", "backed-up")
    world.ok("cloud backup rsv-drift-rot -vm vm-app-01")
    keys = world.key_client("kv-drift-rot")
    old = keys.get_key("cmk").id
    world.ok("cloud rotate-key https://kv-drift-rot.vault.azure.net/keys/cmk")
    world.ok(f"cloud disable-key {old}")
    code, vaults = _audit(world)
    assert code == 2
    assert _codes(vaults["rsv-drift-rot"]) == {"KEY_VERSION_STILL_WRAPS"}
    assert old.rsplit("/", 1)[-1] in str(vaults["rsv-drift-rot"]["findings"])

    world.ok(f"cloud enable-key {old}")
    world.ok("cloud advance 2h")  # the vault moves to the new version within the hour
    world.ok("cloud backup rsv-drift-rot -vm vm-app-01")  # re-wraps the data key with it
    world.ok(f"cloud disable-key {old}")
    code, vaults = _audit(world)
    assert code == 0, vaults["rsv-drift-rot"]["findings"]
    assert "KEY_VERSION_STILL_WRAPS" not in _codes(vaults["rsv-drift-rot"])


def test_an_expired_older_key_version_still_unwraps_the_data_key(world):
    """Key Vault still unwraps with an expired key version (it only refuses wrapping new keys):
    an older version that expired before the vault re-wrapped its data key is no finding, and
    backups and restores go on. A rotation policy with expire_after makes exactly that."""
    shutil.copytree(ESTATES / "backed-up", world.root / "backed-up")
    world.ok("apply {dir} -auto-approve", "backed-up")
    world.ok("cloud backup rsv-drift-rot -vm vm-app-01")
    keys = world.key_client("kv-drift-rot")
    old = keys.get_key("cmk")
    world.ok("cloud rotate-key https://kv-drift-rot.vault.azure.net/keys/cmk")
    keys.update_key_properties(
        "cmk", old.properties.version, expires_on=datetime.now(UTC) + timedelta(hours=1)
    )
    world.ok("cloud advance 2h")  # the older version has expired; no backup has re-wrapped yet
    code, vaults = _audit(world)
    assert code == 0, vaults["rsv-drift-rot"]["findings"]
    assert "KEY_VERSION_STILL_WRAPS" not in _codes(vaults["rsv-drift-rot"])
    world.ok("cloud backup rsv-drift-rot -vm vm-app-01")

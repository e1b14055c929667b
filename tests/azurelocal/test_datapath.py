"""Backup and restore through the data path: DEK wrapping, rotation, failures, integrity, byte-for-byte restore."""

from __future__ import annotations

import re

import pytest

from providers.azurelocal import crypto, datapath, diskdata, seed
from providers.azurelocal.store import Kind
from tests.azurelocal.kvhelpers import CMK_PERMISSIONS, grant, make_cmk_vault, revoke, rs_vault_body

KV = "kv-backup"
# DER RSA private keys: PKCS#1 (SEQUENCE, version 0, INTEGER modulus) and PKCS#8 (version 0, rsaEncryption OID)
PKCS1_PREFIX = re.compile(rb"\x30\x82..\x02\x01\x00\x02\x82", re.DOTALL)
PKCS8_RSA_PREFIX = re.compile(
    rb"\x30\x82..\x02\x01\x00\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01", re.DOTALL
)
GROUP = "rg-backup"
VM = seed.vm_id("vm-app-01")
DISK = seed.disk_id("vm-app-01_OsDisk_1")


def _vault_body(env, identity="SystemAssigned", encryption=None):
    return rs_vault_body(env, identity, encryption)


@pytest.fixture
def setup(env, keyvault_mgmt, resource_client, rs_client, key_client):
    """A CMK vault (system identity, versionless key) ready to back up."""
    return make_cmk_vault(
        env, keyvault_mgmt, resource_client, rs_client, key_client, key_vault=KV, group=GROUP
    )


def backup(env, ns):
    return datapath.run_backup(env, ns.vault_id, None, env.deployer_object_id, vm_id=VM)


def status(job):
    props = job["properties"]
    return props["status"], (props["errorDetails"][0]["errorCode"] if props["errorDetails"] else None)


def last_rp(env, vault_id):
    rps = [rp for rp in env.store.list(Kind.RECOVERY_POINT) if rp["_emulator"]["vault_id"] == vault_id]
    return sorted(rps, key=lambda rp: rp["properties"]["recoveryPointTime"])[-1]


def restore(env, ns, rp_id, **kw):
    return datapath.restore(env, ns.vault_id, rp_id, principal_id=env.deployer_object_id, **kw)


def restored_bytes(env, job):
    return [diskdata.read_disk(env, env.store.get(Kind.DISK, d)) for d in job["restored_disk_ids"]]


def test_backup_and_byte_for_byte_restore(env, setup):
    original = diskdata.read_disk(env, env.store.get(Kind.DISK, DISK))
    job = backup(env, setup)
    assert status(job) == ("Completed", None)
    rp = last_rp(env, setup.vault_id)
    assert rp["_emulator"]["key_version_id"] == setup.key.id
    diskdata.touch(env, DISK)
    assert diskdata.read_disk(env, env.store.get(Kind.DISK, DISK)) != original
    done = restore(env, setup, rp["id"])
    assert status(done) == ("Completed", None)
    assert restored_bytes(env, done) == [original]
    restored = env.store.get(Kind.DISK, done["restored_disk_ids"][0])
    assert restored["properties"]["encryption"]["type"] == "EncryptionAtRestWithPlatformKey"


def test_vault_without_cmk_uses_the_platform_key(env, setup, rs_client):
    plain = rs_client.vaults.begin_create_or_update(GROUP, "rsv-plain", _vault_body(env)).result()
    job = datapath.run_backup(env, plain.id, None, vm_id=VM)
    assert status(job) == ("Completed", None)
    assert datapath.current_dek_version(env, plain.id) == datapath.PLATFORM_KEY
    rp = last_rp(env, plain.id)
    assert status(datapath.restore(env, plain.id, rp["id"]))[0] == "Completed"


def test_database_never_holds_private_keys_or_raw_deks(env, setup):
    assert status(backup(env, setup))[0] == "Completed"
    dek, _ = datapath.ensure_dek(env, setup.vault_id)
    env.store._conn().execute("PRAGMA wal_checkpoint(FULL)")
    raw = b""
    for path in env.store.path.parent.glob(env.store.path.name + "*"):
        if not path.name.endswith(".key"):
            raw += path.read_bytes()
    der = crypto.private_to_der(crypto.generate_key(crypto.KeyType.RSA, size=2048))
    assert PKCS1_PREFIX.search(der) and PKCS8_RSA_PREFIX.search(der)  # the patterns do find a real key
    assert b"PRIVATE KEY" not in raw
    assert not PKCS1_PREFIX.search(raw) and not PKCS8_RSA_PREFIX.search(raw)
    assert dek not in raw and crypto.b64url_encode(dek).encode() not in raw


def test_disabled_key_version_fails_backup_with_a_clear_code(env, setup):
    assert status(backup(env, setup))[0] == "Completed"
    setup.kc.update_key_properties("cmk", setup.key.properties.version, enabled=False)
    assert status(backup(env, setup)) == ("Failed", "UserErrorCMKKeyNotEnabled")


def test_revoked_grant_and_disabled_identity_fail_backup(env, setup, keyvault_mgmt):
    assert status(backup(env, setup))[0] == "Completed"
    revoke(env, keyvault_mgmt, GROUP, KV, setup.principal, CMK_PERMISSIONS)
    assert status(backup(env, setup)) == ("Failed", "UserErrorCMKMissingMangedIdentityPermissionOnKeyVault")
    grant(env, keyvault_mgmt, GROUP, KV, setup.principal, CMK_PERMISSIONS)
    assert status(backup(env, setup))[0] == "Completed"
    env.set_principal_enabled(setup.principal, False)
    assert status(backup(env, setup)) == ("Failed", "UserErrorCMKMissingMangedIdentityPermissionOnKeyVault")


def test_deleted_key_fails_backup_with_key_not_found(env, setup):
    assert status(backup(env, setup))[0] == "Completed"
    setup.kc.begin_delete_key("cmk").result()
    assert status(backup(env, setup)) == ("Failed", "UserErrorKeyVaultKeyWasNotFound")


def test_rotation_is_followed_after_the_delay_and_old_version_stays_needed(env, setup):
    assert status(backup(env, setup))[0] == "Completed"
    first_rp = last_rp(env, setup.vault_id)
    new = setup.kc.rotate_key("cmk")
    assert status(backup(env, setup))[0] == "Completed"
    assert datapath.current_dek_version(env, setup.vault_id) == setup.key.id  # not yet: delay is one hour
    env.clock.advance(datapath.DEFAULT_ROTATION_DELAY + 1)
    assert status(backup(env, setup))[0] == "Completed"
    assert datapath.current_dek_version(env, setup.vault_id) == new.id  # re-wrapped with the new version
    assert last_rp(env, setup.vault_id)["_emulator"]["key_version_id"] == new.id
    setup.kc.update_key_properties("cmk", setup.key.properties.version, enabled=False)
    failed = restore(env, setup, first_rp["id"])
    assert status(failed) == ("Failed", "UserErrorCMKKeyNotEnabled")
    assert setup.key.properties.version in failed["properties"]["errorDetails"][0]["errorString"]
    assert status(restore(env, setup, last_rp(env, setup.vault_id)["id"]))[0] == "Completed"


def test_rotation_delay_is_configurable(env, setup):
    datapath.set_rotation_delay(env, 0)
    assert status(backup(env, setup))[0] == "Completed"
    new = setup.kc.rotate_key("cmk")
    assert status(backup(env, setup))[0] == "Completed"
    assert datapath.current_dek_version(env, setup.vault_id) == new.id


@pytest.mark.parametrize("part", ["ciphertext", "tag", "wrapped_dek"])
def test_tampering_gives_an_integrity_error_never_wrong_data(env, setup, part):
    assert status(backup(env, setup))[0] == "Completed"
    rp = last_rp(env, setup.vault_id)
    extra = rp["_emulator"]
    if part == "wrapped_dek":
        raw = bytearray(crypto.b64url_decode(extra["wrapped_dek"]))
        raw[10] ^= 0xFF
        extra["wrapped_dek"] = crypto.b64url_encode(bytes(raw))
    else:
        env_json = extra["disks"][0]["envelope"]
        raw = bytearray(crypto.b64url_decode(env_json[part]))
        raw[0] ^= 0x01
        env_json[part] = crypto.b64url_encode(bytes(raw))
    env.store.put(Kind.RECOVERY_POINT, rp["id"], rp)
    job = restore(env, setup, rp["id"])
    assert status(job) == ("Failed", "UserErrorRecoveryPointIntegrityCheckFailed")
    assert "restored_disk_ids" not in job


def test_restore_with_a_disk_encryption_set(env, setup, keyvault_mgmt):
    original = diskdata.read_disk(env, env.store.get(Kind.DISK, DISK))
    assert status(backup(env, setup))[0] == "Completed"
    des = diskdata.create_disk_encryption_set(env, GROUP, "des-restore", setup.key.id)
    rp = last_rp(env, setup.vault_id)
    denied = restore(env, setup, rp["id"], des_id=des["id"])
    assert status(denied) == ("Failed", "UserErrorCMKMissingMangedIdentityPermissionOnKeyVault")
    grant(env, keyvault_mgmt, GROUP, KV, des["identity"]["principalId"], CMK_PERMISSIONS)
    job = restore(env, setup, rp["id"], des_id=des["id"])
    assert status(job)[0] == "Completed"
    disk = env.store.get(Kind.DISK, job["restored_disk_ids"][0])
    assert disk["properties"]["encryption"] == {
        "type": "EncryptionAtRestWithCustomerKey",
        "diskEncryptionSetId": des["id"],
    }
    assert disk["_emulator"]["sealed_content"]["key_id"] == setup.key.id
    assert restored_bytes(env, job) == [original]


def test_expired_key_fails_backup(env, setup):
    from datetime import timedelta

    assert status(backup(env, setup))[0] == "Completed"
    setup.kc.update_key_properties(
        "cmk", setup.key.properties.version, expires_on=env.clock.now() + timedelta(days=1)
    )
    env.clock.advance(2 * 86400)
    assert status(backup(env, setup)) == ("Failed", "UserErrorCMKKeyExpired")
    assert status(restore(env, setup, last_rp(env, setup.vault_id)["id"]))[0] == "Completed"

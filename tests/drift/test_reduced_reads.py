"""drift reads less than one GET per object (listings, no backup jobs for a vault that has its key, Key
Vault's challenge answered from the listed tenant) and still sees what changed behind vaultform's back:
a key's operations, a new key version, a rotation policy, a vault's encryption."""

from __future__ import annotations

import pytest
from azure.keyvault.keys._shared import http_challenge_cache

from providers.azurelocal import keyrotation
from providers.azurelocal.app import Emulator
from providers.azurelocal.store import Kind, Store

KEY, RSV = "azurerm_key_vault_key.cmk", "azurerm_recovery_services_vault.rsv"


@pytest.fixture
def answers(monkeypatch):
    """(status, path) of every answer the local Azure gives from here on."""
    seen: list[tuple[int, str]] = []
    original = Emulator.handle

    def handle(emulator, request):
        response = original(emulator, request)
        seen.append((response.status, request.path))
        return response

    monkeypatch.setattr(Emulator, "handle", handle)
    return seen


def _drift_reading_less(world, answers) -> dict:
    http_challenge_cache.clear()  # as in a new process
    answers.clear()
    code, report = world.drift("system-identity")
    assert code == 2, report
    assert not [a for a in answers if a[0] == 401], "\n".join(f"{s} {p}" for s, p in answers)
    assert not [a for a in answers if a[1].lower().endswith("/backupjobs")], "a CMK vault's jobs were listed"
    return report


def _attributes(report: dict, address: str) -> set[str]:
    return {r["attribute"] for r in report["drift"] if r["address"] == address}


def test_key_operations_updated_out_of_band(world, answers):
    world.key_client("kv-drift-sys").update_key_properties("cmk", key_operations=["wrapKey"])
    report = _drift_reading_less(world, answers)
    assert any(a.startswith("key_opts") for a in _attributes(report, KEY)), report["drift"]


def test_a_new_key_version_out_of_band(world, answers):
    world.key_client("kv-drift-sys").create_rsa_key("cmk", size=2048)
    report = _drift_reading_less(world, answers)
    assert {"id", "version"} & _attributes(report, KEY), report["drift"]


def test_a_rotation_policy_set_out_of_band(world, answers):
    env = Emulator(world.db)
    try:
        keyrotation.set_rotation_policy(
            env,
            "kv-drift-sys",
            "cmk",
            {
                "lifetimeActions": [{"trigger": {"timeAfterCreate": "P30D"}, "action": {"type": "Rotate"}}],
                "attributes": {"expiryTime": "P90D"},
            },
        )
    finally:
        env.store.close()
    report = _drift_reading_less(world, answers)
    assert any(a.startswith("rotation_policy") for a in _attributes(report, KEY)), report["drift"]


def test_a_vaults_encryption_changed_out_of_band(world, answers):
    store = Store(world.db)
    try:
        body = next(b for b in store.list(Kind.RS_VAULT) if b["name"] == "rsv-drift-sys")
        enc = body["properties"]["encryption"]
        enc["keyVaultProperties"]["keyUri"] = enc["keyVaultProperties"]["keyUri"].rsplit("/", 1)[0]
        store.put(Kind.RS_VAULT, body["id"], body)
    finally:
        store.close()
    report = _drift_reading_less(world, answers)
    assert any(a.startswith("encryption") for a in _attributes(report, RSV)), report["drift"]


def test_an_unmanaged_vault_says_how_it_encrypts_though_lists_do_not(with_stray, answers):
    """Azure's vault lists leave out encryption: the unmanaged vault is read on its own to say whether
    it uses a customer-managed key, and the managed vault, which the refresh read, is not read again
    by the audit or by the search for unmanaged objects."""
    world = with_stray

    def stray_detail() -> str:
        code, report = world.drift("system-identity")
        assert code == 2, report
        (stray,) = [u for u in report["unmanaged"] if u["name"] == "rsv-drift-stray"]
        return stray["detail"]

    answers.clear()
    assert stray_detail() == "platform-managed key"
    managed = [a for a in answers if a[1].lower().endswith("/vaults/rsv-drift-sys")]
    assert len(managed) == 1, answers  # the refresh's GET only

    store = Store(world.db)
    try:
        body = next(b for b in store.list(Kind.RS_VAULT) if b["name"] == "rsv-drift-stray")
        key_uri = world.state("system-identity")[KEY]["id"]
        body["properties"]["encryption"] = {
            "keyVaultProperties": {"keyUri": key_uri},
            "kekIdentity": {"useSystemAssignedIdentity": True},
            "infrastructureEncryption": "Disabled",
        }
        store.put(Kind.RS_VAULT, body["id"], body)
    finally:
        store.close()
    assert stray_detail() == "customer-managed key"

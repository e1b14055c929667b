"""State encrypted with the azure_keyvault key provider on the local Azure's Key Vault (real RSA
keys, wrapKey/unwrapKey through the official SDK): no value in clear, a key rotation (a new key
version) still opens the state, a state moved to another key through fallback, and a key the
signed-in identity may not use fails cleanly with the state untouched."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from azure.keyvault.keys import KeyClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from providers.azurelocal.app import Emulator
from providers.azurelocal.credential import LocalCredential
from providers.azurelocal.services.providers import register_everything
from providers.azurelocal.transport import local_transport
from tests.azurelocal.kvhelpers import make_key_vault, revoke
from tests.state.test_encryption import SECRET, apply, run

FIXTURES = Path(__file__).parents[1] / "fixtures" / "encryption"
VAULT = "kv-state-enc"


@pytest.fixture
def azure(tmp_path, monkeypatch):
    db = tmp_path / "local-azure.db"
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(db))
    monkeypatch.delenv("TF_ENCRYPTION", raising=False)
    env = Emulator(db)
    env.calm_faults()
    register_everything(env)
    kw = {"transport": local_transport(env), "polling_interval": 0}
    mgmt = KeyVaultManagementClient(LocalCredential(), env.subscription_id, **kw)
    make_key_vault(env, mgmt, ResourceManagementClient(LocalCredential(), env.subscription_id, **kw), VAULT)
    keys = KeyClient(f"https://{VAULT}.vault.azure.net/", LocalCredential(), transport=local_transport(env))
    keys.create_rsa_key("state-key", size=2048)
    yield env, mgmt, keys
    env.store.close()


def _meta(path: Path, provider: str = "key_provider.azure_keyvault.cmk") -> dict:
    doc = json.loads(path.read_bytes())
    return json.loads(base64.b64decode(doc["meta"][provider]))


def test_state_wrapped_by_key_vault_survives_a_key_rotation(azure, tmp_path):
    _env, _mgmt, keys = azure
    work = tmp_path / "cfg"
    shutil.copytree(FIXTURES / "keyvault", work)
    apply(work)
    state = work / "vaultform.tfstate"
    assert SECRET not in state.read_bytes()
    first = _meta(state)
    assert first["algo"] == "RSA-OAEP-256" and first["iv"] is None
    assert first["key_version"] == keys.get_key("state-key").properties.version
    assert len(base64.b64decode(first["ciphertext"])) == 256  # RSA-2048 wraps the data key

    keys.rotate_key("state-key")  # a new key version becomes the current one
    code, text = run("plan", "-detailed-exitcode", "-no-color", str(work))
    assert code == 0, text  # the wrapped key names its version, which Key Vault still unwraps
    (work / "main.tf").write_text(
        (work / "main.tf").read_text().replace("hunter2-attribute-value", "hunter3")
    )
    apply(work)
    second = _meta(state)
    assert second["key_version"] == keys.get_key("state-key").properties.version != first["key_version"]
    assert second["ciphertext"] != first["ciphertext"]  # a fresh data key for the write
    code, text = run("plan", "-detailed-exitcode", "-no-color", str(work))
    assert code == 0, text


def test_moving_to_another_key_through_fallback(azure, tmp_path):
    _env, _mgmt, keys = azure
    work = tmp_path / "cfg"
    shutil.copytree(FIXTURES / "keyvault", work)
    apply(work)
    keys.create_rsa_key("state-key-2", size=2048)
    text = (work / "main.tf").read_text()
    text = text.replace(
        '    method "aes_gcm" "cmk" {',
        '    key_provider "azure_keyvault" "next" {\n      vault_uri = "https://kv-state-enc.vault.azure.net/"\n'
        '      key_name  = "state-key-2"\n    }\n    method "aes_gcm" "next" {\n'
        "      keys = key_provider.azure_keyvault.next\n    }\n"
        '    method "aes_gcm" "cmk" {',
    )
    text = text.replace(
        "    state {\n      method = method.aes_gcm.cmk\n    }",
        "    state {\n      method = method.aes_gcm.next\n      fallback {\n        method = method.aes_gcm.cmk\n      }\n    }",
    )
    (work / "main.tf").write_text(text)
    apply(work)  # read with the old key, stored with the new one
    state = work / "vaultform.tfstate"
    assert list(json.loads(state.read_bytes())["meta"]) == ["key_provider.azure_keyvault.next"]
    assert SECRET not in state.read_bytes()
    code, out = run("plan", "-detailed-exitcode", "-no-color", str(work))
    assert code == 0, out


def test_a_key_the_identity_may_not_unwrap_fails_cleanly(azure, tmp_path):
    env, mgmt, _keys = azure
    work = tmp_path / "cfg"
    shutil.copytree(FIXTURES / "keyvault", work)
    apply(work)
    state = work / "vaultform.tfstate"
    before = state.read_bytes()
    revoke(env, mgmt, "rg-keys", VAULT, env.deployer_object_id, ["unwrapKey"])
    code, text = run("apply", "-auto-approve", "-no-color", str(work))
    assert code == 1, text
    assert "cannot decrypt the state: method.aes_gcm.cmk" in text, text
    assert "Key Vault refused unwrapKey" in text and "Grant the signed-in identity" in text, text
    assert "Traceback" not in text
    assert state.read_bytes() == before

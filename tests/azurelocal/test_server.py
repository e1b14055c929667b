"""The HTTPS server: unmodified SDK clients reach ARM and a key vault given only the CA and the environment."""

from __future__ import annotations

import os

import pytest
from azure.identity import ClientSecretCredential
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from providers.azurelocal.app import Emulator
from providers.azurelocal.server import LocalAzureServer, challenge_resource
from providers.azurelocal.services.providers import register_everything


@pytest.fixture
def served(tmp_path, monkeypatch):
    env = Emulator(tmp_path / "served.db")
    env.calm_faults()  # this test looks at the HTTPS server, not at propagation delays
    register_everything(env)  # ... nor at resource provider registration
    server = LocalAzureServer(env).start()
    for name, value in server.environment().items():
        monkeypatch.setenv(name, value)
    yield server
    server.stop()
    env.store.close()


def signed_in(server: LocalAzureServer) -> ClientSecretCredential:
    """The deployer signed in the way the banner says: its client secret at the local login host."""
    return ClientSecretCredential(
        server.env.tenant_id,
        os.environ["ARM_CLIENT_ID"],
        os.environ["ARM_CLIENT_SECRET"],
        authority=server.book.arm_base,
        disable_instance_discovery=True,
    )


def test_challenge_resource_is_the_host_minus_its_first_label():
    assert challenge_resource("kv1.vault.azure.net") == "https://vault.azure.net"
    assert challenge_resource("127.0.0.1:8443") == "https://0.0.1:8443"


def test_banner_prints_exports(served):
    text = served.banner()
    assert f"export REQUESTS_CA_BUNDLE={served.tls.ca_cert}" in text
    assert f"export ARM_TENANT_ID={served.env.tenant_id}" in text
    assert served.base_url.startswith("https://127.0.0.1:")


def test_sdk_clients_over_https(served):
    sub = os.environ["AZURE_SUBSCRIPTION_ID"]
    credential = signed_in(served)
    base = served.base_url
    resources = ResourceManagementClient(credential, sub, base_url=base, retry_total=0)
    group = resources.resource_groups.create_or_update("rg-served", {"location": "westeurope"})
    assert group.name == "rg-served"
    kv = KeyVaultManagementClient(credential, sub, base_url=base, retry_total=0)
    vault = kv.vaults.begin_create_or_update(
        "rg-served",
        "kv-served",
        {
            "location": "westeurope",
            "properties": {
                "tenantId": os.environ["AZURE_TENANT_ID"],
                "sku": {"family": "A", "name": "standard"},
                "enablePurgeProtection": True,
                "accessPolicies": [
                    {
                        "tenantId": os.environ["AZURE_TENANT_ID"],
                        "objectId": os.environ["VAULTFORM_OBJECT_ID"],
                        "permissions": {"keys": ["get", "list", "create", "wrapKey", "unwrapKey"]},
                    }
                ],
            },
        },
    ).result()
    assert vault.properties.vault_uri.startswith("https://127.0.0.1:")
    assert vault.properties.vault_uri != base
    keys = KeyClient(vault.properties.vault_uri, credential, retry_total=0)
    key = keys.create_rsa_key("cmk", size=2048)
    assert key.id.startswith(vault.properties.vault_uri + "keys/cmk/")
    crypto = CryptographyClient(key.id, credential, retry_total=0)
    wrapped = crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, b"d" * 32)
    assert crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key).key == b"d" * 32
    # inside, the emulator keeps Azure's names
    stored = served.env.store.list("keyvault")[0]
    assert stored["properties"]["vaultUri"] == "https://kv-served.vault.azure.net/"

    # a local key id sent back through ARM is stored under Azure's name and shown under the local one
    from azure.mgmt.recoveryservices import RecoveryServicesClient

    rs = RecoveryServicesClient(credential, sub, base_url=base, retry_total=0)
    body = {
        "location": "westeurope",
        "sku": {"name": "Standard"},
        "identity": {"type": "SystemAssigned"},
        "properties": {"publicNetworkAccess": "Enabled"},
    }
    rsv = rs.vaults.begin_create_or_update("rg-served", "rsv-served", body).result()
    kv.vaults.update_access_policy(
        "rg-served",
        "kv-served",
        "add",
        {
            "properties": {
                "accessPolicies": [
                    {
                        "tenantId": os.environ["AZURE_TENANT_ID"],
                        "objectId": rsv.identity.principal_id,
                        "permissions": {"keys": ["get", "list", "wrapKey", "unwrapKey"]},
                    }
                ]
            }
        },
    )
    body["properties"]["encryption"] = {
        "keyVaultProperties": {"keyUri": key.id},
        "kekIdentity": {"useSystemAssignedIdentity": True},
    }
    encrypted = rs.vaults.begin_create_or_update("rg-served", "rsv-served", body).result()
    assert encrypted.properties.encryption.key_vault_properties.key_uri == key.id
    inside = served.env.store.get("rsvault", encrypted.id)
    assert inside["properties"]["encryption"]["keyVaultProperties"]["keyUri"].startswith(
        "https://kv-served.vault.azure.net/keys/cmk/"
    )


def test_clients_without_the_ca_are_refused(served, monkeypatch):
    from azure.core.exceptions import ServiceRequestError

    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    from providers.azurelocal.tokens import IssuedCredential

    resources = ResourceManagementClient(
        IssuedCredential(served.issuer), served.env.subscription_id, base_url=served.base_url, retry_total=0
    )
    with pytest.raises(ServiceRequestError, match="CERTIFICATE_VERIFY_FAILED"):
        resources.resource_groups.get("rg-workloads")
    assert oct(os.stat(served.tls.server_key).st_mode & 0o777) == "0o600"

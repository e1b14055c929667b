"""Shared fixtures for the local Azure: an Emulator on a temporary database and the official SDK
clients wired to it through the in-process transport (no socket, no network).

Fixtures: ``env`` (Emulator), ``transport``, ``credential`` (the deployer), ``sub`` (subscription id),
``make_client(cls, **kw)`` (any azure-core client class), and one fixture per management client:
``resource_client``, ``msi_client``, ``keyvault_mgmt``, ``auth_client``, ``rs_client``,
``backup_client``. ``key_client(vault_name, object_id=None)`` builds a Key Vault KeyClient.
Retry backoff is kept tiny so fault tests stay fast.
"""

from __future__ import annotations

import pytest

from providers.azurelocal.app import Emulator
from providers.azurelocal.credential import LocalCredential
from providers.azurelocal.transport import local_transport

FAST_RETRY = {"retry_backoff_factor": 0.0, "retry_backoff_max": 0.0, "retry_total": 10}


@pytest.fixture
def env(tmp_path):
    emulator = Emulator(tmp_path / "local-azure.db")
    yield emulator
    emulator.store.close()


@pytest.fixture
def transport(env):
    return local_transport(env)


@pytest.fixture
def credential():
    return LocalCredential()


@pytest.fixture
def sub(env):
    return env.subscription_id


@pytest.fixture
def make_client(env, transport, credential):
    def build(cls, *args, object_id: str | None = None, **kwargs):
        cred = LocalCredential(object_id) if object_id else credential
        options = {**FAST_RETRY, **kwargs}
        if "vault_url" in options or (args and str(args[0]).startswith("https://")):
            return cls(*args, credential=cred, transport=local_transport(env), **options)
        return cls(cred, env.subscription_id, *args, transport=local_transport(env), **options)
    return build


@pytest.fixture
def resource_client(make_client):
    from azure.mgmt.resource.resources import ResourceManagementClient
    return make_client(ResourceManagementClient)


@pytest.fixture
def msi_client(make_client):
    from azure.mgmt.msi import ManagedServiceIdentityClient
    return make_client(ManagedServiceIdentityClient)


@pytest.fixture
def keyvault_mgmt(make_client):
    from azure.mgmt.keyvault import KeyVaultManagementClient
    return make_client(KeyVaultManagementClient)


@pytest.fixture
def auth_client(make_client):
    from azure.mgmt.authorization import AuthorizationManagementClient
    return make_client(AuthorizationManagementClient)


@pytest.fixture
def rs_client(make_client):
    from azure.mgmt.recoveryservices import RecoveryServicesClient
    return make_client(RecoveryServicesClient)


@pytest.fixture
def backup_client(make_client):
    from azure.mgmt.recoveryservicesbackup import RecoveryServicesBackupClient
    return make_client(RecoveryServicesBackupClient)


@pytest.fixture
def key_client(env):
    """``key_client(vault_name, object_id=None)`` -> azure.keyvault.keys.KeyClient on the emulator."""
    from azure.keyvault.keys import KeyClient

    def build(vault_name: str, object_id: str | None = None):
        return KeyClient(f"https://{vault_name}.vault.azure.net/", LocalCredential(object_id),
                         transport=local_transport(env), **FAST_RETRY)
    return build

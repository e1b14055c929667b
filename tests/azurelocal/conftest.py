"""Shared fixtures for the local Azure: an Emulator on a temporary database and the official SDK
clients wired to it through the in-process transport (no socket, no network).

Fixtures: ``env`` (Emulator), ``transport``, ``credential`` (the deployer), ``sub`` (subscription id),
``make_client(cls, **kw)`` (any azure-core client class), and one fixture per management client:
``resource_client``, ``msi_client``, ``keyvault_mgmt``, ``auth_client``, ``rs_client``,
``backup_client``. ``key_client(vault_name, object_id=None)`` builds a Key Vault KeyClient.
``cmk`` is a CmkKit: builders for key vaults, keys, vaults, grants, key assignment, policies and
protection, with the resource group ``CMK_RG`` created.
Retry backoff is kept tiny so fault tests stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from providers.azurelocal.app import Emulator
from providers.azurelocal.credential import LocalCredential
from providers.azurelocal.services.providers import register_everything
from providers.azurelocal.transport import local_transport

FAST_RETRY = {"retry_backoff_factor": 0.0, "retry_backoff_max": 0.0, "retry_total": 10}


@pytest.fixture
def env(tmp_path):
    emulator = Emulator(tmp_path / "local-azure.db")
    # Propagation delays, write conflicts and Azure Backup's asynchronous operations are on by
    # default; tests of other behaviours switch them off (the tests of those behaviours switch
    # them back on).
    emulator.calm_faults()
    register_everything(emulator)
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
        return KeyClient(
            f"https://{vault_name}.vault.azure.net/",
            LocalCredential(object_id),
            transport=local_transport(env),
            **FAST_RETRY,
        )

    return build


# ---------------------------------------------------------------------- CMK scenario kit

CMK_RG = "rg-backup"
CMK_KV = "kv-cmk-01"
CMK_KEY = "cmk-key"
CMK_VAULT = "rsv-cmk-01"
CMK_GRANT = ("Get", "List", "WrapKey", "UnwrapKey")


@dataclass
class CmkKit:
    """Builders for CMK scenarios (names CMK_RG/CMK_KV/CMK_KEY/CMK_VAULT), all through the official SDK clients."""

    RG = CMK_RG
    KV = CMK_KV
    KEY = CMK_KEY
    VAULT = CMK_VAULT
    GRANT = CMK_GRANT

    env: object
    resources: object
    msi: object
    keyvault: object
    auth: object
    rs: object
    backup: object
    key_client: object

    def key_vault(
        self, name: str = CMK_KV, location: str = "westeurope", purge_protection: bool = True, **props
    ):
        properties = {
            "tenantId": self.env.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [
                {
                    "tenantId": self.env.tenant_id,
                    "objectId": self.env.deployer_object_id,
                    "permissions": {"keys": ["Get", "List", "Create", "Update", "Delete", "Rotate"]},
                }
            ],
        }
        if purge_protection:
            properties["enablePurgeProtection"] = True
        properties.update(props)
        return self.keyvault.vaults.begin_create_or_update(
            CMK_RG, name, {"location": location, "properties": properties}
        ).result()

    def rsa_key(self, vault_name: str = CMK_KV, name: str = CMK_KEY, size: int = 2048, **kwargs):
        return self.key_client(vault_name).create_rsa_key(name, size=size, **kwargs)

    def rs_vault(
        self,
        name: str = CMK_VAULT,
        identity_type: str = "SystemAssigned",
        sku: str = "Standard",
        user_identities: list[str] | None = None,
        **props,
    ):
        identity = {"type": identity_type}
        if user_identities:
            identity["userAssignedIdentities"] = {i: {} for i in user_identities}
        body = {
            "location": "westeurope",
            "sku": {"name": sku},
            "identity": identity,
            "properties": {"publicNetworkAccess": "Enabled", **props},
        }
        if "UserAssigned" not in identity_type:
            return self.rs.vaults.begin_create_or_update(CMK_RG, name, body).result()
        # As azurerm does (azure-rest-api-specs issues 27869 and 27851): create without the
        # user-assigned identity, then PATCH it on.
        self.rs.vaults.begin_create_or_update(CMK_RG, name, {**body, "identity": {"type": "None"}}).result()
        return self.rs.vaults.begin_update(CMK_RG, name, {"identity": identity}).result()

    def grant_policy(self, principal_id: str, kv_name: str = CMK_KV, permissions=None):
        self.keyvault.vaults.update_access_policy(
            CMK_RG,
            kv_name,
            "add",
            {
                "properties": {
                    "accessPolicies": [
                        {
                            "tenantId": self.env.tenant_id,
                            "objectId": principal_id,
                            "permissions": {"keys": list(permissions or CMK_GRANT)},
                        }
                    ]
                }
            },
        )

    def encryption(
        self, key_id: str, user_identity: str | None = None, infrastructure: str = "Disabled"
    ) -> dict:
        kek = (
            {"userAssignedIdentity": user_identity, "useSystemAssignedIdentity": False}
            if user_identity
            else {"useSystemAssignedIdentity": True}
        )
        return {
            "keyVaultProperties": {"keyUri": key_id},
            "kekIdentity": kek,
            "infrastructureEncryption": infrastructure,
        }

    def assign_key(self, key_id: str, vault_name: str = CMK_VAULT, **kw):
        return self.rs.vaults.begin_update(
            CMK_RG, vault_name, {"properties": {"encryption": self.encryption(key_id, **kw)}}
        ).result()

    def vm_id(self, name: str = "vm-app-01") -> str:
        return f"/subscriptions/{self.env.subscription_id}/resourceGroups/rg-workloads/providers/Microsoft.Compute/virtualMachines/{name}"

    def policy(self, vault_name: str = CMK_VAULT, name: str = "daily"):
        body = {
            "properties": {
                "backupManagementType": "AzureIaasVM",
                "policyType": "V1",
                "timeZone": "UTC",
                "instantRpRetentionRangeInDays": 2,
                "schedulePolicy": {
                    "schedulePolicyType": "SimpleSchedulePolicy",
                    "scheduleRunFrequency": "Daily",
                    "scheduleRunTimes": ["2026-01-01T23:00:00Z"],
                },
                "retentionPolicy": {
                    "retentionPolicyType": "LongTermRetentionPolicy",
                    "dailySchedule": {
                        "retentionTimes": ["2026-01-01T23:00:00Z"],
                        "retentionDuration": {"count": 30, "durationType": "Days"},
                    },
                },
            }
        }
        return self.backup.protection_policies.create_or_update(vault_name, CMK_RG, name, body)

    def protect(self, policy_id: str, vm: str = "vm-app-01", vault_name: str = CMK_VAULT):
        container = f"iaasvmcontainer;iaasvmcontainerv2;rg-workloads;{vm}"
        item = f"VM;iaasvmcontainerv2;rg-workloads;{vm}"
        body = {
            "properties": {
                "protectedItemType": "Microsoft.Compute/virtualMachines",
                "sourceResourceId": self.vm_id(vm),
                "policyId": policy_id,
            }
        }
        return self.backup.protected_items.begin_create_or_update(
            vault_name, CMK_RG, "Azure", container, item, body
        ).result()


@pytest.fixture
def cmk(env, resource_client, msi_client, keyvault_mgmt, auth_client, rs_client, backup_client, key_client):
    """A CmkKit with its resource group created."""
    resource_client.resource_groups.create_or_update(CMK_RG, {"location": "westeurope"})
    return CmkKit(
        env, resource_client, msi_client, keyvault_mgmt, auth_client, rs_client, backup_client, key_client
    )

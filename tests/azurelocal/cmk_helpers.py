"""Builders for CMK scenarios, driving the emulator only through the official SDK clients."""

from __future__ import annotations

from dataclasses import dataclass

RG = "rg-backup"
KV = "kv-cmk-01"
KEY = "cmk-key"
VAULT = "rsv-cmk-01"
CMK_PERMISSIONS = ["Get", "List", "WrapKey", "UnwrapKey"]


@dataclass
class Clients:
    env: object
    resources: object
    msi: object
    keyvault: object
    auth: object
    rs: object
    backup: object
    key_client: object


def key_vault(c: Clients, name: str = KV, location: str = "westeurope", purge_protection: bool = True, **props):
    properties = {"tenantId": c.env.tenant_id, "sku": {"family": "A", "name": "standard"},
                  "accessPolicies": [{"tenantId": c.env.tenant_id, "objectId": c.env.deployer_object_id,
                                      "permissions": {"keys": ["Get", "List", "Create", "Update", "Delete", "Rotate"]}}]}
    if purge_protection:
        properties["enablePurgeProtection"] = True
    properties.update(props)
    return c.keyvault.vaults.begin_create_or_update(RG, name, {"location": location, "properties": properties}).result()


def rsa_key(c: Clients, vault_name: str = KV, name: str = KEY, size: int = 3072, **kwargs):
    return c.key_client(vault_name).create_rsa_key(name, size=size, **kwargs)


def rs_vault(c: Clients, name: str = VAULT, identity_type: str = "SystemAssigned", sku: str = "Standard",
             user_identities: list[str] | None = None, **props):
    identity = {"type": identity_type}
    if user_identities:
        identity["userAssignedIdentities"] = {i: {} for i in user_identities}
    body = {"location": "westeurope", "sku": {"name": sku}, "identity": identity,
            "properties": {"publicNetworkAccess": "Enabled", **props}}
    return c.rs.vaults.begin_create_or_update(RG, name, body).result()


def grant_policy(c: Clients, principal_id: str, kv_name: str = KV, permissions=None):
    c.keyvault.vaults.update_access_policy(RG, kv_name, "add", {"properties": {"accessPolicies": [
        {"tenantId": c.env.tenant_id, "objectId": principal_id,
         "permissions": {"keys": list(permissions or CMK_PERMISSIONS)}}]}})


def encryption(key_id: str, user_identity: str | None = None, infrastructure: str = "Disabled") -> dict:
    kek = {"userAssignedIdentity": user_identity, "useSystemAssignedIdentity": False} if user_identity \
        else {"useSystemAssignedIdentity": True}
    return {"keyVaultProperties": {"keyUri": key_id}, "kekIdentity": kek, "infrastructureEncryption": infrastructure}


def assign_key(c: Clients, key_id: str, vault_name: str = VAULT, **kw):
    return c.rs.vaults.begin_update(RG, vault_name, {"properties": {"encryption": encryption(key_id, **kw)}}).result()


def vm_id(env, name: str = "vm-app-01") -> str:
    return f"/subscriptions/{env.subscription_id}/resourceGroups/rg-workloads/providers/Microsoft.Compute/virtualMachines/{name}"


def policy(c: Clients, vault_name: str = VAULT, name: str = "daily"):
    body = {"properties": {
        "backupManagementType": "AzureIaasVM", "policyType": "V1", "timeZone": "UTC",
        "instantRpRetentionRangeInDays": 2,
        "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily",
                           "scheduleRunTimes": ["2026-01-01T23:00:00Z"]},
        "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy", "dailySchedule": {
            "retentionTimes": ["2026-01-01T23:00:00Z"], "retentionDuration": {"count": 30, "durationType": "Days"}}}}}
    return c.backup.protection_policies.create_or_update(vault_name, RG, name, body)


def protect(c: Clients, policy_id: str, vm: str = "vm-app-01", vault_name: str = VAULT):
    container = f"iaasvmcontainer;iaasvmcontainerv2;rg-workloads;{vm}"
    item = f"VM;iaasvmcontainerv2;rg-workloads;{vm}"
    body = {"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines",
                           "sourceResourceId": vm_id(c.env, vm), "policyId": policy_id}}
    return c.backup.protected_items.begin_create_or_update(vault_name, RG, "Azure", container, item, body).result()

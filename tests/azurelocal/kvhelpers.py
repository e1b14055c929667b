"""Helpers for the Key Vault data-plane tests: key vaults and grants made through the official SDKs."""

from __future__ import annotations

ALL_KEY_PERMISSIONS = [
    "get",
    "list",
    "create",
    "update",
    "delete",
    "recover",
    "purge",
    "wrapKey",
    "unwrapKey",
    "encrypt",
    "decrypt",
    "sign",
    "verify",
    "rotate",
    "getrotationpolicy",
    "setrotationpolicy",
]
CMK_PERMISSIONS = ["get", "list", "wrapKey", "unwrapKey"]


def make_key_vault(
    env,
    keyvault_mgmt,
    resource_client,
    name: str,
    *,
    group: str = "rg-keys",
    rbac: bool = False,
    purge_protection: bool = True,
    policies: list[dict] | None = None,
    location: str | None = None,
) -> dict:
    """A key vault whose access policies give the deployer every key permission (unless ``policies``)."""
    location = location or env.location_default
    resource_client.resource_groups.create_or_update(group, {"location": location})
    if policies is None:
        policies = [] if rbac else [policy(env, env.deployer_object_id, ALL_KEY_PERMISSIONS)]
    props = {
        "tenantId": env.tenant_id,
        "sku": {"family": "A", "name": "standard"},
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 7,
        "accessPolicies": policies,
        "enableRbacAuthorization": rbac,
    }
    if purge_protection:
        props["enablePurgeProtection"] = True
    poller = keyvault_mgmt.vaults.begin_create_or_update(
        group, name, {"location": location, "properties": props}
    )
    return poller.result().as_dict()


def policy(env, object_id: str, keys: list[str]) -> dict:
    return {"tenantId": env.tenant_id, "objectId": object_id, "permissions": {"keys": keys}}


def grant(env, keyvault_mgmt, group: str, vault: str, object_id: str, keys: list[str]) -> None:
    keyvault_mgmt.vaults.update_access_policy(
        group, vault, "add", {"properties": {"accessPolicies": [policy(env, object_id, keys)]}}
    )


def revoke(env, keyvault_mgmt, group: str, vault: str, object_id: str, keys: list[str]) -> None:
    keyvault_mgmt.vaults.update_access_policy(
        group, vault, "remove", {"properties": {"accessPolicies": [policy(env, object_id, keys)]}}
    )


def new_principal(env, name: str) -> str:
    object_id = env.new_guid()
    env.register_principal(
        {
            "object_id": object_id,
            "type": "ServicePrincipal",
            "display_name": name,
            "kind": "user_assigned",
            "resource_id": None,
        }
    )
    return object_id


class CmkVault:
    """What ``make_cmk_vault`` made: ids, the vault's principal, the first key version and a KeyClient."""

    def __init__(self, vault_id: str, principal: str, key, key_client, versionless: str) -> None:
        self.vault_id, self.principal, self.key, self.kc, self.versionless = (
            vault_id,
            principal,
            key,
            key_client,
            versionless,
        )


def rs_vault_body(env, identity: str = "SystemAssigned", encryption: dict | None = None) -> dict:
    body = {
        "location": env.location_default,
        "sku": {"name": "Standard"},
        "identity": {"type": identity},
        "properties": {"publicNetworkAccess": "Enabled"},
    }
    if encryption:
        body["properties"]["encryption"] = encryption
    return body


def make_cmk_vault(
    env,
    keyvault_mgmt,
    resource_client,
    rs_client,
    key_client,
    *,
    key_vault: str = "kv-backup",
    group: str = "rg-backup",
    vault: str = "rsv",
) -> CmkVault:
    """A Recovery Services vault encrypted with a versionless RSA key through its system identity."""
    make_key_vault(env, keyvault_mgmt, resource_client, key_vault, group=group)
    kc = key_client(key_vault)
    key = kc.create_rsa_key("cmk", size=2048)
    created = rs_client.vaults.begin_create_or_update(group, vault, rs_vault_body(env)).result()
    principal = created.identity.principal_id
    grant(env, keyvault_mgmt, group, key_vault, principal, CMK_PERMISSIONS)
    versionless = key.id.rsplit("/", 1)[0]
    enc = {
        "keyVaultProperties": {"keyUri": versionless},
        "kekIdentity": {"useSystemAssignedIdentity": True},
        "infrastructureEncryption": "Disabled",
    }
    rs_client.vaults.begin_create_or_update(group, vault, rs_vault_body(env, encryption=enc)).result()
    return CmkVault(created.id, principal, key, kc, versionless)

"""Helpers for the Key Vault data-plane tests: key vaults and grants made through the official SDKs."""

from __future__ import annotations

ALL_KEY_PERMISSIONS = ["get", "list", "create", "update", "delete", "recover", "purge", "wrapKey", "unwrapKey",
                       "encrypt", "decrypt", "sign", "verify", "rotate", "getrotationpolicy",
                       "setrotationpolicy"]
CMK_PERMISSIONS = ["get", "list", "wrapKey", "unwrapKey"]


def make_key_vault(env, keyvault_mgmt, resource_client, name: str, *, group: str = "rg-keys",
                   rbac: bool = False, purge_protection: bool = True, policies: list[dict] | None = None,
                   location: str | None = None) -> dict:
    """A key vault whose access policies give the deployer every key permission (unless ``policies``)."""
    location = location or env.location_default
    resource_client.resource_groups.create_or_update(group, {"location": location})
    if policies is None:
        policies = [] if rbac else [policy(env, env.deployer_object_id, ALL_KEY_PERMISSIONS)]
    props = {"tenantId": env.tenant_id, "sku": {"family": "A", "name": "standard"},
             "enableSoftDelete": True, "softDeleteRetentionInDays": 7, "accessPolicies": policies,
             "enableRbacAuthorization": rbac}
    if purge_protection:
        props["enablePurgeProtection"] = True
    poller = keyvault_mgmt.vaults.begin_create_or_update(group, name, {"location": location, "properties": props})
    return poller.result().as_dict()


def policy(env, object_id: str, keys: list[str]) -> dict:
    return {"tenantId": env.tenant_id, "objectId": object_id, "permissions": {"keys": keys}}


def grant(env, keyvault_mgmt, group: str, vault: str, object_id: str, keys: list[str]) -> None:
    keyvault_mgmt.vaults.update_access_policy(group, vault, "add", {"properties": {
        "accessPolicies": [policy(env, object_id, keys)]}})


def revoke(env, keyvault_mgmt, group: str, vault: str, object_id: str, keys: list[str]) -> None:
    keyvault_mgmt.vaults.update_access_policy(group, vault, "remove", {"properties": {
        "accessPolicies": [policy(env, object_id, keys)]}})


def new_principal(env, name: str) -> str:
    object_id = env.new_guid()
    env.register_principal({"object_id": object_id, "type": "ServicePrincipal", "display_name": name,
                            "kind": "user_assigned", "resource_id": None})
    return object_id

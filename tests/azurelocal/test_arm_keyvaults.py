"""Identities, key vaults and role assignments through the official SDK clients."""

from __future__ import annotations

import uuid

import pytest
from azure.core.exceptions import HttpResponseError

from providers.azurelocal import access
from providers.azurelocal.kvrules import KeyVaultError

RG = "rg-kv"


@pytest.fixture
def group(resource_client):
    resource_client.resource_groups.create_or_update(RG, {"location": "westeurope"})
    return RG


def make_vault(keyvault_mgmt, env, name="kv-test-01", **props):
    properties = {"tenantId": env.tenant_id, "sku": {"family": "A", "name": "standard"}, "accessPolicies": []}
    properties.update(props)
    return keyvault_mgmt.vaults.begin_create_or_update(
        RG, name, {"location": "westeurope", "properties": properties}
    ).result()


def test_identity_gets_principal_and_client_ids(env, group, msi_client):
    identity = msi_client.user_assigned_identities.create_or_update(
        group, "id-backup", {"location": "westeurope"}
    )
    assert identity.principal_id and identity.client_id and identity.tenant_id == env.tenant_id
    record = env.principal(identity.principal_id)
    assert record["kind"] == "user_assigned" and record["type"] == "ServicePrincipal"
    again = msi_client.user_assigned_identities.get(group, "id-backup")
    assert again.principal_id == identity.principal_id
    msi_client.user_assigned_identities.delete(group, "id-backup")
    assert env.principal(identity.principal_id) is None


def test_key_vault_defaults(env, group, keyvault_mgmt):
    vault = make_vault(keyvault_mgmt, env)
    props = vault.properties
    assert props.enable_soft_delete is True
    assert props.soft_delete_retention_in_days == 90
    assert props.vault_uri == "https://kv-test-01.vault.azure.net/"
    assert props.sku.name == "standard" and props.sku.family == "A"
    assert props.network_acls.default_action == "Allow"


def test_purge_protection_is_one_way(env, group, keyvault_mgmt):
    make_vault(keyvault_mgmt, env, enablePurgeProtection=True)
    with pytest.raises(HttpResponseError) as err:
        keyvault_mgmt.vaults.update(RG, "kv-test-01", {"properties": {"enablePurgeProtection": False}})
    assert err.value.error.code == "BadRequest"
    # a PUT that leaves it out keeps it on
    vault = make_vault(keyvault_mgmt, env)
    assert vault.properties.enable_purge_protection is True


def test_retention_days_range_and_fixed(env, group, keyvault_mgmt):
    with pytest.raises(HttpResponseError) as err:
        make_vault(keyvault_mgmt, env, softDeleteRetentionInDays=5)
    assert err.value.error.code == "BadRequest"
    make_vault(keyvault_mgmt, env, softDeleteRetentionInDays=7)
    with pytest.raises(HttpResponseError) as err:
        keyvault_mgmt.vaults.update(RG, "kv-test-01", {"properties": {"softDeleteRetentionInDays": 30}})
    assert err.value.error.code == "BadRequest"


def test_vault_names_are_unique_and_soft_deleted_names_held(env, group, resource_client, keyvault_mgmt):
    make_vault(keyvault_mgmt, env)
    resource_client.resource_groups.create_or_update("rg-other", {"location": "westeurope"})
    with pytest.raises(HttpResponseError) as err:
        keyvault_mgmt.vaults.begin_create_or_update(
            "rg-other",
            "kv-test-01",
            {
                "location": "westeurope",
                "properties": {"tenantId": env.tenant_id, "sku": {"family": "A", "name": "standard"}},
            },
        ).result()
    assert err.value.error.code == "VaultAlreadyExists"
    keyvault_mgmt.vaults.delete(RG, "kv-test-01")
    assert [d.name for d in keyvault_mgmt.vaults.list_deleted()] == ["kv-test-01"]
    with pytest.raises(HttpResponseError) as err:
        make_vault(keyvault_mgmt, env)
    assert err.value.error.code == "ConflictError"
    recovered = make_vault(keyvault_mgmt, env, createMode="recover")
    assert recovered.name == "kv-test-01"


def test_purge_refused_with_purge_protection_until_retention_passes(env, group, keyvault_mgmt):
    make_vault(keyvault_mgmt, env, enablePurgeProtection=True, softDeleteRetentionInDays=7)
    keyvault_mgmt.vaults.delete(RG, "kv-test-01")
    with pytest.raises(HttpResponseError) as err:
        keyvault_mgmt.vaults.begin_purge_deleted("kv-test-01", "westeurope").result()
    assert err.value.error.code == "MethodNotAllowed"
    env.clock.advance(7 * 86400 + 1)
    keyvault_mgmt.vaults.begin_purge_deleted("kv-test-01", "westeurope").result()
    assert list(keyvault_mgmt.vaults.list_deleted()) == []


def test_access_policy_add_and_remove(env, group, keyvault_mgmt):
    vault = make_vault(keyvault_mgmt, env)
    oid = env.deployer_object_id
    policy = {"tenantId": env.tenant_id, "objectId": oid, "permissions": {"keys": ["Get", "WrapKey"]}}
    keyvault_mgmt.vaults.update_access_policy(
        RG, "kv-test-01", "add", {"properties": {"accessPolicies": [policy]}}
    )
    access.check_key_permission(env, oid, vault.id, "wrapkey")
    keyvault_mgmt.vaults.update_access_policy(
        RG,
        "kv-test-01",
        "add",
        {"properties": {"accessPolicies": [{**policy, "permissions": {"keys": ["UnwrapKey"]}}]}},
    )
    got = keyvault_mgmt.vaults.get(RG, "kv-test-01")
    assert sorted(got.properties.access_policies[0].permissions["keys"]) == ["Get", "UnwrapKey", "WrapKey"]
    keyvault_mgmt.vaults.update_access_policy(
        RG,
        "kv-test-01",
        "remove",
        {"properties": {"accessPolicies": [{**policy, "permissions": {"keys": ["WrapKey"]}}]}},
    )
    with pytest.raises(KeyVaultError) as err:
        access.check_key_permission(env, oid, vault.id, "wrapKey")
    assert err.value.response().body["error"]["innererror"]["code"] == "ForbiddenByPolicy"


def test_grant_propagation_delay(env, group, keyvault_mgmt):
    env.configure_faults(grant_propagation_seconds=60)
    vault = make_vault(
        keyvault_mgmt,
        env,
        accessPolicies=[
            {"tenantId": env.tenant_id, "objectId": env.deployer_object_id, "permissions": {"keys": ["get"]}}
        ],
    )
    with pytest.raises(KeyVaultError) as err:
        access.check_key_permission(env, env.deployer_object_id, vault.id, "get")
    assert err.value.status == 403
    assert err.value.response().body["error"]["innererror"]["code"] == "ForbiddenByPolicy"
    env.clock.advance(61)
    access.check_key_permission(env, env.deployer_object_id, vault.id, "get")


def test_role_assignment_rbac_vault(env, group, keyvault_mgmt, msi_client, auth_client):
    vault = make_vault(keyvault_mgmt, env, enableRbacAuthorization=True)
    identity = msi_client.user_assigned_identities.create_or_update(
        group, "id-kek", {"location": "westeurope"}
    )
    role = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
    definition = auth_client.role_definitions.get(vault.id, role)
    assert definition.role_name == "Key Vault Crypto Service Encryption User"
    with pytest.raises(KeyVaultError) as err:
        access.check_key_permission(env, identity.principal_id, vault.id, "unwrapKey")
    assert err.value.response().body["error"]["innererror"]["code"] == "ForbiddenByRbac"
    params = {
        "properties": {
            "roleDefinitionId": definition.id,
            "principalId": identity.principal_id,
            "principalType": "ServicePrincipal",
        }
    }
    created = auth_client.role_assignments.create(vault.id, str(uuid.uuid4()), params)
    assert created.scope.lower() == vault.id.lower()
    access.check_key_permission(env, identity.principal_id, vault.id, "unwrapKey")
    with pytest.raises(HttpResponseError) as err:
        auth_client.role_assignments.create(vault.id, str(uuid.uuid4()), params)
    assert err.value.error.code == "RoleAssignmentExists"
    listed = list(
        auth_client.role_assignments.list_for_scope(
            vault.id, filter=f"principalId eq '{identity.principal_id}'"
        )
    )
    assert [a.name for a in listed] == [created.name]
    auth_client.role_assignments.delete(vault.id, created.name)
    with pytest.raises(KeyVaultError) as err:
        access.check_key_permission(env, identity.principal_id, vault.id, "get")
    assert err.value.status == 403
    assert err.value.response().body["error"]["innererror"]["code"] == "ForbiddenByRbac"


def test_role_definition_lookup_by_name(auth_client, sub):
    found = list(
        auth_client.role_definitions.list(
            f"/subscriptions/{sub}", filter="roleName eq 'Key Vault Crypto Officer'"
        )
    )
    assert [d.name for d in found] == ["14b46e9e-c2b7-41b4-b07b-48a6ebf60603"]


def test_role_assignment_unknown_principal(env, group, auth_client, sub):
    with pytest.raises(HttpResponseError) as err:
        auth_client.role_assignments.create(
            f"/subscriptions/{sub}/resourceGroups/{group}",
            str(uuid.uuid4()),
            {
                "properties": {
                    "roleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
                    "principalId": str(uuid.uuid4()),
                }
            },
        )
    assert err.value.error.code == "PrincipalNotFound"


def test_new_principal_not_found_during_replication(env, group, msi_client, auth_client, sub):
    env.configure_faults(principal_propagation_seconds=30)
    identity = msi_client.user_assigned_identities.create_or_update(
        group, "id-young", {"location": "westeurope"}
    )
    params = {
        "properties": {
            "roleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
            "principalId": identity.principal_id,
        }
    }
    scope = f"/subscriptions/{sub}/resourceGroups/{group}"
    with pytest.raises(HttpResponseError) as err:
        auth_client.role_assignments.create(scope, str(uuid.uuid4()), params)
    assert err.value.error.code == "PrincipalNotFound"
    env.clock.advance(31)
    assert (
        auth_client.role_assignments.create(scope, str(uuid.uuid4()), params).principal_type
        == "ServicePrincipal"
    )


def test_group_delete_cascades(env, group, resource_client, keyvault_mgmt, msi_client):
    make_vault(keyvault_mgmt, env)
    identity = msi_client.user_assigned_identities.create_or_update(
        group, "id-gone", {"location": "westeurope"}
    )
    resource_client.resource_groups.begin_delete(group).result()
    assert env.principal(identity.principal_id) is None
    assert [d.name for d in keyvault_mgmt.vaults.list_deleted()] == ["kv-test-01"]


def test_role_at_group_scope_reaches_the_vault_and_type_must_match(
    env, group, keyvault_mgmt, msi_client, auth_client, sub
):
    vault = make_vault(keyvault_mgmt, env, enableRbacAuthorization=True)
    identity = msi_client.user_assigned_identities.create_or_update(
        group, "id-scope", {"location": "westeurope"}
    )
    role = f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6"
    scope = f"/subscriptions/{sub}/resourceGroups/{group}"
    with pytest.raises(HttpResponseError) as err:
        auth_client.role_assignments.create(
            scope,
            str(uuid.uuid4()),
            {
                "properties": {
                    "roleDefinitionId": role,
                    "principalId": identity.principal_id,
                    "principalType": "User",
                }
            },
        )
    assert err.value.error.code == "UnmatchedPrincipalType"
    auth_client.role_assignments.create(
        scope,
        str(uuid.uuid4()),
        {"properties": {"roleDefinitionId": role, "principalId": identity.principal_id}},
    )
    access.check_key_permission(env, identity.principal_id, vault.id, "wrapKey")
    with pytest.raises(KeyVaultError) as err:
        access.check_key_permission(env, identity.principal_id, vault.id, "delete")
    assert err.value.status == 403
    assert err.value.response().body["error"]["innererror"]["code"] == "ForbiddenByRbac"


def test_key_vault_for_host(env, group, keyvault_mgmt):
    vault = make_vault(keyvault_mgmt, env)
    assert access.key_vault_for_host(env, "KV-TEST-01.vault.azure.net:443")["id"] == vault.id
    assert access.key_vault_for_host(env, "other.vault.azure.net") is None
    assert access.key_vault_for_host(env, "management.azure.com") is None


def test_a_soft_deleted_key_vault_stays_in_its_own_subscription(env, group, keyvault_mgmt, credential):
    """Deleted Vaults - List and Get are per subscription: a key vault deleted in another
    subscription is listed and read there, not in the subscription the emulator started with."""
    from azure.mgmt.keyvault import KeyVaultManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    from providers.azurelocal.services import subscriptions
    from providers.azurelocal.transport import local_transport

    other = "9d1c5a77-3e2b-4c1d-8f60-2b7e4a9c0d11"
    subscriptions.add(env, other, "second")
    arm = ResourceManagementClient(credential, other, transport=local_transport(env))
    arm.providers.register("Microsoft.KeyVault")
    arm.resource_groups.create_or_update(RG, {"location": "westeurope"})
    theirs = KeyVaultManagementClient(credential, other, transport=local_transport(env))
    make_vault(theirs, env, name="kv-there")
    theirs.vaults.delete(RG, "kv-there")
    assert [d.name for d in theirs.vaults.list_deleted()] == ["kv-there"]
    assert [d.name for d in keyvault_mgmt.vaults.list_deleted()] == []
    deleted = theirs.vaults.get_deleted("kv-there", "westeurope")
    assert deleted.id.startswith(f"/subscriptions/{other}/providers/Microsoft.KeyVault/")
    with pytest.raises(HttpResponseError):
        keyvault_mgmt.vaults.get_deleted("kv-there", "westeurope")

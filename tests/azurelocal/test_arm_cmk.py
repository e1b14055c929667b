"""Azure's CMK rules for Recovery Services vaults, enforced server-side; every refusal is checked
through the SDK's HttpResponseError with Azure's error code."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from azure.core.exceptions import HttpResponseError

from tests.azurelocal import cmk_helpers as h


@pytest.fixture
def c(env, resource_client, msi_client, keyvault_mgmt, auth_client, rs_client, backup_client, key_client):
    resource_client.resource_groups.create_or_update(h.RG, {"location": "westeurope"})
    return h.Clients(env, resource_client, msi_client, keyvault_mgmt, auth_client, rs_client, backup_client, key_client)


@pytest.fixture
def ready(c):
    """A key vault with purge protection and an RSA key, and a vault whose identity is granted."""
    h.key_vault(c)
    key = h.rsa_key(c)
    vault = h.rs_vault(c)
    h.grant_policy(c, vault.identity.principal_id)
    return key, vault


def code_of(call) -> str:
    with pytest.raises(HttpResponseError) as err:
        call()
    return err.value.error.code


def test_key_assignment_succeeds_and_shows_as_job(c, ready):
    key, vault = ready
    updated = h.assign_key(c, key.id)
    assert updated.properties.encryption.key_vault_properties.key_uri == key.id
    assert updated.properties.encryption.kek_identity.use_system_assigned_identity is True
    jobs = list(c.backup.backup_jobs.list(h.VAULT, h.RG))
    assert [(j.properties.operation, j.properties.status) for j in jobs] == [("ConfigureEncryption", "Completed")]
    config = c.backup.backup_resource_encryption_configs.get(h.VAULT, h.RG)
    assert config.properties.encryption_at_rest_type == "CustomerManaged"


def test_assignment_without_grant_is_auth_failure(c):
    h.key_vault(c)
    key = h.rsa_key(c)
    h.rs_vault(c)
    assert code_of(lambda: h.assign_key(c, key.id)) == "UserErrorCMKKeyVaultAuthFailure"
    failed = list(c.backup.backup_jobs.list(h.VAULT, h.RG))
    assert [(j.properties.operation, j.properties.status) for j in failed] == [("ConfigureEncryption", "Failed")]


def test_assignment_without_wrap_permission_is_auth_failure(c):
    h.key_vault(c)
    key = h.rsa_key(c)
    vault = h.rs_vault(c)
    h.grant_policy(c, vault.identity.principal_id, permissions=["Get", "List", "UnwrapKey"])
    assert code_of(lambda: h.assign_key(c, key.id)) == "UserErrorCMKKeyVaultAuthFailure"


def test_grant_propagation_delay_is_honoured(c, env):
    h.key_vault(c)
    key = h.rsa_key(c)
    vault = h.rs_vault(c)
    env.configure_faults(grant_propagation_seconds=120)
    h.grant_policy(c, vault.identity.principal_id)
    assert code_of(lambda: h.assign_key(c, key.id)) == "UserErrorCMKKeyVaultAuthFailure"
    env.clock.advance(121)
    assert h.assign_key(c, key.id).properties.encryption.key_vault_properties.key_uri == key.id


def test_rbac_vault_with_least_privilege_role(c):
    kv = h.key_vault(c, enableRbacAuthorization=True)
    sub_scope = f"/subscriptions/{c.env.subscription_id}"
    role = f"{sub_scope}/providers/Microsoft.Authorization/roleDefinitions/14b46e9e-c2b7-41b4-b07b-48a6ebf60603"
    c.auth.role_assignments.create(kv.id, str(uuid.uuid4()), {"properties": {
        "roleDefinitionId": role, "principalId": c.env.deployer_object_id}})
    key = h.rsa_key(c)
    vault = h.rs_vault(c)
    assert code_of(lambda: h.assign_key(c, key.id)) == "UserErrorCMKKeyVaultAuthFailure"
    least = f"{sub_scope}/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6"
    c.auth.role_assignments.create(kv.id, str(uuid.uuid4()), {"properties": {
        "roleDefinitionId": least, "principalId": vault.identity.principal_id, "principalType": "ServicePrincipal"}})
    versionless = key.id.rsplit("/", 1)[0]
    assert h.assign_key(c, versionless).properties.encryption.key_vault_properties.key_uri == versionless


def test_cmk_refused_after_protected_items(c, ready):
    key, _ = ready
    pol = h.policy(c)
    h.protect(c, pol.id)
    assert code_of(lambda: h.assign_key(c, key.id)) == "UserErrorCMKEncryptionNotAllowedOnVaultWithItems"


def test_cmk_refused_after_failed_protection_attempt(c, ready):
    key, vault = ready
    missing_policy = f"{vault.id}/backupPolicies/nope"
    assert code_of(lambda: h.protect(c, missing_policy)) == "BMSUserErrorPolicyNotFound"
    assert list(c.backup.backup_protected_items.list(h.VAULT, h.RG)) == []
    assert code_of(lambda: h.assign_key(c, key.id)) == "UserErrorCMKEncryptionNotAllowedOnVaultWithItems"


def test_encryption_cannot_be_removed(c, ready):
    key, _ = ready
    h.assign_key(c, key.id)
    body = {"location": "westeurope", "sku": {"name": "Standard"}, "identity": {"type": "SystemAssigned"},
            "properties": {"publicNetworkAccess": "Enabled"}}
    assert code_of(lambda: c.rs.vaults.begin_create_or_update(h.RG, h.VAULT, body).result()) \
        == "UserErrorCMKEncryptionCannotBeDisabled"


def test_key_can_change_to_new_version(c, ready):
    key, _ = ready
    h.assign_key(c, key.id)
    newer = c.key_client(h.KV).rotate_key(h.KEY)
    assert newer.id != key.id
    assert h.assign_key(c, newer.id).properties.encryption.key_vault_properties.key_uri == newer.id
    operations = [j.properties.operation for j in c.backup.backup_jobs.list(h.VAULT, h.RG)]
    assert operations.count("ConfigureEncryption") == 2


def test_identity_cannot_be_narrowed(c, ready):
    key, _ = ready
    h.assign_key(c, key.id)
    assert code_of(lambda: c.rs.vaults.begin_update(h.RG, h.VAULT, {"identity": {"type": "None"}}).result()) \
        == "UserErrorManagedIdentityInUseForCMK"


def test_infrastructure_encryption_is_fixed(c, ready):
    key, _ = ready
    h.assign_key(c, key.id)
    assert code_of(lambda: h.assign_key(c, key.id, infrastructure="Enabled")) \
        == "UserErrorInfrastructureEncryptionCannotBeChanged"


def test_sku_fixed_while_cmk(c, ready):
    key, _ = ready
    h.assign_key(c, key.id)
    assert code_of(lambda: c.rs.vaults.begin_update(h.RG, h.VAULT, {"sku": {"name": "RS0"}}).result()) \
        == "UserErrorSkuChangeNotAllowedWithCMK"


def test_key_must_be_rsa(c):
    h.key_vault(c)
    ec = c.key_client(h.KV).create_ec_key("ec-key", curve="P-256")
    vault = h.rs_vault(c)
    h.grant_policy(c, vault.identity.principal_id)
    assert code_of(lambda: h.assign_key(c, ec.id)) == "UserErrorCMKMissingMangedIdentityPermissionOnKeyVault"


def test_key_must_be_enabled(c, ready):
    key, _ = ready
    c.key_client(h.KV).update_key_properties(h.KEY, key.properties.version, enabled=False)
    assert code_of(lambda: h.assign_key(c, key.id)) == "UserErrorCMKKeyNotEnabled"


def test_key_must_not_be_expired(c, env, ready):
    key, _ = ready
    soon = env.clock.now() + dt.timedelta(hours=1)
    c.key_client(h.KV).update_key_properties(h.KEY, key.properties.version, expires_on=soon)
    env.clock.advance(7200)
    assert code_of(lambda: h.assign_key(c, key.id)) == "UserErrorCMKKeyExpired"


def test_key_must_exist(c, ready):
    key, _ = ready
    assert code_of(lambda: h.assign_key(c, key.id.rsplit("/", 2)[0] + "/nokey")) == "UserErrorKeyVaultKeyWasNotFound"


def test_key_vault_must_be_in_vault_region(c):
    h.key_vault(c, name="kv-north-01", location="northeurope")
    key = h.rsa_key(c, vault_name="kv-north-01")
    vault = h.rs_vault(c)
    h.grant_policy(c, vault.identity.principal_id, kv_name="kv-north-01")
    assert code_of(lambda: h.assign_key(c, key.id)) == "UserErrorCMKKeyVaultRegionMismatch"


def test_key_vault_needs_purge_protection(c):
    h.key_vault(c, purge_protection=False)
    key = h.rsa_key(c)
    vault = h.rs_vault(c)
    h.grant_policy(c, vault.identity.principal_id)
    assert code_of(lambda: h.assign_key(c, key.id)) == "UserErrorCMKKeyVaultNotRecoverable"


def test_user_assigned_identity_must_be_attached(c, ready):
    key, _ = ready
    identity = c.msi.user_assigned_identities.create_or_update(h.RG, "id-cmk", {"location": "westeurope"})
    assert code_of(lambda: h.assign_key(c, key.id, user_identity=identity.id)) == "InvalidRestApiParameter"


def test_user_assigned_identity_works_when_attached_and_granted(c):
    h.key_vault(c)
    key = h.rsa_key(c)
    identity = c.msi.user_assigned_identities.create_or_update(h.RG, "id-cmk", {"location": "westeurope"})
    h.rs_vault(c, identity_type="UserAssigned", user_identities=[identity.id])
    h.grant_policy(c, identity.principal_id)
    vault = h.assign_key(c, key.id, user_identity=identity.id)
    assert vault.properties.encryption.kek_identity.user_assigned_identity == identity.id


def test_user_assigned_identity_refused_with_deny_network_rules(c):
    h.key_vault(c, networkAcls={"defaultAction": "Deny", "bypass": "AzureServices"})
    identity = c.msi.user_assigned_identities.create_or_update(h.RG, "id-cmk", {"location": "westeurope"})
    c.keyvault.vaults.update(h.RG, h.KV, {"properties": {"networkAcls": {"defaultAction": "Allow"}}})
    key = h.rsa_key(c)
    c.keyvault.vaults.update(h.RG, h.KV, {"properties": {"networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"}}})
    h.rs_vault(c, identity_type="UserAssigned", user_identities=[identity.id])
    h.grant_policy(c, identity.principal_id)
    assert code_of(lambda: h.assign_key(c, key.id, user_identity=identity.id)) \
        == "UserErrorCMKUserAssignedIdentityNetworkRestricted"


def test_cmk_vault_cannot_move(c, ready):
    key, vault = ready
    h.assign_key(c, key.id)
    c.resources.resource_groups.create_or_update("rg-target", {"location": "westeurope"})
    target = f"/subscriptions/{c.env.subscription_id}/resourceGroups/rg-target"
    move = {"resources": [vault.id], "targetResourceGroup": target}
    assert code_of(lambda: c.resources.resources.begin_validate_move_resources(h.RG, move).result()) \
        == "ResourceMoveProviderValidationFailed"
    assert code_of(lambda: c.resources.resources.begin_move_resources(h.RG, move).result()) \
        == "ResourceMoveProviderValidationFailed"


def test_plain_vault_can_move(c):
    vault = h.rs_vault(c)
    c.resources.resource_groups.create_or_update("rg-target", {"location": "westeurope"})
    target = f"/subscriptions/{c.env.subscription_id}/resourceGroups/rg-target"
    c.resources.resources.begin_move_resources(h.RG, {"resources": [vault.id], "targetResourceGroup": target}).result()
    moved = c.rs.vaults.get("rg-target", h.VAULT)
    assert moved.id.lower() == vault.id.lower().replace("/resourcegroups/rg-backup/", "/resourcegroups/rg-target/")
    assert c.env.principal(moved.identity.principal_id)["kind"] == "system_assigned"

"""Azure's CMK rules for Recovery Services vaults, enforced server-side; every refusal is checked
through the SDK's HttpResponseError with Azure's error code."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from azure.core.exceptions import HttpResponseError


@pytest.fixture
def c(cmk):
    return cmk


@pytest.fixture
def ready(c):
    """A key vault with purge protection and an RSA key, and a vault whose identity is granted."""
    c.key_vault()
    key = c.rsa_key()
    vault = c.rs_vault()
    c.grant_policy(vault.identity.principal_id)
    return key, vault


def code_of(call) -> str:
    with pytest.raises(HttpResponseError) as err:
        call()
    return err.value.error.code


def test_key_assignment_succeeds_and_shows_as_job(c, ready):
    key, vault = ready
    updated = c.assign_key(key.id)
    assert updated.properties.encryption.key_vault_properties.key_uri == key.id
    assert updated.properties.encryption.kek_identity.use_system_assigned_identity is True
    jobs = list(c.backup.backup_jobs.list(c.VAULT, c.RG))
    assert [(j.properties.operation, j.properties.status) for j in jobs] == [
        ("ConfigureEncryption", "Completed")
    ]
    config = c.backup.backup_resource_encryption_configs.get(c.VAULT, c.RG)
    assert config.properties.encryption_at_rest_type == "CustomerManaged"


def test_assignment_without_grant_is_auth_failure(c):
    c.key_vault()
    key = c.rsa_key()
    c.rs_vault()
    assert code_of(lambda: c.assign_key(key.id)) == "UserErrorCMKKeyVaultAuthFailure"
    failed = list(c.backup.backup_jobs.list(c.VAULT, c.RG))
    assert [(j.properties.operation, j.properties.status) for j in failed] == [
        ("ConfigureEncryption", "Failed")
    ]


def test_assignment_without_wrap_permission_is_auth_failure(c):
    c.key_vault()
    key = c.rsa_key()
    vault = c.rs_vault()
    c.grant_policy(vault.identity.principal_id, permissions=["Get", "List", "UnwrapKey"])
    assert code_of(lambda: c.assign_key(key.id)) == "UserErrorCMKKeyVaultAuthFailure"


def test_grant_propagation_delay_is_honoured(c, env):
    c.key_vault()
    key = c.rsa_key()
    vault = c.rs_vault()
    env.configure_faults(grant_propagation_seconds=120)
    c.grant_policy(vault.identity.principal_id)
    assert code_of(lambda: c.assign_key(key.id)) == "UserErrorCMKKeyVaultAuthFailure"
    env.clock.advance(121)
    assert c.assign_key(key.id).properties.encryption.key_vault_properties.key_uri == key.id


def test_rbac_vault_with_least_privilege_role(c):
    kv = c.key_vault(enableRbacAuthorization=True)
    sub_scope = f"/subscriptions/{c.env.subscription_id}"
    role = (
        f"{sub_scope}/providers/Microsoft.Authorization/roleDefinitions/14b46e9e-c2b7-41b4-b07b-48a6ebf60603"
    )
    c.auth.role_assignments.create(
        kv.id,
        str(uuid.uuid4()),
        {"properties": {"roleDefinitionId": role, "principalId": c.env.deployer_object_id}},
    )
    key = c.rsa_key()
    vault = c.rs_vault()
    assert code_of(lambda: c.assign_key(key.id)) == "UserErrorCMKKeyVaultAuthFailure"
    least = (
        f"{sub_scope}/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6"
    )
    c.auth.role_assignments.create(
        kv.id,
        str(uuid.uuid4()),
        {
            "properties": {
                "roleDefinitionId": least,
                "principalId": vault.identity.principal_id,
                "principalType": "ServicePrincipal",
            }
        },
    )
    versionless = key.id.rsplit("/", 1)[0]
    assert c.assign_key(versionless).properties.encryption.key_vault_properties.key_uri == versionless


def test_cmk_refused_after_protected_items(c, ready):
    key, _ = ready
    pol = c.policy()
    c.protect(pol.id)
    assert code_of(lambda: c.assign_key(key.id)) == "UserErrorCMKEncryptionNotAllowedOnVaultWithItems"


def test_cmk_refused_after_failed_protection_attempt(c, ready):
    key, vault = ready
    missing_policy = f"{vault.id}/backupPolicies/nope"
    assert code_of(lambda: c.protect(missing_policy)) == "BMSUserErrorPolicyNotFound"
    assert list(c.backup.backup_protected_items.list(c.VAULT, c.RG)) == []
    assert code_of(lambda: c.assign_key(key.id)) == "UserErrorCMKEncryptionNotAllowedOnVaultWithItems"


def test_encryption_cannot_be_removed(c, ready):
    key, _ = ready
    c.assign_key(key.id)
    body = {
        "location": "westeurope",
        "sku": {"name": "Standard"},
        "identity": {"type": "SystemAssigned"},
        "properties": {"publicNetworkAccess": "Enabled"},
    }
    assert (
        code_of(lambda: c.rs.vaults.begin_create_or_update(c.RG, c.VAULT, body).result())
        == "UserErrorCMKEncryptionCannotBeDisabled"
    )


def test_key_can_change_to_new_version(c, ready):
    key, _ = ready
    c.assign_key(key.id)
    newer = c.key_client(c.KV).rotate_key(c.KEY)
    assert newer.id != key.id
    assert c.assign_key(newer.id).properties.encryption.key_vault_properties.key_uri == newer.id
    operations = [j.properties.operation for j in c.backup.backup_jobs.list(c.VAULT, c.RG)]
    assert operations.count("ConfigureEncryption") == 2


def test_identity_cannot_be_narrowed(c, ready):
    key, _ = ready
    c.assign_key(key.id)
    assert (
        code_of(lambda: c.rs.vaults.begin_update(c.RG, c.VAULT, {"identity": {"type": "None"}}).result())
        == "UserErrorManagedIdentityInUseForCMK"
    )


def test_infrastructure_encryption_is_fixed(c, ready):
    key, _ = ready
    c.assign_key(key.id)
    assert (
        code_of(lambda: c.assign_key(key.id, infrastructure="Enabled"))
        == "UserErrorInfrastructureEncryptionCannotBeChanged"
    )


def test_sku_fixed_while_cmk(c, ready):
    key, _ = ready
    c.assign_key(key.id)
    assert (
        code_of(lambda: c.rs.vaults.begin_update(c.RG, c.VAULT, {"sku": {"name": "RS0"}}).result())
        == "UserErrorSkuChangeNotAllowedWithCMK"
    )


def test_key_must_be_rsa(c):
    c.key_vault()
    ec = c.key_client(c.KV).create_ec_key("ec-key", curve="P-256")
    vault = c.rs_vault()
    c.grant_policy(vault.identity.principal_id)
    assert code_of(lambda: c.assign_key(ec.id)) == "UserErrorCMKMissingMangedIdentityPermissionOnKeyVault"


def test_key_must_be_enabled(c, ready):
    key, _ = ready
    c.key_client(c.KV).update_key_properties(c.KEY, key.properties.version, enabled=False)
    assert code_of(lambda: c.assign_key(key.id)) == "UserErrorCMKKeyNotEnabled"


def test_key_must_not_be_expired(c, env, ready):
    key, _ = ready
    soon = env.clock.now() + dt.timedelta(hours=1)
    c.key_client(c.KV).update_key_properties(c.KEY, key.properties.version, expires_on=soon)
    env.clock.advance(7200)
    assert code_of(lambda: c.assign_key(key.id)) == "UserErrorCMKKeyExpired"


def test_key_must_exist(c, ready):
    key, _ = ready
    assert (
        code_of(lambda: c.assign_key(key.id.rsplit("/", 2)[0] + "/nokey"))
        == "UserErrorKeyVaultKeyWasNotFound"
    )


def test_key_vault_must_be_in_vault_region(c):
    c.key_vault(name="kv-north-01", location="northeurope")
    key = c.rsa_key(vault_name="kv-north-01")
    vault = c.rs_vault()
    c.grant_policy(vault.identity.principal_id, kv_name="kv-north-01")
    assert code_of(lambda: c.assign_key(key.id)) == "UserErrorCMKKeyVaultRegionMismatch"


def test_key_vault_needs_purge_protection(c):
    c.key_vault(purge_protection=False)
    key = c.rsa_key()
    vault = c.rs_vault()
    c.grant_policy(vault.identity.principal_id)
    assert code_of(lambda: c.assign_key(key.id)) == "UserErrorCMKKeyVaultNotRecoverable"


def test_user_assigned_identity_must_be_attached(c, ready):
    key, _ = ready
    identity = c.msi.user_assigned_identities.create_or_update(c.RG, "id-cmk", {"location": "westeurope"})
    assert code_of(lambda: c.assign_key(key.id, user_identity=identity.id)) == "InvalidRestApiParameter"


def test_user_assigned_identity_works_when_attached_and_granted(c):
    c.key_vault()
    key = c.rsa_key()
    identity = c.msi.user_assigned_identities.create_or_update(c.RG, "id-cmk", {"location": "westeurope"})
    c.rs_vault(identity_type="UserAssigned", user_identities=[identity.id])
    c.grant_policy(identity.principal_id)
    vault = c.assign_key(key.id, user_identity=identity.id)
    assert vault.properties.encryption.kek_identity.user_assigned_identity == identity.id


def test_user_assigned_identity_refused_with_deny_network_rules(c):
    c.key_vault(networkAcls={"defaultAction": "Deny", "bypass": "AzureServices"})
    identity = c.msi.user_assigned_identities.create_or_update(c.RG, "id-cmk", {"location": "westeurope"})
    c.keyvault.vaults.update(c.RG, c.KV, {"properties": {"networkAcls": {"defaultAction": "Allow"}}})
    key = c.rsa_key()
    c.keyvault.vaults.update(
        c.RG, c.KV, {"properties": {"networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"}}}
    )
    c.rs_vault(identity_type="UserAssigned", user_identities=[identity.id])
    c.grant_policy(identity.principal_id)
    assert (
        code_of(lambda: c.assign_key(key.id, user_identity=identity.id))
        == "UserErrorCMKUserAssignedIdentityNetworkRestricted"
    )


def test_cmk_vault_cannot_move(c, ready):
    key, vault = ready
    c.assign_key(key.id)
    c.resources.resource_groups.create_or_update("rg-target", {"location": "westeurope"})
    target = f"/subscriptions/{c.env.subscription_id}/resourceGroups/rg-target"
    move = {"resources": [vault.id], "targetResourceGroup": target}
    assert (
        code_of(lambda: c.resources.resources.begin_validate_move_resources(c.RG, move).result())
        == "ResourceMoveProviderValidationFailed"
    )
    assert (
        code_of(lambda: c.resources.resources.begin_move_resources(c.RG, move).result())
        == "ResourceMoveProviderValidationFailed"
    )


def test_plain_vault_can_move(c):
    vault = c.rs_vault()
    c.resources.resource_groups.create_or_update("rg-target", {"location": "westeurope"})
    target = f"/subscriptions/{c.env.subscription_id}/resourceGroups/rg-target"
    c.resources.resources.begin_move_resources(
        c.RG, {"resources": [vault.id], "targetResourceGroup": target}
    ).result()
    moved = c.rs.vaults.get("rg-target", c.VAULT)
    assert moved.id.lower() == vault.id.lower().replace(
        "/resourcegroups/rg-backup/", "/resourcegroups/rg-target/"
    )
    assert c.env.principal(moved.identity.principal_id)["kind"] == "system_assigned"


def test_disabled_identity_cannot_take_the_key(c, env, ready):
    key, vault = ready
    env.set_principal_enabled(vault.identity.principal_id, False)
    assert code_of(lambda: c.assign_key(key.id)) == "UserErrorCMKKeyVaultAuthFailure"


def test_firewall_without_trusted_services_blocks_the_key(c, ready):
    key, _ = ready
    c.keyvault.vaults.update(
        c.RG, c.KV, {"properties": {"networkAcls": {"defaultAction": "Deny", "bypass": "None"}}}
    )
    assert code_of(lambda: c.assign_key(key.id)) == "UserErrorCMKKeyVaultAuthFailure"
    c.keyvault.vaults.update(
        c.RG, c.KV, {"properties": {"networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"}}}
    )
    assert c.assign_key(key.id).properties.encryption.key_vault_properties.key_uri == key.id

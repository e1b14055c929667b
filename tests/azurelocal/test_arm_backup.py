"""Backup policies, VM protection, backup now, recovery points and restore through the SDK clients."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

# The SDK's two-level discriminator (ProtectedItem -> AzureIaaSVMProtectedItem -> Microsoft.Compute/
# virtualMachines) deserialises items as the base ProtectedItem, so VM fields are read as mapping keys.
CONTAINER = "iaasvmcontainer;iaasvmcontainerv2;rg-workloads;vm-app-01"
ITEM = "VM;iaasvmcontainerv2;rg-workloads;vm-app-01"


def code_of(call) -> str:
    with pytest.raises(HttpResponseError) as err:
        call()
    return err.value.error.code


@pytest.fixture
def vault(cmk):
    return cmk.rs_vault()


@pytest.fixture
def protected(cmk, vault):
    pol = cmk.policy()
    item = cmk.protect(pol.id)
    return pol, item


def test_policy_roundtrip_and_validation(cmk, vault):
    pol = cmk.policy()
    assert pol.properties.backup_management_type == "AzureIaasVM"
    got = cmk.backup.protection_policies.get(cmk.VAULT, cmk.RG, "daily")
    assert got.id == pol.id and got.properties.time_zone == "UTC"
    bad = {
        "properties": {
            "backupManagementType": "AzureIaasVM",
            "policyType": "V1",
            "schedulePolicy": {
                "schedulePolicyType": "SimpleSchedulePolicy",
                "scheduleRunFrequency": "Hourly",
            },
            "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy"},
        }
    }
    assert (
        code_of(lambda: cmk.backup.protection_policies.create_or_update(cmk.VAULT, cmk.RG, "bad", bad))
        == "BMSUserErrorInvalidPolicyInput"
    )


def test_protection_follows_azurerm_sequence(cmk, vault):
    pol = cmk.policy()
    with pytest.raises(ResourceNotFoundError):
        cmk.backup.protected_items.get(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM)
    cmk.backup.protection_containers.refresh(cmk.VAULT, cmk.RG, "Azure")
    protectable = [p.name for p in cmk.backup.backup_protectable_items.list(cmk.VAULT, cmk.RG)]
    assert "vm;iaasvmcontainerv2;rg-workloads;vm-app-01" in protectable
    item = cmk.protect(pol.id)
    assert item.properties["protectionState"] == "IRPending"
    assert item.properties["sourceResourceId"].lower() == cmk.vm_id().lower()
    got = cmk.backup.protected_items.get(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM)
    assert got.properties.policy_id == pol.id
    containers = [
        c.name
        for c in cmk.backup.backup_protection_containers.list(
            cmk.VAULT, cmk.RG, filter="backupManagementType eq 'AzureIaasVM'"
        )
    ]
    assert containers == [CONTAINER]
    assert "vm;iaasvmcontainerv2;rg-workloads;vm-app-01" not in [
        p.name for p in cmk.backup.backup_protectable_items.list(cmk.VAULT, cmk.RG)
    ]


def test_vm_protected_by_one_vault_only(cmk, protected):
    cmk.rs_vault(name="rsv-second")
    pol = cmk.policy(vault_name="rsv-second")
    assert code_of(lambda: cmk.protect(pol.id, vault_name="rsv-second")) == "BMSUserErrorVMAlreadyProtected"


def test_backup_status_names_the_vault_that_protects_a_vm(cmk, protected):
    got = cmk.backup.backup_status.get("westeurope", {"resourceId": cmk.vm_id(), "resourceType": "VM"})
    assert got.protection_status == "Protected"
    assert got.vault_id.lower().endswith(
        "/vaults/" + protected[1].id.split("/vaults/")[1].split("/")[0].lower()
    )
    free = cmk.backup.backup_status.get(
        "westeurope", {"resourceId": cmk.vm_id("vm-other"), "resourceType": "VM"}
    )
    assert free.protection_status == "NotProtected" and free.vault_id is None


def _retention(pol, days: int) -> dict:
    body = pol.as_dict()
    body["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = days
    return body


def test_an_immutable_vault_refuses_a_shorter_retention(cmk):
    cmk.rs_vault(securitySettings={"immutabilitySettings": {"state": "Unlocked"}})
    pol = cmk.policy()
    shorter = lambda: cmk.backup.protection_policies.create_or_update(  # noqa: E731
        cmk.VAULT, cmk.RG, "daily", _retention(pol, 7)
    )
    assert code_of(shorter) == "BMSUserErrorRetentionReductionNotAllowedOnImmutableVault"
    longer = cmk.backup.protection_policies.create_or_update(cmk.VAULT, cmk.RG, "daily", _retention(pol, 60))
    assert longer.properties.retention_policy.daily_schedule.retention_duration.count == 60


def test_an_immutable_vault_keeps_an_items_backups_until_they_expire(cmk):
    cmk.rs_vault(
        securitySettings={
            "immutabilitySettings": {"state": "Unlocked"},
            "softDeleteSettings": {"softDeleteState": "Disabled"},  # a deleted item goes at once
        }
    )
    pol = cmk.policy()
    delete = lambda: cmk.backup.protected_items.delete(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM)  # noqa: E731
    cmk.protect(pol.id)
    delete()  # no recovery point yet: nothing is lost early
    cmk.protect(pol.id)
    cmk.backup.backups.trigger(
        cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, {"properties": {"objectType": "IaasVMBackupRequest"}}
    )
    assert code_of(delete) == "BMSUserErrorDeleteDataNotAllowedOnImmutableVault"


def test_a_vault_without_immutability_takes_a_shorter_retention(cmk, vault):
    pol = cmk.policy()
    got = cmk.backup.protection_policies.create_or_update(cmk.VAULT, cmk.RG, "daily", _retention(pol, 7))
    assert got.properties.retention_policy.daily_schedule.retention_duration.count == 7


def test_unknown_vm_is_refused(cmk, vault):
    pol = cmk.policy()
    assert code_of(lambda: cmk.protect(pol.id, vm="vm-missing")) == "BMSUserErrorVMNotFound"


def test_backup_now_creates_recovery_point_and_job(cmk, protected):
    cmk.backup.backups.trigger(
        cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, {"properties": {"objectType": "IaasVMBackupRequest"}}
    )
    jobs = {
        (j.properties.operation, j.properties.status) for j in cmk.backup.backup_jobs.list(cmk.VAULT, cmk.RG)
    }
    assert ("Backup", "Completed") in jobs and ("ConfigureBackup", "Completed") in jobs
    points = list(cmk.backup.recovery_points.list(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM))
    assert len(points) == 1
    item = cmk.backup.protected_items.get(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM)
    assert item.properties["protectionState"] == "Protected"
    assert item.properties["lastBackupStatus"] == "Completed"


def test_restore_from_recovery_point(cmk, protected):
    cmk.backup.backups.trigger(
        cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, {"properties": {"objectType": "IaasVMBackupRequest"}}
    )
    point = next(iter(cmk.backup.recovery_points.list(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM)))
    target = f"/subscriptions/{cmk.env.subscription_id}/resourceGroups/{cmk.RG}"
    cmk.backup.restores.begin_trigger(
        cmk.VAULT,
        cmk.RG,
        "Azure",
        CONTAINER,
        ITEM,
        point.name,
        {
            "properties": {
                "objectType": "IaasVMRestoreRequest",
                "recoveryPointId": point.name,
                "recoveryType": "RestoreDisks",
                "sourceResourceId": cmk.vm_id(),
                "targetResourceGroupId": target,
                "region": "westeurope",
            }
        },
    ).result()
    restores = [j for j in cmk.backup.backup_jobs.list(cmk.VAULT, cmk.RG, filter="operation eq 'Restore'")]
    assert [j.properties.status for j in restores] == ["Completed"]


def test_restore_with_unknown_disk_encryption_set(cmk, protected):
    cmk.backup.backups.trigger(
        cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, {"properties": {"objectType": "IaasVMBackupRequest"}}
    )
    point = next(iter(cmk.backup.recovery_points.list(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM)))
    des = f"/subscriptions/{cmk.env.subscription_id}/resourceGroups/{cmk.RG}/providers/Microsoft.Compute/diskEncryptionSets/nope"
    assert (
        code_of(
            lambda: cmk.backup.restores.begin_trigger(
                cmk.VAULT,
                cmk.RG,
                "Azure",
                CONTAINER,
                ITEM,
                point.name,
                {
                    "properties": {
                        "objectType": "IaasVMRestoreRequest",
                        "recoveryPointId": point.name,
                        "recoveryType": "RestoreDisks",
                        "diskEncryptionSetId": des,
                    }
                },
            ).result()
        )
        == "BMSUserErrorDiskEncryptionSetNotFound"
    )


def test_backup_in_cmk_vault(cmk):
    cmk.key_vault()
    key = cmk.rsa_key()
    vault = cmk.rs_vault()
    cmk.grant_policy(vault.identity.principal_id)
    cmk.assign_key(key.id)
    pol = cmk.policy()
    cmk.protect(pol.id)
    cmk.backup.backups.trigger(
        cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, {"properties": {"objectType": "IaasVMBackupRequest"}}
    )
    backups = list(cmk.backup.backup_jobs.list(cmk.VAULT, cmk.RG, filter="operation eq 'Backup'"))
    assert [j.properties.status for j in backups] == ["Completed"]


def test_vault_with_items_blocks_vault_and_group_deletion(cmk, protected):
    assert (
        code_of(lambda: cmk.rs.vaults.begin_delete(cmk.RG, cmk.VAULT).result())
        == "ServiceResourceNotEmptyWithBackendMessage"
    )
    assert (
        code_of(lambda: cmk.resources.resource_groups.begin_delete(cmk.RG).result())
        == "ServiceResourceNotEmptyWithBackendMessage"
    )
    cmk.backup.protected_items.delete(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM)
    # the deleted item stays soft-deleted for the vault's 14 days: the vault is still not empty
    assert (
        code_of(lambda: cmk.resources.resource_groups.begin_delete(cmk.RG).result())
        == "ServiceResourceNotEmptyWithBackendMessage"
    )
    cmk.env.clock.advance(14 * 86400 + 1)
    cmk.resources.resource_groups.begin_delete(cmk.RG).result()
    assert not cmk.resources.resource_groups.check_existence(cmk.RG)


def test_policy_in_use_cannot_be_deleted(cmk, protected):
    assert (
        code_of(lambda: cmk.backup.protection_policies.begin_delete(cmk.VAULT, cmk.RG, "daily").result())
        == "BMSUserErrorPolicyInUse"
    )


def test_stop_protection_blocks_backup_now(cmk, protected):
    body = {
        "properties": {
            "protectedItemType": "Microsoft.Compute/virtualMachines",
            "sourceResourceId": cmk.vm_id(),
            "protectionState": "ProtectionStopped",
        }
    }
    cmk.backup.protected_items.begin_create_or_update(
        cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, body
    ).result()
    assert (
        code_of(
            lambda: cmk.backup.backups.trigger(
                cmk.VAULT,
                cmk.RG,
                "Azure",
                CONTAINER,
                ITEM,
                {"properties": {"objectType": "IaasVMBackupRequest"}},
            )
        )
        == "BMSUserErrorBackupNotAllowed"
    )


def test_storage_redundancy_locked_after_items(cmk, protected):
    config = cmk.backup.backup_resource_storage_configs_non_crr.get(cmk.VAULT, cmk.RG)
    assert config.properties.storage_type_state == "Locked"
    assert (
        code_of(
            lambda: cmk.rs.vaults.begin_update(
                cmk.RG,
                cmk.VAULT,
                {"properties": {"redundancySettings": {"standardTierStorageRedundancy": "LocallyRedundant"}}},
            ).result()
        )
        == "BMSUserErrorStorageTypeLocked"
    )


def test_cross_region_restore_needs_geo_redundancy(cmk):
    assert (
        code_of(
            lambda: cmk.rs_vault(
                redundancySettings={
                    "standardTierStorageRedundancy": "LocallyRedundant",
                    "crossRegionRestore": "Enabled",
                }
            )
        )
        == "BMSUserErrorCrossRegionRestoreNeedsGeoRedundancy"
    )


def test_immutability_moves(cmk):
    assert (
        code_of(lambda: cmk.rs_vault(securitySettings={"immutabilitySettings": {"state": "Locked"}}))
        == "UserErrorImmutabilityStateTransitionNotAllowed"
    )
    cmk.rs_vault()
    assert (
        code_of(
            lambda: cmk.rs.vaults.begin_update(
                cmk.RG,
                cmk.VAULT,
                {"properties": {"securitySettings": {"immutabilitySettings": {"state": "Locked"}}}},
            ).result()
        )
        == "UserErrorImmutabilityStateTransitionNotAllowed"
    )
    for state in ("Unlocked", "Locked"):
        cmk.rs.vaults.begin_update(
            cmk.RG,
            cmk.VAULT,
            {"properties": {"securitySettings": {"immutabilitySettings": {"state": state}}}},
        ).result()
    assert (
        code_of(
            lambda: cmk.rs.vaults.begin_update(
                cmk.RG,
                cmk.VAULT,
                {"properties": {"securitySettings": {"immutabilitySettings": {"state": "Unlocked"}}}},
            ).result()
        )
        == "UserErrorImmutabilityLocked"
    )


def test_vault_defaults_and_identity(cmk, vault):
    assert vault.sku.name == "Standard"
    assert vault.properties.redundancy_settings.standard_tier_storage_redundancy == "GeoRedundant"
    assert vault.identity.tenant_id == cmk.env.tenant_id
    assert cmk.env.principal(vault.identity.principal_id)["kind"] == "system_assigned"
    same = cmk.rs_vault()
    assert same.identity.principal_id == vault.identity.principal_id


def test_seeded_vms_are_read_only_inventory(cmk, make_client):
    from azure.core.rest import HttpRequest
    from azure.mgmt.resource.resources import ResourceManagementClient

    client = make_client(ResourceManagementClient)
    vm_path = cmk.vm_id() + "?api-version=2024-07-01"
    got = client._client.send_request(HttpRequest("GET", "https://management.azure.com" + vm_path))
    assert got.status_code == 200 and got.json()["name"] == "vm-app-01"
    assert "_emulator" not in got.json()
    put = client._client.send_request(
        HttpRequest("PUT", "https://management.azure.com" + vm_path, json={"location": "westeurope"})
    )
    assert put.status_code == 405


def _arm_call(client, method: str, path: str, body: dict | None = None):
    from azure.core.rest import HttpRequest

    url = f"https://management.azure.com{path}?api-version=2024-03-02"
    return client._client.send_request(HttpRequest(method, url, json=body))


def test_disk_encryption_set_rules_and_restore_with_it(cmk):
    cmk.key_vault()
    key = cmk.rsa_key()
    des_path = f"/subscriptions/{cmk.env.subscription_id}/resourceGroups/{cmk.RG}/providers/Microsoft.Compute/diskEncryptionSets/des-restore"
    wrong = _arm_call(
        cmk.resources,
        "PUT",
        des_path,
        {
            "location": "westeurope",
            "identity": {"type": "SystemAssigned"},
            "properties": {"activeKey": {"keyUrl": key.id}, "rotationToLatestKeyVersionEnabled": True},
        },
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "InvalidParameter"
    made = _arm_call(
        cmk.resources,
        "PUT",
        des_path,
        {
            "location": "westeurope",
            "identity": {"type": "SystemAssigned"},
            "properties": {"activeKey": {"keyUrl": key.id}},
        },
    )
    assert made.status_code == 201
    des = made.json()
    assert cmk.env.principal(des["identity"]["principalId"])["kind"] == "system_assigned"
    cmk.grant_policy(des["identity"]["principalId"])
    cmk.rs_vault()
    pol = cmk.policy()
    cmk.protect(pol.id)
    cmk.backup.backups.trigger(
        cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, {"properties": {"objectType": "IaasVMBackupRequest"}}
    )
    point = next(iter(cmk.backup.recovery_points.list(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM)))
    cmk.backup.restores.begin_trigger(
        cmk.VAULT,
        cmk.RG,
        "Azure",
        CONTAINER,
        ITEM,
        point.name,
        {
            "properties": {
                "objectType": "IaasVMRestoreRequest",
                "recoveryPointId": point.name,
                "recoveryType": "RestoreDisks",
                "diskEncryptionSetId": des["id"],
                "targetResourceGroupId": f"/subscriptions/{cmk.env.subscription_id}/resourceGroups/{cmk.RG}",
            }
        },
    ).result()
    restores = list(cmk.backup.backup_jobs.list(cmk.VAULT, cmk.RG, filter="operation eq 'Restore'"))
    assert [j.properties.status for j in restores] == ["Completed"]


def test_classic_vm_refused_on_cmk_vault(cmk):
    cmk.key_vault()
    key = cmk.rsa_key()
    vault = cmk.rs_vault()
    cmk.grant_policy(vault.identity.principal_id)
    cmk.assign_key(key.id)
    pol = cmk.policy()
    body = {
        "properties": {
            "protectedItemType": "Microsoft.ClassicCompute/virtualMachines",
            "sourceResourceId": cmk.vm_id(),
            "policyId": pol.id,
        }
    }
    assert (
        code_of(
            lambda: cmk.backup.protected_items.begin_create_or_update(
                cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, body
            ).result()
        )
        == "BMSUserErrorClassicVMNotSupportedWithCMK"
    )


def test_v2_hourly_policy_job_and_recovery_point_reads(cmk, protected):
    v2 = {
        "properties": {
            "backupManagementType": "AzureIaasVM",
            "policyType": "V2",
            "instantRpRetentionRangeInDays": 7,
            "schedulePolicy": {
                "schedulePolicyType": "SimpleSchedulePolicyV2",
                "scheduleRunFrequency": "Hourly",
                "hourlySchedule": {
                    "interval": 4,
                    "scheduleWindowStartTime": "2026-01-01T08:00:00Z",
                    "scheduleWindowDuration": 12,
                },
            },
            "retentionPolicy": {
                "retentionPolicyType": "LongTermRetentionPolicy",
                "dailySchedule": {
                    "retentionTimes": ["2026-01-01T08:00:00Z"],
                    "retentionDuration": {"count": 30, "durationType": "Days"},
                },
            },
        }
    }
    policy = cmk.backup.protection_policies.create_or_update(cmk.VAULT, cmk.RG, "hourly", v2)
    assert policy.properties.policy_type == "V2"
    v1_schedule = {**v2["properties"], "policyType": "V1"}
    assert (
        code_of(
            lambda: cmk.backup.protection_policies.create_or_update(
                cmk.VAULT, cmk.RG, "bad-v1", {"properties": v1_schedule}
            )
        )
        == "BMSUserErrorInvalidPolicyInput"
    )
    cmk.backup.backups.trigger(
        cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, {"properties": {"objectType": "IaasVMBackupRequest"}}
    )
    job = next(iter(cmk.backup.backup_jobs.list(cmk.VAULT, cmk.RG, filter="operation eq 'Backup'")))
    again = cmk.backup.job_details.get(cmk.VAULT, cmk.RG, job.name)
    assert again.properties.status == "Completed" and again.properties.entity_friendly_name == "vm-app-01"
    point = next(iter(cmk.backup.recovery_points.list(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM)))
    same = cmk.backup.recovery_points.get(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, point.name)
    assert same.id == point.id


def test_vault_deletion_removes_its_identity(cmk, vault):
    cmk.rs.vaults.begin_delete(cmk.RG, cmk.VAULT).result()
    assert cmk.env.principal(vault.identity.principal_id) is None
    assert [v.name for v in cmk.rs.vaults.list_by_resource_group(cmk.RG)] == []


def test_vault_lists_show_what_azures_show_and_a_get_the_rest(cmk, vault):
    """Vaults_ListByResourceGroup and Vaults_ListBySubscriptionId answer each vault's name, place,
    tags, sku and etag with only provisioningState of its properties (spec examples
    ListResources.json and ListBySubscriptionIds.json); the identity and encryption come from a GET."""
    for listed in (
        list(cmk.rs.vaults.list_by_resource_group(cmk.RG)),
        [v for v in cmk.rs.vaults.list_by_subscription_id() if v.name == cmk.VAULT],
    ):
        assert [v.name for v in listed] == [cmk.VAULT]
        one = listed[0]
        assert one.properties.provisioning_state == "Succeeded"
        assert one.properties.encryption is None and one.properties.redundancy_settings is None
        assert one.identity is None and one.sku.name and one.location and one.etag
    got = cmk.rs.vaults.get(cmk.RG, cmk.VAULT)
    assert got.identity.principal_id and got.properties.redundancy_settings is not None


def test_cross_region_restore_once_on_stays_on(cmk):
    on = {"standardTierStorageRedundancy": "GeoRedundant", "crossRegionRestore": "Enabled"}
    cmk.rs_vault(redundancySettings=on)
    off = {"properties": {"redundancySettings": {**on, "crossRegionRestore": "Disabled"}}}
    turn_off = lambda: cmk.rs.vaults.begin_update(cmk.RG, cmk.VAULT, off).result()  # noqa: E731
    assert code_of(turn_off) == "BMSUserErrorCrossRegionRestoreCannotBeDisabled"

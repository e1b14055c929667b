"""Backup now and restore through the official Recovery Services backup SDK, ending in the data path."""

from __future__ import annotations

from providers.azurelocal import diskdata, seed
from providers.azurelocal.store import Kind

CONTAINER = "iaasvmcontainer;iaasvmcontainerv2;rg-workloads;vm-app-01"
ITEM = "VM;iaasvmcontainerv2;rg-workloads;vm-app-01"


def _jobs(cmk, operation):
    return [j for j in cmk.backup.backup_jobs.list(cmk.VAULT, cmk.RG) if j.properties.operation == operation]


def test_backup_now_and_restore_disks_through_the_sdk(env, cmk):
    cmk.key_vault()
    key = cmk.rsa_key()
    vault = cmk.rs_vault()
    cmk.grant_policy(vault.identity.principal_id)
    cmk.assign_key(key.id.rsplit("/", 1)[0])
    cmk.protect(cmk.policy().id)
    original = diskdata.read_disk(env, env.store.get(Kind.DISK, seed.disk_id("vm-app-01_OsDisk_1")))

    cmk.backup.backups.trigger(
        cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, {"properties": {"objectType": "IaasVMBackupRequest"}}
    )
    assert [j.properties.status for j in _jobs(cmk, "Backup")] == ["Completed"]
    points = list(cmk.backup.recovery_points.list(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM))
    assert len(points) == 1

    group_id = f"/subscriptions/{env.subscription_id}/resourceGroups/{cmk.RG}"
    cmk.backup.restores.begin_trigger(
        cmk.VAULT,
        cmk.RG,
        "Azure",
        CONTAINER,
        ITEM,
        points[0].name,
        {
            "properties": {
                "objectType": "IaasVMRestoreRequest",
                "recoveryPointId": points[0].name,
                "recoveryType": "RestoreDisks",
                "sourceResourceId": cmk.vm_id(),
                "targetResourceGroupId": group_id,
                "region": "westeurope",
                "originalStorageAccountOption": False,
            }
        },
    ).result()
    restore_jobs = _jobs(cmk, "Restore")
    assert [j.properties.status for j in restore_jobs] == ["Completed"]
    stored = env.store.get(Kind.JOB, restore_jobs[0].id)
    disks = stored["_emulator"]["restored_disk_ids"]
    assert disks and all(d.lower().startswith(group_id.lower()) for d in disks)
    assert diskdata.read_disk(env, env.store.get(Kind.DISK, disks[0])) == original

    cmk.key_client(cmk.KV).update_key_properties(cmk.KEY, key.properties.version, enabled=False)
    cmk.backup.backups.trigger(
        cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, {"properties": {"objectType": "IaasVMBackupRequest"}}
    )
    failed = [j for j in _jobs(cmk, "Backup") if j.properties.status == "Failed"]
    assert len(failed) == 1
    assert failed[0].properties.error_details[0].error_code == "UserErrorCMKKeyNotEnabled"


def test_user_assigned_identity_wraps_the_data_key_until_the_key_vault_denies_network_access(env, cmk):
    from providers.azurelocal import datapath

    cmk.key_vault()
    key = cmk.rsa_key()
    identity = cmk.msi.user_assigned_identities.create_or_update(cmk.RG, "id-cmk", {"location": "westeurope"})
    vault = cmk.rs_vault(identity_type="UserAssigned", user_identities=[identity.id])
    cmk.grant_policy(identity.principal_id)
    cmk.assign_key(key.id, user_identity=identity.id)
    job = datapath.run_backup(env, vault.id, None, vm_id=cmk.vm_id())
    assert job["properties"]["status"] == "Completed"
    assert datapath.current_dek_version(env, vault.id) == key.id
    cmk.keyvault.vaults.update(
        cmk.RG, cmk.KV, {"properties": {"networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"}}}
    )
    failed = datapath.run_backup(env, vault.id, None, vm_id=cmk.vm_id())
    assert (
        failed["properties"]["errorDetails"][0]["errorCode"]
        == "UserErrorCMKUserAssignedIdentityNetworkRestricted"
    )

"""Azure Backup's hard parts, as the official SDK client sees them on the local Azure.

* Container refresh (VM discovery) is asynchronous: 202 + Location, whose result answers 202 until
  the discovery finishes and then 204 (spec examples 2026-10-01 Common/RefreshContainers*.json).
* A VM the vault has not discovered yet is refused with 400 BMSUserErrorInvalidConfigureProtectionRequest
  (azurerm issues 2143, 2207).
* A policy PUT answers 202; the policy shows on GET only once its operation has finished
  (AzureIaasVm/ProtectionPolicies_CreateOrUpdate_Complex.json, ProtectionPolicyOperationResults_Get.json,
  ProtectionPolicyOperationStatuses_Get.json).
* Enabling, changing or stopping protection (a protected-item PUT) answers 202 with Location and
  Azure-AsyncOperation under the item (.../protectedItems/{item}/operationResults|operationsStatus/{id})
  (AzureIaasVm/ConfigureProtection.json, StopProtection.json, ProtectedItemOperationResults.json,
  ProtectedItemOperationStatus.json); deleting it answers 202 pointing at the vault's
  backupOperationResults/backupOperations (Common/ProtectedItem_Delete.json,
  ProtectedItem_Delete_OperationStatus.json).
* A deleted backup item is soft-deleted for 14 days (isScheduledForDeferredDelete,
  deferredDeleteTimeInUTC), and the vault can't be deleted meanwhile: 400
  ServiceResourceNotEmptyWithBackendMessage.

The delays run on the emulator clock, which the tests move forward instead of sleeping.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest

from providers.azurelocal.app import parse_time

CONTAINER = "iaasvmcontainer;iaasvmcontainerv2;rg-workloads;vm-app-01"
ITEM = "VM;iaasvmcontainerv2;rg-workloads;vm-app-01"
GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def raw(response, _deserialized, _headers):
    """``cls=`` for SDK calls: the HTTP response itself (status, headers, body)."""
    return response.http_response


@pytest.fixture
def asynchronous(cmk):
    """The local Azure as it runs by default: backup operations take time, discovery is needed."""
    cmk.env.configure_faults(backup_operation_seconds=0.4, backup_discovery_required=True)
    cmk.rs_vault()
    return cmk


def _refresh(cmk) -> str:
    got = cmk.backup.protection_containers.refresh(cmk.VAULT, cmk.RG, "Azure", cls=raw)
    assert got.status_code == 202
    assert not got.text()
    location = got.headers["Location"]
    match = re.search(
        rf"/resourceGroups/{cmk.RG}/providers/Microsoft.RecoveryServices/vaults/{cmk.VAULT}"
        rf"/backupFabrics/Azure/operationResults/({GUID})\?api-version=2026-10-01$",
        location,
    )
    assert match, location
    assert float(got.headers["Retry-After"]) > 0
    return match.group(1)


def test_container_refresh_answers_202_and_its_result_202_until_done_then_204(asynchronous):
    cmk = asynchronous
    op = _refresh(cmk)
    results = cmk.backup.protection_container_refresh_operation_results
    running = results.get(cmk.VAULT, cmk.RG, "Azure", op, cls=raw)
    assert running.status_code == 202
    assert "/backupFabrics/Azure/operationResults/" + op in running.headers["Location"]
    assert "Retry-After" in running.headers
    status = cmk.backup.protection_container_refresh_operation_statuses.get(
        resource_group_name=cmk.RG, vault_name=cmk.VAULT, fabric_name="Azure", operation_id=op
    )
    assert status.status == "InProgress" and status.name == op
    cmk.env.clock.advance(1)
    assert results.get(cmk.VAULT, cmk.RG, "Azure", op, cls=raw).status_code == 204
    done = cmk.backup.protection_container_refresh_operation_statuses.get(
        resource_group_name=cmk.RG, vault_name=cmk.VAULT, fabric_name="Azure", operation_id=op
    )
    assert done.status == "Succeeded" and done.end_time >= done.start_time
    assert done.id.endswith(f"/backupFabrics/Azure/operationsStatus/{op}")


def _protectable(cmk) -> list[str]:
    return [
        p.properties.friendly_name
        for p in cmk.backup.backup_protectable_items.list(
            cmk.VAULT, cmk.RG, filter="backupManagementType eq 'AzureIaasVM'"
        )
    ]


def test_a_vm_not_discovered_yet_is_refused_until_the_refresh_has_finished(asynchronous):
    cmk = asynchronous
    cmk.env.configure_faults(backup_operation_seconds=0)
    policy = cmk.policy()
    cmk.env.configure_faults(backup_operation_seconds=0.4)
    assert "vm-app-01" not in _protectable(cmk)
    with pytest.raises(HttpResponseError) as refused:
        cmk.protect(policy.id)
    assert refused.value.status_code == 400
    assert refused.value.error.code == "BMSUserErrorInvalidConfigureProtectionRequest"
    assert "Please ensure that container exists" in refused.value.error.message
    _refresh(cmk)
    with pytest.raises(HttpResponseError) as still:  # discovery runs until the operation is done
        cmk.protect(policy.id)
    assert still.value.error.code == "BMSUserErrorInvalidConfigureProtectionRequest"
    cmk.env.clock.advance(1)
    assert "vm-app-01" in _protectable(cmk)
    item = cmk.protect(policy.id)
    assert item.properties["protectionState"] == "IRPending"


def test_a_policy_put_answers_202_and_the_policy_appears_when_its_operation_is_done(asynchronous):
    cmk = asynchronous
    got = cmk.backup.protection_policies.create_or_update(
        cmk.VAULT, cmk.RG, "daily", _policy_body(), cls=lambda resp, des, h: (resp.http_response, des)
    )
    response, body = got
    assert response.status_code == 202 and body is None
    base = rf"/resourceGroups/{cmk.RG}/providers/Microsoft.RecoveryServices/vaults/{cmk.VAULT}/backupPolicies/daily"
    location = re.search(rf"{base}/operationResults/({GUID})\?api-version=", response.headers["Location"])
    assert location, response.headers["Location"]
    assert re.search(
        rf"{base}/operations/{location.group(1)}\?api-version=", response.headers["Azure-AsyncOperation"]
    )
    op = location.group(1)
    with pytest.raises(ResourceNotFoundError):
        cmk.backup.protection_policies.get(cmk.VAULT, cmk.RG, "daily")
    results = cmk.backup.protection_policy_operation_results
    # the SDK's get accepts only the finished answer (200); a poll before that answers 202 (invented:
    # the spec example shows only 200)
    assert cmk.backup.send_request(HttpRequest("GET", response.headers["Location"])).status_code == 202
    assert (
        cmk.backup.protection_policy_operation_statuses.get(cmk.VAULT, cmk.RG, "daily", op).status
        == "InProgress"
    )
    cmk.env.clock.advance(1)
    result = results.get(cmk.VAULT, cmk.RG, "daily", op)
    assert result.name == "daily" and result.properties.backup_management_type == "AzureIaasVM"
    status = cmk.backup.protection_policy_operation_statuses.get(cmk.VAULT, cmk.RG, "daily", op)
    assert status.status == "Succeeded" and status.name == op
    # ProtectionPolicyOperationStatuses_Get.json: the id is the bare operation id, the properties list jobs
    assert status.id == op
    assert status.properties.object_type == "OperationStatusJobsExtendedInfo"
    assert status.properties.job_ids == []
    policy = cmk.backup.protection_policies.get(cmk.VAULT, cmk.RG, "daily")
    assert policy.properties.retention_policy.daily_schedule.retention_duration.count == 30


def test_a_bad_policy_is_refused_at_once_not_in_the_operation(asynchronous):
    cmk = asynchronous
    body = _policy_body()
    body["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = 3
    with pytest.raises(HttpResponseError) as refused:
        cmk.backup.protection_policies.create_or_update(cmk.VAULT, cmk.RG, "daily", body)
    assert refused.value.status_code == 400
    assert refused.value.error.code == "BMSUserErrorInvalidPolicyInput"


def test_a_deleted_item_is_soft_deleted_for_14_days_and_keeps_the_vault(cmk):
    cmk.rs_vault()
    policy = cmk.policy()
    cmk.protect(policy.id)
    cmk.backup.protected_items.delete(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM)
    item = cmk.backup.protected_items.get(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM)
    props = item.properties
    assert props["isScheduledForDeferredDelete"] is True
    purge_at = parse_time(props["deferredDeleteTimeInUTC"])
    assert abs(purge_at - (parse_time(cmk.env.now_iso()) + timedelta(days=14))) < timedelta(minutes=1)
    assert re.fullmatch(r"1[34]\.\d\d:\d\d:\d\d", props["deferredDeleteTimeRemaining"])
    assert props["protectionState"] == "ProtectionStopped"
    listed = list(cmk.backup.backup_protected_items.list(cmk.VAULT, cmk.RG))
    assert [i.properties["isScheduledForDeferredDelete"] for i in listed] == [True]
    with pytest.raises(HttpResponseError) as refused:
        cmk.rs.vaults.begin_delete(resource_group_name=cmk.RG, vault_name=cmk.VAULT).result()
    assert refused.value.status_code == 400
    assert refused.value.error.code == "ServiceResourceNotEmptyWithBackendMessage"
    assert "soft-deleted" in refused.value.error.message
    # the way out azurerm takes: undelete (isRehydrate), then protection can be changed again
    body = {"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines", "isRehydrate": True}}
    back = cmk.backup.protected_items.begin_create_or_update(
        cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, body
    ).result()
    assert back.properties["isScheduledForDeferredDelete"] is False
    assert back.properties["protectionState"] == "ProtectionStopped"


def test_soft_deleted_items_go_for_good_after_the_retention_and_free_the_vault(cmk):
    cmk.rs_vault()
    cmk.protect(cmk.policy().id)
    cmk.backup.protected_items.delete(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM)
    cmk.env.clock.advance(14 * 86400 + 1)
    with pytest.raises(ResourceNotFoundError):
        cmk.backup.protected_items.get(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM)
    cmk.rs.vaults.begin_delete(resource_group_name=cmk.RG, vault_name=cmk.VAULT).result()


def test_with_soft_delete_off_a_deleted_item_is_gone_at_once(cmk, backup_client):
    cmk.rs_vault()
    backup_client.backup_resource_vault_configs.update(
        cmk.VAULT, cmk.RG, {"properties": {"softDeleteFeatureState": "Disabled"}}
    )
    cmk.protect(cmk.policy().id)
    cmk.backup.protected_items.delete(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM)
    with pytest.raises(ResourceNotFoundError):
        cmk.backup.protected_items.get(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM)
    cmk.rs.vaults.begin_delete(resource_group_name=cmk.RG, vault_name=cmk.VAULT).result()


def _policy_body() -> dict:
    return {
        "properties": {
            "backupManagementType": "AzureIaasVM",
            "timeZone": "UTC",
            "schedulePolicy": {
                "schedulePolicyType": "SimpleSchedulePolicy",
                "scheduleRunFrequency": "Daily",
                "scheduleRunTimes": ["2018-01-24T02:00:00Z"],
            },
            "retentionPolicy": {
                "retentionPolicyType": "LongTermRetentionPolicy",
                "dailySchedule": {
                    "retentionTimes": ["2018-01-24T02:00:00Z"],
                    "retentionDuration": {"count": 30, "durationType": "Days"},
                },
            },
        }
    }


# The response fields of spec example AzureIaasVm/StopProtection.json (2026-10-01), ProtectedItems_CreateOrUpdate.
STOP_PROTECTION_FIELDS = {
    "backupManagementType",
    "containerName",
    "friendlyName",
    "healthStatus",
    "lastBackupStatus",
    "policyId",
    "protectedItemDataId",
    "protectedItemType",
    "protectionState",
    "protectionStatus",
    "sourceResourceId",
    "virtualMachineId",
    "workloadType",
}


def _item_base(cmk) -> str:
    return (
        rf"/resourceGroups/{cmk.RG}/providers/Microsoft.RecoveryServices/vaults/{cmk.VAULT}"
        rf"/backupFabrics/Azure/protectionContainers/{re.escape(CONTAINER)}/protectedItems/{re.escape(ITEM)}"
    )


def _started(cmk, response) -> str:
    """The 202 of a protected-item PUT as spec examples AzureIaasVm/ConfigureProtection.json and
    StopProtection.json show it: no body, Location .../protectedItems/{item}/operationResults/{id},
    Azure-AsyncOperation .../protectedItems/{item}/operationsStatus/{id}, an integer Retry-After."""
    assert response.status_code == 202
    assert not response.text()
    base = _item_base(cmk)
    location = re.search(
        rf"{base}/operationResults/({GUID})\?api-version=2026-10-01$", response.headers["Location"]
    )
    assert location, response.headers["Location"]
    op = location.group(1)
    assert re.search(
        rf"{base}/operationsStatus/{op}\?api-version=2026-10-01$", response.headers["Azure-AsyncOperation"]
    ), response.headers["Azure-AsyncOperation"]
    assert re.fullmatch(r"\d+", response.headers["Retry-After"])
    return op


def _put_item(cmk, body: dict):
    poller = cmk.backup.protected_items.begin_create_or_update(
        cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, body, polling=False
    )
    return poller.polling_method()._initial_response.http_response


def test_enable_protection_answers_202_and_its_item_operation_as_the_spec_examples(asynchronous):
    cmk = asynchronous
    cmk.env.configure_faults(backup_operation_seconds=0, backup_discovery_required=False)
    policy = cmk.policy()
    cmk.env.configure_faults(backup_operation_seconds=0.4)
    body = {
        "properties": {
            "protectedItemType": "Microsoft.Compute/virtualMachines",
            "sourceResourceId": cmk.vm_id(),
            "policyId": policy.id,
        }
    }
    op = _started(cmk, _put_item(cmk, body))
    args = (cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, op)
    # AzureIaasVm/ProtectedItemOperationResults.json: 202 with the same headers while it runs
    running = cmk.backup.protected_item_operation_results.get(*args, cls=raw)
    assert running.status_code == 202 and not running.text()
    assert re.search(rf"{_item_base(cmk)}/operationResults/{op}\?", running.headers["Location"])
    assert re.search(rf"{_item_base(cmk)}/operationsStatus/{op}\?", running.headers["Azure-AsyncOperation"])
    assert int(running.headers["Retry-After"]) >= 1
    # AzureIaasVm/ProtectedItemOperationStatus.json: id and name are the operation id
    status = cmk.backup.protected_item_operation_statuses.get(*args)
    assert (status.id, status.name, status.status) == (op, op, "InProgress")
    cmk.env.clock.advance(1)
    done = cmk.backup.protected_item_operation_results.get(*args, cls=raw)
    assert done.status_code == 200
    doc = done.json()
    assert doc["name"] == ITEM
    assert (
        doc["type"] == "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems"
    )
    assert doc["properties"]["policyId"] == policy.id
    assert doc["properties"]["protectedItemType"] == "Microsoft.Compute/virtualMachines"
    finished = cmk.backup.protected_item_operation_statuses.get(*args)
    assert (finished.id, finished.status) == (op, "Succeeded") and finished.end_time >= finished.start_time
    # ... and its properties name the job that configured the protection
    assert finished.properties.object_type == "OperationStatusJobExtendedInfo"
    job = cmk.backup.job_details.get(cmk.VAULT, cmk.RG, finished.properties.job_id)
    assert (job.properties.operation, job.properties.entity_friendly_name) == ("ConfigureBackup", "vm-app-01")
    # the official poller follows Azure-AsyncOperation to the end and reads the item back
    again = cmk.backup.protected_items.begin_create_or_update(
        cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, body, polling_interval=0
    ).result()
    assert again.name == ITEM and again.properties["policyId"] == policy.id


# The response fields of spec example AzureIaasVm/StopProtection.json, ProtectedItems_CreateOrUpdate.
STOP_PROTECTION_FIELDS = {
    "backupManagementType",
    "containerName",
    "friendlyName",
    "healthStatus",
    "lastBackupStatus",
    "policyId",
    "protectedItemDataId",
    "protectedItemType",
    "protectionState",
    "protectionStatus",
    "sourceResourceId",
    "virtualMachineId",
    "workloadType",
}


def test_stop_protection_answers_as_the_spec_example(cmk):
    cmk.rs_vault()
    cmk.protect(cmk.policy().id)
    body = {
        "properties": {
            "protectedItemType": "Microsoft.Compute/virtualMachines",
            "protectionState": "ProtectionStopped",
            "sourceResourceId": cmk.vm_id(),
        }
    }
    op = _started(cmk, _put_item(cmk, body))
    # AzureIaasVm/ProtectedItemOperationStatus.json: the status names the job that stopped protection
    status = cmk.backup.protected_item_operation_statuses.get(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, op)
    assert status.properties.object_type == "OperationStatusJobExtendedInfo"
    job = cmk.backup.job_details.get(cmk.VAULT, cmk.RG, status.properties.job_id)
    assert job.properties.extended_info.property_bag == {"Protection state": "ProtectionStopped"}
    got = cmk.backup.protected_items.begin_create_or_update(
        cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, body, cls=lambda resp, des, h: resp.http_response
    ).result()
    assert got.status_code == 200
    doc = got.json()
    assert (
        doc["type"] == "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems"
    )
    assert doc["name"] == ITEM
    assert STOP_PROTECTION_FIELDS <= set(doc["properties"]), STOP_PROTECTION_FIELDS - set(doc["properties"])
    assert doc["properties"]["protectionState"] == "ProtectionStopped"
    assert doc["properties"]["containerName"] == "iaasvmcontainerv2;rg-workloads;vm-app-01"


def test_delete_answers_202_with_the_vaults_backup_operation_as_the_spec_examples(asynchronous):
    cmk = asynchronous
    cmk.env.configure_faults(backup_operation_seconds=0, backup_discovery_required=False)
    cmk.protect(cmk.policy().id)
    cmk.env.configure_faults(backup_operation_seconds=0.4)
    got = cmk.backup.protected_items.delete(cmk.VAULT, cmk.RG, "Azure", CONTAINER, ITEM, cls=raw)
    # Common/ProtectedItem_Delete.json: the operation lives on the vault, not under the item
    assert got.status_code == 202 and not got.text()
    vault = rf"/resourceGroups/{cmk.RG}/providers/Microsoft.RecoveryServices/vaults/{cmk.VAULT}"
    location = re.search(
        rf"{vault}/backupOperationResults/({GUID})\?api-version=2026-10-01$", got.headers["Location"]
    )
    assert location, got.headers["Location"]
    op = location.group(1)
    assert re.search(
        rf"{vault}/backupOperations/{op}\?api-version=2026-10-01$", got.headers["Azure-AsyncOperation"]
    ), got.headers["Azure-AsyncOperation"]
    assert int(got.headers["Retry-After"]) >= 1
    # Common/ProtectedItem_Delete_OperationStatus.json: id is the operation id, the end time a placeholder
    status = cmk.backup.send_request(HttpRequest("GET", got.headers["Azure-AsyncOperation"]))
    assert status.status_code == 200
    assert status.json() == {
        "id": op,
        "name": op,
        "status": "InProgress",
        "startTime": status.json()["startTime"],
        "endTime": "0001-01-01T00:00:00.00000Z",
    }
    results = cmk.backup.backup_operation_results
    # Common/ProtectedItem_Delete_OperationResult.json: 202 with both operation headers while it runs
    running = results.get(cmk.VAULT, cmk.RG, op, cls=raw)
    assert running.status_code == 202
    assert re.search(rf"{vault}/backupOperations/{op}\?", running.headers["Azure-AsyncOperation"])
    assert re.search(rf"{vault}/backupOperationResults/{op}\?", running.headers["Location"])
    cmk.env.clock.advance(1)
    assert results.get(cmk.VAULT, cmk.RG, op, cls=raw).status_code == 204
    done = cmk.backup.backup_operation_statuses.get(cmk.VAULT, cmk.RG, op)
    assert (done.id, done.status) == (op, "Succeeded") and done.end_time >= done.start_time
    # deleting it again: the item is soft-deleted, and a name never protected answers 204
    other = "VM;iaasvmcontainerv2;rg-workloads;vm-none"
    gone = cmk.backup.protected_items.delete(
        cmk.VAULT, cmk.RG, "Azure", "iaasvmcontainer;iaasvmcontainerv2;rg-workloads;vm-none", other, cls=raw
    )
    assert gone.status_code == 204

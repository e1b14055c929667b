"""The emulator core through the official SDK: routing, authentication, resource groups, faults."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from providers.azurelocal import seed
from providers.azurelocal.http import request_from_url


def test_seeded_workload_group_is_listed(resource_client):
    names = {g.name for g in resource_client.resource_groups.list()}
    assert seed.WORKLOAD_GROUP in names
    group = resource_client.resource_groups.get(seed.WORKLOAD_GROUP)
    assert group.location == "westeurope"


def test_resource_group_lifecycle(resource_client):
    created = resource_client.resource_groups.create_or_update("rg-test", {"location": "West Europe"})
    assert created.location == "westeurope"
    assert created.id.endswith("/resourceGroups/rg-test")
    assert resource_client.resource_groups.check_existence("rg-test") is True
    resource_client.resource_groups.begin_delete("rg-test").result()
    assert resource_client.resource_groups.check_existence("rg-test") is False
    with pytest.raises(ResourceNotFoundError) as err:
        resource_client.resource_groups.get("rg-test")
    assert err.value.error.code == "ResourceGroupNotFound"


def test_deleting_a_resource_group_that_is_gone_is_not_found(resource_client):
    # ResourceGroups_Delete answers 200 or 202; a group already deleted (a retried delete whose first
    # try went through) is 404, which azurerm and vaultform take as done. A 204 here made the SDK
    # fail with "Operation returned an invalid status 'No Content'".
    resource_client.resource_groups.create_or_update("rg-twice", {"location": "westeurope"})
    resource_client.resource_groups.begin_delete("rg-twice").result()
    with pytest.raises(ResourceNotFoundError) as err:
        resource_client.resource_groups.begin_delete("rg-twice")
    assert err.value.error.code == "ResourceGroupNotFound"


def test_resource_group_location_is_fixed(resource_client):
    resource_client.resource_groups.create_or_update("rg-fixed", {"location": "westeurope"})
    with pytest.raises(HttpResponseError) as err:
        resource_client.resource_groups.create_or_update("rg-fixed", {"location": "northeurope"})
    assert err.value.error.code == "InvalidResourceGroupLocation"


def test_missing_token_is_refused_on_arm(env, sub):
    response = env.handle(
        request_from_url("GET", f"https://management.azure.com/subscriptions/{sub}/resourcegroups")
    )
    assert response.status == 401
    assert response.body["error"]["code"] == "AuthenticationFailed"


def test_unknown_subscription(env):
    from providers.azurelocal.http import Request

    req = request_from_url(
        "GET",
        "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/x",
        {"Authorization": "Bearer anything"},
    )
    response = env.handle(req)
    assert response.status == 404
    assert response.body["error"]["code"] == "SubscriptionNotFound"
    assert isinstance(req, Request)


def test_writes_are_in_the_activity_log(env, resource_client):
    resource_client.resource_groups.create_or_update("rg-logged", {"location": "westeurope"})
    entries = env.activity(f"/subscriptions/{env.subscription_id}/resourcegroups/rg-logged")
    assert [e["operation"] for e in entries] == ["Microsoft.Resources/subscriptions/resourceGroups/write"]
    assert entries[0]["principal_id"] == env.deployer_object_id


def test_sdk_retry_recovers_from_throttling(env, resource_client):
    env.configure_faults(throttle_rate=0.5, retry_after_seconds=0.001, seed=7)
    for i in range(6):
        resource_client.resource_groups.create_or_update(f"rg-throttled-{i}", {"location": "westeurope"})
    assert env.store.meta("fault_calls") > 6  # some calls were answered 429 and retried
    env.reset_faults()
    assert len([g for g in resource_client.resource_groups.list() if g.name.startswith("rg-throttled-")]) == 6


def test_transient_errors_are_retried(env, resource_client):
    env.configure_faults(transient_error_rate=0.3, seed=3)
    resource_client.resource_groups.create_or_update("rg-flaky", {"location": "westeurope"})
    env.reset_faults()
    assert resource_client.resource_groups.check_existence("rg-flaky")


def test_unknown_fault_setting_is_refused(env):
    with pytest.raises(ValueError, match="unknown fault setting"):
        env.configure_faults(bogus=1)


def test_clock_advance_is_persisted(env, tmp_path):
    before = env.clock.now()
    env.clock.advance(3600)
    assert (env.clock.now() - before).total_seconds() >= 3600


def test_subscription_and_resource_listing(resource_client, msi_client, env):
    from azure.core.rest import HttpRequest

    arm = "https://management.azure.com"
    got = resource_client._client.send_request(
        HttpRequest("GET", f"{arm}/subscriptions/{env.subscription_id}?api-version=2022-12-01")
    ).json()
    assert got["subscriptionId"] == env.subscription_id and got["tenantId"] == env.tenant_id
    locations = resource_client._client.send_request(
        HttpRequest("GET", f"{arm}/subscriptions/{env.subscription_id}/locations?api-version=2022-12-01")
    ).json()
    assert "westeurope" in {loc["name"] for loc in locations["value"]}
    resource_client.resource_groups.create_or_update("rg-list", {"location": "westeurope"})
    msi_client.user_assigned_identities.create_or_update("rg-list", "id-listed", {"location": "westeurope"})
    in_group = [r.name for r in resource_client.resources.list_by_resource_group("rg-list")]
    assert in_group == ["id-listed"]
    vms = [
        r.name
        for r in resource_client.resources.list(filter="resourceType eq 'Microsoft.Compute/virtualMachines'")
    ]
    assert sorted(vms) == ["vm-app-01", "vm-app-02", "vm-db-01"]


def test_refused_writes_are_logged_as_failed(env, resource_client):
    resource_client.resource_groups.create_or_update("rg-once", {"location": "westeurope"})
    with pytest.raises(HttpResponseError):
        resource_client.resource_groups.create_or_update("rg-once", {"location": "eastus"})
    entries = env.activity(f"/subscriptions/{env.subscription_id}/resourcegroups/rg-once")
    assert [(e["status"], e["detail"]) for e in entries] == [
        ("Succeeded", ""),
        ("Failed", "InvalidResourceGroupLocation"),
    ]


@pytest.mark.parametrize(
    "method, path, expected",
    [
        (
            "PUT",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/accessPolicies/add",
            "Microsoft.KeyVault/vaults/accessPolicies/write",
        ),
        (
            "DELETE",
            "/subscriptions/s/resourcegroups/rg",
            "Microsoft.Resources/subscriptions/resourceGroups/delete",
        ),
        (
            "POST",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/backupFabrics/Azure/"
            "protectionContainers/c/protectedItems/i/backup",
            "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/backup/action",
        ),
    ],
)
def test_activity_operation_names(method, path, expected):
    from providers.azurelocal.app import operation_name

    assert operation_name(method, path) == expected


def test_head_on_any_resource(resource_client, msi_client, env):
    resource_client.resource_groups.create_or_update("rg-head", {"location": "westeurope"})
    identity = msi_client.user_assigned_identities.create_or_update(
        "rg-head", "id-head", {"location": "westeurope"}
    )
    assert resource_client.resources.check_existence_by_id(identity.id, api_version="2023-01-31") is True
    missing = identity.id.replace("id-head", "id-nope")
    assert resource_client.resources.check_existence_by_id(missing, api_version="2023-01-31") is False
    vm = f"/subscriptions/{env.subscription_id}/resourceGroups/rg-workloads/providers/Microsoft.Compute/virtualMachines/vm-db-01"
    assert resource_client.resources.get_by_id(vm, api_version="2024-07-01").name == "vm-db-01"

"""Private facts a refresh hands the domain rules: a vault's item history, a key's enabled state.
Also the provider's own cross-field checks (validate)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from providers.azurelocal.app import Emulator
from providers.azurerm.clients import ClientFactory, CloudKind, CloudTarget
from providers.azurerm.provider import AzurermProvider
from providers.base import (
    Clock,
    CreateRequest,
    DataRequest,
    DeleteRequest,
    IncompleteError,
    PermanentError,
    ReadRequest,
    RetryableError,
    ValidateRequest,
)
from reconciler.values import UNKNOWN

VM = "/subscriptions/{sub}/resourceGroups/rg-workloads/providers/Microsoft.Compute/virtualMachines/{name}"


@pytest.fixture
def cloud(tmp_path):
    env = Emulator(tmp_path / "facts.db")
    env.calm_faults()  # propagation delays and asynchronous backup operations have their own tests
    clients = ClientFactory(CloudTarget(CloudKind.LOCAL, local_path=tmp_path / "facts.db"), emulator=env)
    provider = AzurermProvider(clients=clients, clock=Clock(sleep=lambda s: env.clock.advance(s)))
    provider.create(CreateRequest("azurerm_resource_group", {"name": "rg-facts", "location": "westeurope"}))
    yield env, provider
    env.store.close()


def _vault(provider, name):
    return provider.create(
        CreateRequest(
            "azurerm_recovery_services_vault",
            {
                "name": name,
                "location": "westeurope",
                "resource_group_name": "rg-facts",
                "sku": "Standard",
                "identity": [{"type": "SystemAssigned"}],
            },
        )
    ).state


def _policy(provider, vault):
    return provider.create(
        CreateRequest(
            "azurerm_backup_policy_vm",
            {
                "name": "daily",
                "resource_group_name": "rg-facts",
                "recovery_vault_name": vault["name"],
                "backup": [{"frequency": "Daily", "time": "23:00"}],
                "retention_daily": [{"count": 7}],
            },
        )
    ).state


def test_a_fresh_vault_has_no_history(cloud):
    _, provider = cloud
    vault = _vault(provider, "rsv-fresh")
    got = provider.read(ReadRequest("azurerm_recovery_services_vault", vault)).state
    assert got["_history"] == {
        "had_items": False,
        "registration_attempts": 0,
        "protected_items": 0,
        "recovery_points": 0,
        "oldest_recovery_point": None,
        "soft_deleted_items": [],
        "active_items": [],
    }
    assert "_history" not in vault  # create records only the schema's attributes


def test_history_outlives_the_protected_item(cloud):
    env, provider = cloud
    vault = _vault(provider, "rsv-used")
    item = provider.create(
        CreateRequest(
            "azurerm_backup_protected_vm",
            {
                "resource_group_name": "rg-facts",
                "recovery_vault_name": vault["name"],
                "source_vm_id": VM.format(sub=env.subscription_id, name="vm-app-02"),
                "backup_policy_id": _policy(provider, vault)["id"],
            },
        )
    ).state
    during = provider.read(ReadRequest("azurerm_recovery_services_vault", vault)).state["_history"]
    assert during["protected_items"] == 1 and during["had_items"]
    assert during["active_items"] == [{"name": "vm-app-02", "source": item["source_vm_id"]}]
    provider.delete(DeleteRequest("azurerm_backup_protected_vm", item))
    after = provider.read(ReadRequest("azurerm_recovery_services_vault", vault)).state["_history"]
    assert after["protected_items"] == 0 and after["active_items"] == []
    assert [i["name"] for i in after["soft_deleted_items"]] == ["vm-app-02"]  # Azure keeps it 14 days
    assert after["had_items"] and after["registration_attempts"] >= 1


def test_recovery_points_are_counted(cloud):
    env, provider = cloud
    vault = _vault(provider, "rsv-points")
    item = provider.create(
        CreateRequest(
            "azurerm_backup_protected_vm",
            {
                "resource_group_name": "rg-facts",
                "recovery_vault_name": vault["name"],
                "source_vm_id": VM.format(sub=env.subscription_id, name="vm-app-02"),
                "backup_policy_id": _policy(provider, vault)["id"],
            },
        )
    ).state
    parts = item["id"].split("/")
    container, name = parts[parts.index("protectionContainers") + 1], parts[parts.index("protectedItems") + 1]
    backup = provider.clients.backup()
    for _ in range(2):
        backup.backups.trigger(
            vault["name"],
            "rg-facts",
            "Azure",
            container,
            name,
            {"properties": {"objectType": "IaasVMBackupRequest"}},
        )
    hist = provider.read(ReadRequest("azurerm_recovery_services_vault", vault)).state["_history"]
    assert hist["recovery_points"] == 2 and hist["protected_items"] == 1


def test_a_failed_protection_attempt_counts(cloud):
    env, provider = cloud
    vault = _vault(provider, "rsv-tried")
    with pytest.raises(PermanentError):
        provider.create(
            CreateRequest(
                "azurerm_backup_protected_vm",
                {
                    "resource_group_name": "rg-facts",
                    "recovery_vault_name": vault["name"],
                    "source_vm_id": VM.format(sub=env.subscription_id, name="vm-app-01"),
                    "backup_policy_id": vault["id"] + "/backupPolicies/missing",
                },
            )
        )
    hist = provider.read(ReadRequest("azurerm_recovery_services_vault", vault)).state["_history"]
    assert hist["registration_attempts"] >= 1 and hist["protected_items"] == 0


def test_a_key_disabled_out_of_band_reads_as_disabled(cloud):
    env, provider = cloud
    me = provider.read_data(DataRequest("azurerm_client_config", {})).state
    kv = provider.create(
        CreateRequest(
            "azurerm_key_vault",
            {
                "name": "kv-facts",
                "location": "westeurope",
                "resource_group_name": "rg-facts",
                "tenant_id": me["tenant_id"],
                "sku_name": "standard",
                "access_policy": [
                    {
                        "tenant_id": me["tenant_id"],
                        "object_id": me["object_id"],
                        "key_permissions": ["Get", "Create", "Update", "GetRotationPolicy"],
                    }
                ],
            },
        )
    ).state
    key = provider.create(
        CreateRequest(
            "azurerm_key_vault_key",
            {
                "name": "cmk",
                "key_vault_id": kv["id"],
                "key_type": "RSA",
                "key_size": 2048,
                "key_opts": ["wrapKey", "unwrapKey"],
            },
        )
    ).state
    assert provider.read(ReadRequest("azurerm_key_vault_key", key)).state["enabled"] is True
    provider.clients.keys(kv["vault_uri"]).update_key_properties("cmk", enabled=False)
    assert provider.read(ReadRequest("azurerm_key_vault_key", key)).state["enabled"] is False
    data = provider.read_data(
        DataRequest("azurerm_key_vault_key", {"name": "cmk", "key_vault_id": kv["id"]})
    ).state
    assert data["enabled"] is False and data["id"] == key["id"]


def test_a_vault_whose_identity_azure_refuses_after_creating_it_is_kept_and_the_reason_told(cloud):
    # the identity is PATCHed on after the create (azure-rest-api-specs issues 27851, 27869): when
    # Azure refuses that PATCH the vault exists all the same, and must reach state with the reason
    env, provider = cloud
    missing = (
        f"/subscriptions/{env.subscription_id}/resourceGroups/rg-facts/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/never-made"
    )
    with pytest.raises(IncompleteError) as caught:
        provider.create(
            CreateRequest(
                "azurerm_recovery_services_vault",
                {
                    "name": "rsv-half",
                    "location": "westeurope",
                    "resource_group_name": "rg-facts",
                    "sku": "Standard",
                    "identity": [{"type": "UserAssigned", "identity_ids": [missing]}],
                },
            )
        )
    err = caught.value
    assert err.state["id"].endswith("/vaults/rsv-half") and not err.state.get("identity")
    assert "rsv-half was created, but setting its identity failed" in err.message
    assert "never-made" in err.message and err.code == "InvalidIdentity"
    assert (
        provider.read(ReadRequest("azurerm_recovery_services_vault", err.state)).state["id"]
        == err.state["id"]
    )


def _key_vault(provider, name, key_permissions, *, rbac=False):
    me = provider.read_data(DataRequest("azurerm_client_config", {})).state
    config = {
        "name": name,
        "location": "westeurope",
        "resource_group_name": "rg-facts",
        "tenant_id": me["tenant_id"],
        "sku_name": "standard",
    }
    if rbac:
        config["enable_rbac_authorization"] = True
    else:
        config["access_policy"] = [
            {"tenant_id": me["tenant_id"], "object_id": me["object_id"], "key_permissions": key_permissions}
        ]
    return me, provider.create(CreateRequest("azurerm_key_vault", config)).state


def _create_key(provider, kv):
    return provider.create(
        CreateRequest(
            "azurerm_key_vault_key",
            {
                "name": "cmk",
                "key_vault_id": kv["id"],
                "key_type": "RSA",
                "key_size": 2048,
                "key_opts": ["wrapKey"],
            },
        )
    )


def test_a_key_create_waits_for_its_own_grant_to_reach_key_vault(cloud):
    # the deployer's access policy is in ARM but not live on the data plane yet (terraform-provider-
    # azurerm issues 4569, 19926): a refusal to wait out, not a failure; once it arrives, it works
    env, provider = cloud
    env.configure_faults(grant_propagation_seconds=30)
    _me, kv = _key_vault(provider, "kv-facts-wait", ["Get", "Create"])
    with pytest.raises(RetryableError) as caught:
        _create_key(provider, kv)
    assert "allows creating keys, but Key Vault still refuses key cmk" in caught.value.message
    assert caught.value.code == "GrantPropagating/Forbidden/ForbiddenByPolicy"  # its own retry budget
    env.clock.advance(31)
    assert _create_key(provider, kv).state["name"] == "cmk"


def test_a_key_create_the_grant_does_not_allow_fails_at_once(cloud):
    env, provider = cloud
    env.configure_faults(grant_propagation_seconds=30)
    _me, kv = _key_vault(provider, "kv-facts-nocreate", ["Get", "List"])
    with pytest.raises(PermanentError) as caught:
        _create_key(provider, kv)
    assert not isinstance(caught.value, RetryableError) and caught.value.status == 403


@pytest.mark.parametrize(
    "role,waits",
    [("Key Vault Crypto Officer", True), ("Key Vault Crypto Service Encryption User", False)],
)
def test_a_key_create_on_an_rbac_key_vault_waits_only_for_a_role_that_may_create(cloud, role, waits):
    env, provider = cloud
    me, kv = _key_vault(provider, f"kv-facts-rbac-{int(waits)}", [], rbac=True)
    env.configure_faults(grant_propagation_seconds=30)
    provider.create(
        CreateRequest(
            "azurerm_role_assignment",
            {"scope": kv["id"], "role_definition_name": role, "principal_id": me["object_id"]},
        )
    )
    expected = RetryableError if waits else PermanentError
    with pytest.raises(expected) as caught:
        _create_key(provider, kv)
    assert waits or not isinstance(caught.value, RetryableError)


CHECKS = [
    ("azurerm_key_vault_key", {"key_type": "RSA", "key_opts": ["wrapKey"]}, ["key-size-required"]),
    ("azurerm_key_vault_key", {"key_type": "RSA-HSM", "key_size": 2048}, []),
    ("azurerm_key_vault_key", {"key_type": "EC", "key_size": 2048, "curve": "P-256"}, ["key-size-ec"]),
    ("azurerm_key_vault_key", {"key_type": UNKNOWN, "key_size": None}, []),
    (
        "azurerm_recovery_services_vault",
        {"cross_region_restore_enabled": True, "storage_mode_type": "LocallyRedundant"},
        ["cross-region-restore-storage"],
    ),
    (
        "azurerm_recovery_services_vault",
        {"cross_region_restore_enabled": True, "storage_mode_type": "GeoRedundant"},
        [],
    ),
    (
        "azurerm_recovery_services_vault",
        {"identity": [{"type": "SystemAssigned, UserAssigned", "identity_ids": []}]},
        ["identity-ids-required"],
    ),
    (
        "azurerm_disk_encryption_set",
        {"identity": [{"type": "UserAssigned", "identity_ids": None}]},
        ["identity-ids-required"],
    ),
    (
        "azurerm_recovery_services_vault",
        {
            "identity": [
                {
                    "type": "SystemAssigned",
                    "identity_ids": [
                        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u"
                    ],
                }
            ]
        },
        ["identity-ids-unexpected"],
    ),
    (
        "azurerm_recovery_services_vault",
        {"identity": [{"type": "UserAssigned", "identity_ids": [UNKNOWN]}]},
        [],
    ),
    (
        "azurerm_recovery_services_vault",
        {"identity": [{"type": "UserAssigned", "identity_ids": UNKNOWN}]},
        [],
    ),
    ("azurerm_recovery_services_vault", {"identity": [{"type": "SystemAssigned", "identity_ids": []}]}, []),
    (
        "azurerm_backup_policy_vm",
        {"backup": [{"frequency": "Hourly", "time": "08:00"}], "retention_daily": [{"count": 7}]},
        ["backup-hourly-needs-v2", "backup-hourly-window"],
    ),
    (
        "azurerm_backup_policy_vm",
        {
            "policy_type": "V2",
            "backup": [{"frequency": "Hourly", "time": "08:00", "hour_interval": 4, "hour_duration": 6}],
            "retention_daily": [{"count": 7}],
        },
        ["backup-hourly-window"],
    ),
    (
        "azurerm_backup_policy_vm",
        {"backup": [{"frequency": "Weekly", "time": "08:00"}]},
        ["backup-weekdays-required"],
    ),
    (
        "azurerm_backup_policy_vm",
        {"backup": [{"frequency": "Daily", "time": "08:00"}], "retention_daily": []},
        ["backup-retention-daily"],
    ),
    (
        "azurerm_backup_policy_vm",
        {
            "backup": [{"frequency": "Daily", "time": "08:00"}],
            "retention_daily": [{"count": 7}],
            "instant_restore_retention_days": 7,
        },
        ["backup-instant-restore-v1"],
    ),
    (
        "azurerm_backup_policy_vm",
        {
            "backup": [{"frequency": "Weekly", "time": "08:00", "weekdays": ["Sunday"]}],
            "retention_weekly": [{"count": 4, "weekdays": ["Sunday", "Monday"]}],
        },
        ["backup-retention-weekdays"],
    ),
    (
        "azurerm_backup_policy_vm",
        {
            "backup": [{"frequency": "Weekly", "time": "08:00", "weekdays": ["Sunday"]}],
            "retention_weekly": [{"count": 4, "weekdays": ["sunday"]}],
        },
        [],
    ),
]


@pytest.mark.parametrize("type_name,config,codes", CHECKS)
def test_provider_checks(type_name, config, codes):
    diags = AzurermProvider(environ={}).validate(ValidateRequest(type_name, "managed", config))
    assert [d.code for d in diags] == codes
    assert all(d.detail for d in diags)  # every one says how to fix it


def test_plan_rules_are_the_domain_rules():
    from providers.base import PlannedInstance, PlanRulesRequest

    key = "https://kv1.vault.azure.net/keys/cmk"
    before = {
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v",
        "name": "v",
        "resource_group_name": "rg",
        "location": "westeurope",
        "sku": "Standard",
        "identity": [{"type": "SystemAssigned", "identity_ids": [], "principal_id": "p", "tenant_id": "t"}],
        "encryption": [
            {
                "key_id": key,
                "infrastructure_encryption_enabled": False,
                "use_system_assigned_identity": True,
                "user_assigned_identity_id": None,
            }
        ],
    }
    after = {**before, "encryption": []}
    req = PlanRulesRequest(
        (
            PlannedInstance(
                "azurerm_recovery_services_vault.v",
                "azurerm_recovery_services_vault",
                "update",
                before,
                after,
                before,
            ),
        ),
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    codes = [d.code for d in AzurermProvider(environ={}).plan_rules(req).diagnostics if d.is_error]
    assert "R1" in codes


def test_only_a_refusal_for_want_of_a_grant_is_waited_out():
    from providers.azurerm.grant_arrival import refused_for_want_of_grant as _refused_by_access

    assert _refused_by_access(PermanentError("x", code="Forbidden/ForbiddenByPolicy", status=403))
    assert _refused_by_access(PermanentError("x", code="Forbidden/ForbiddenByRbac", status=403))
    # the key vault's firewall: no wait clears it
    assert not _refused_by_access(PermanentError("x", code="Forbidden/ForbiddenByFirewall", status=403))
    assert not _refused_by_access(PermanentError("x", code="Conflict", status=409))

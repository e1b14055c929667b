"""What users see of the azurerm provider's guards, each pinned by its behaviour.

* A create never takes over an object that is already there (azurerm's "needs to be
  imported"); crash recovery still adopts what an interrupted run made (``locate``).
* Switching a CMK vault from its system-assigned identity to a user-assigned one applies.
* Protecting a VM another vault protects fails with Azure's answer, without a discovery wait.
* An unusable local Azure database is a permanent provider error saying how to fix it.
"""

from __future__ import annotations

import sqlite3

import pytest

from providers.azurelocal import seed
from providers.azurelocal.app import Emulator
from providers.azurerm.clients import ClientFactory, CloudKind, CloudTarget
from providers.azurerm.provider import AzurermProvider
from providers.base import Clock, CreateRequest, DataRequest, PermanentError, ReadRequest, UpdateRequest

LOC = "westeurope"


def _provider(env: Emulator, path, events: list[str]) -> AzurermProvider:
    clients = ClientFactory(CloudTarget(CloudKind.LOCAL, local_path=path), emulator=env)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        env.clock.advance(seconds)

    provider = AzurermProvider(clients=clients, clock=Clock(sleep=sleep), report=events.append)
    provider.slept = slept  # type: ignore[attr-defined]
    return provider


@pytest.fixture
def cloud(tmp_path):
    path = tmp_path / "qa.db"
    env = Emulator(path)
    env.calm_faults()  # propagation delays have their own tests
    events: list[str] = []
    provider = _provider(env, path, events)
    yield env, provider, events
    provider.close()
    env.store.close()


def create(provider, type_name, planned):
    return provider.create(CreateRequest(type_name, planned)).state


def _key_vault(provider, name="kv-qa"):
    me = provider.read_data(DataRequest("azurerm_client_config", {})).state
    create(provider, "azurerm_resource_group", {"name": "rg-qa", "location": LOC})
    kv = create(
        provider,
        "azurerm_key_vault",
        {
            "name": name,
            "location": LOC,
            "resource_group_name": "rg-qa",
            "tenant_id": me["tenant_id"],
            "sku_name": "standard",
            "purge_protection_enabled": True,
            "soft_delete_retention_days": 7,
            "access_policy": [
                {
                    "tenant_id": me["tenant_id"],
                    "object_id": me["object_id"],
                    "key_permissions": ["Get", "List", "Create", "Update"],
                }
            ],
        },
    )
    return me, kv


def _refused(exc_info, id_fragment: str) -> None:
    err = exc_info.value
    assert err.code == "ResourceAlreadyExists"
    assert id_fragment.lower() in err.message.lower()
    assert "vaultform import" in err.message


# --------------------------------------------------------------------------- 1. no silent adoption


def test_a_second_configuration_cannot_take_over_a_group_and_vault(cloud):
    env, provider, _ = cloud
    create(provider, "azurerm_resource_group", {"name": "rg-shared", "location": LOC, "tags": {"owner": "a"}})
    create(
        provider,
        "azurerm_recovery_services_vault",
        {
            "name": "rsv-shared",
            "location": LOC,
            "resource_group_name": "rg-shared",
            "sku": "Standard",
            "tags": {"owner": "a"},
        },
    )
    with pytest.raises(PermanentError) as rg_err:
        create(
            provider, "azurerm_resource_group", {"name": "rg-shared", "location": LOC, "tags": {"owner": "b"}}
        )
    _refused(rg_err, "/resourceGroups/rg-shared")
    with pytest.raises(PermanentError) as vault_err:
        create(
            provider,
            "azurerm_recovery_services_vault",
            {
                "name": "rsv-shared",
                "location": LOC,
                "resource_group_name": "rg-shared",
                "sku": "Standard",
                "tags": {"owner": "b"},
            },
        )
    _refused(vault_err, "/vaults/rsv-shared")
    # nothing was overwritten
    vault_id = vault_err.value.message.split("'")[1]
    read = provider.read(ReadRequest("azurerm_recovery_services_vault", {"id": vault_id})).state
    assert read["tags"] == {"owner": "a"}


def test_creating_a_key_that_exists_refuses_instead_of_adding_a_version(cloud):
    _, provider, _ = cloud
    _, kv = _key_vault(provider)
    planned = {
        "name": "cmk",
        "key_vault_id": kv["id"],
        "key_type": "RSA",
        "key_size": 2048,
        "key_opts": ["wrapKey", "unwrapKey"],
    }
    first = create(provider, "azurerm_key_vault_key", planned)
    with pytest.raises(PermanentError) as err:
        create(provider, "azurerm_key_vault_key", planned)
    _refused(err, first["versionless_id"])
    now = provider.read(ReadRequest("azurerm_key_vault_key", first)).state
    assert now["version"] == first["version"]  # no new version was added


def test_access_policy_role_assignment_identity_and_policy_refuse_duplicates(cloud):
    _, provider, _ = cloud
    me, kv = _key_vault(provider)
    uai_planned = {"name": "id-qa", "location": LOC, "resource_group_name": "rg-qa"}
    uai = create(provider, "azurerm_user_assigned_identity", uai_planned)
    with pytest.raises(PermanentError) as err:
        create(provider, "azurerm_user_assigned_identity", uai_planned)
    _refused(err, "/userAssignedIdentities/id-qa")

    # the deployer already has an (inline) policy on the key vault
    with pytest.raises(PermanentError) as err:
        create(
            provider,
            "azurerm_key_vault_access_policy",
            {
                "key_vault_id": kv["id"],
                "tenant_id": me["tenant_id"],
                "object_id": me["object_id"],
                "key_permissions": ["Get"],
            },
        )
    _refused(err, f"/objectId/{me['object_id']}")

    grant = {
        "scope": kv["id"],
        "role_definition_name": "Key Vault Crypto Service Encryption User",
        "principal_id": uai["principal_id"],
        "principal_type": "ServicePrincipal",
    }
    create(provider, "azurerm_role_assignment", {**grant, "name": "0b5f6c1e-1111-4b8e-9d55-6a0a4e1f2a01"})
    with pytest.raises(PermanentError) as err:  # same grant under another (derived) name
        create(provider, "azurerm_role_assignment", grant)
    _refused(err, "0b5f6c1e-1111-4b8e-9d55-6a0a4e1f2a01")

    create(
        provider,
        "azurerm_recovery_services_vault",
        {"name": "rsv-qa", "location": LOC, "resource_group_name": "rg-qa", "sku": "Standard"},
    )
    policy = {
        "name": "daily",
        "resource_group_name": "rg-qa",
        "recovery_vault_name": "rsv-qa",
        "backup": [{"frequency": "Daily", "time": "23:00"}],
        "retention_daily": [{"count": 7}],
    }
    create(provider, "azurerm_backup_policy_vm", policy)
    with pytest.raises(PermanentError) as err:
        create(provider, "azurerm_backup_policy_vm", policy)
    _refused(err, "/backupPolicies/daily")


def test_protecting_a_vm_already_protected_in_that_vault_refuses(cloud):
    _, provider, _ = cloud
    create(provider, "azurerm_resource_group", {"name": "rg-qa", "location": LOC})
    create(
        provider,
        "azurerm_recovery_services_vault",
        {"name": "rsv-qa", "location": LOC, "resource_group_name": "rg-qa", "sku": "Standard"},
    )
    policy = create(
        provider,
        "azurerm_backup_policy_vm",
        {
            "name": "daily",
            "resource_group_name": "rg-qa",
            "recovery_vault_name": "rsv-qa",
            "backup": [{"frequency": "Daily", "time": "23:00"}],
            "retention_daily": [{"count": 7}],
        },
    )
    planned = {
        "resource_group_name": "rg-qa",
        "recovery_vault_name": "rsv-qa",
        "source_vm_id": seed.vm_id(seed.WORKLOAD_VMS[0]),
        "backup_policy_id": policy["id"],
    }
    create(provider, "azurerm_backup_protected_vm", planned)
    with pytest.raises(PermanentError) as err:
        create(provider, "azurerm_backup_protected_vm", planned)
    _refused(err, "/protectedItems/vm;iaasvmcontainerv2;")


def test_crash_recovery_still_locates_what_an_interrupted_create_made(cloud):
    _, provider, _ = cloud
    _, kv = _key_vault(provider)
    planned = {
        "name": "cmk",
        "key_vault_id": kv["id"],
        "key_type": "RSA",
        "key_size": 2048,
        "key_opts": ["wrapKey", "unwrapKey"],
    }
    made = create(provider, "azurerm_key_vault_key", planned)
    found = provider.locate("azurerm_key_vault_key", planned)  # the recovery path is not refused
    assert found is not None and found["id"] == made["id"]


# --------------------------------------------------------------------------- 2. system -> user-assigned CMK


def test_switching_cmk_from_system_to_user_assigned_identity_applies(cloud):
    _, provider, _ = cloud
    me, kv = _key_vault(provider)
    key = create(
        provider,
        "azurerm_key_vault_key",
        {
            "name": "cmk",
            "key_vault_id": kv["id"],
            "key_type": "RSA",
            "key_size": 2048,
            "key_opts": ["wrapKey", "unwrapKey"],
        },
    )
    uai = create(
        provider,
        "azurerm_user_assigned_identity",
        {"name": "id-cmk", "location": LOC, "resource_group_name": "rg-qa"},
    )
    vault = create(
        provider,
        "azurerm_recovery_services_vault",
        {
            "name": "rsv-switch",
            "location": LOC,
            "resource_group_name": "rg-qa",
            "sku": "Standard",
            "identity": [{"type": "SystemAssigned"}],
        },
    )
    for principal in (vault["identity"][0]["principal_id"], uai["principal_id"]):
        create(
            provider,
            "azurerm_key_vault_access_policy",
            {
                "key_vault_id": kv["id"],
                "tenant_id": me["tenant_id"],
                "object_id": principal,
                "key_permissions": ["Get", "List", "WrapKey", "UnwrapKey"],
            },
        )
    system = [
        {
            "key_id": key["versionless_id"],
            "infrastructure_encryption_enabled": False,
            "use_system_assigned_identity": True,
            "user_assigned_identity_id": None,
        }
    ]
    vault = provider.update(
        UpdateRequest(
            "azurerm_recovery_services_vault", vault, {**vault, "encryption": system}, ("encryption",)
        )
    ).state
    user = [{**system[0], "use_system_assigned_identity": False, "user_assigned_identity_id": uai["id"]}]
    identity = [{"type": "SystemAssigned, UserAssigned", "identity_ids": [uai["id"]]}]
    after = provider.update(
        UpdateRequest(
            "azurerm_recovery_services_vault",
            vault,
            {**vault, "identity": identity, "encryption": user},
            ("identity", "encryption"),
        )
    ).state
    assert after["encryption"][0]["user_assigned_identity_id"] == uai["id"]
    assert after["encryption"][0]["use_system_assigned_identity"] is False
    # and back to the system-assigned identity: the user-assigned one is cleared
    back = provider.update(
        UpdateRequest(
            "azurerm_recovery_services_vault", after, {**after, "encryption": system}, ("encryption",)
        )
    ).state
    assert back["encryption"][0]["use_system_assigned_identity"] is True
    assert back["encryption"][0]["user_assigned_identity_id"] is None


# --------------------------------------------------------------------------- 3. no discovery wait for a refusal


def test_protecting_a_vm_another_vault_protects_fails_without_waiting(cloud):
    _, provider, events = cloud
    create(provider, "azurerm_resource_group", {"name": "rg-qa", "location": LOC})
    vm = seed.vm_id(seed.WORKLOAD_VMS[0])
    for name in ("rsv-one", "rsv-two"):
        create(
            provider,
            "azurerm_recovery_services_vault",
            {"name": name, "location": LOC, "resource_group_name": "rg-qa", "sku": "Standard"},
        )
        create(
            provider,
            "azurerm_backup_policy_vm",
            {
                "name": "daily",
                "resource_group_name": "rg-qa",
                "recovery_vault_name": name,
                "backup": [{"frequency": "Daily", "time": "23:00"}],
                "retention_daily": [{"count": 7}],
            },
        )
    policy = "/subscriptions/{}/resourceGroups/rg-qa/providers/Microsoft.RecoveryServices/vaults/{}/backupPolicies/daily"
    sub = provider.clients.subscription_id
    create(
        provider,
        "azurerm_backup_protected_vm",
        {
            "resource_group_name": "rg-qa",
            "recovery_vault_name": "rsv-one",
            "source_vm_id": vm,
            "backup_policy_id": policy.format(sub, "rsv-one"),
        },
    )
    provider.slept.clear()
    with pytest.raises(PermanentError) as err:
        create(
            provider,
            "azurerm_backup_protected_vm",
            {
                "resource_group_name": "rg-qa",
                "recovery_vault_name": "rsv-two",
                "source_vm_id": vm,
                "backup_policy_id": policy.format(sub, "rsv-two"),
            },
        )
    assert err.value.code == "BMSUserErrorVMAlreadyProtected"
    assert sum(provider.slept) == 0, events  # Azure's answer came without a discovery wait


# --------------------------------------------------------------------------- 4. unusable local Azure


@pytest.mark.parametrize("kind", ["garbage file", "directory", "damaged database", "another database"])
def test_an_unusable_local_azure_database_is_a_permanent_error_with_the_fix(tmp_path, kind):
    """Only a local Azure's own (damaged) database is offered to `cloud reset`, which deletes it;
    a directory or another file named by mistake (a state file) is left alone and named."""
    path = tmp_path / "local-azure.db"
    if kind == "directory":
        path.mkdir()
    elif kind == "damaged database":
        path.write_bytes(b"SQLite format 3\x00" + b"torn page " * 400)
    elif kind == "another database":
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE invoices (n INTEGER)")
        con.commit()
        con.close()
    else:
        path.write_bytes(b"this is not a database, just some bytes " * 40)
    before = sorted(p.name for p in tmp_path.iterdir())
    provider = AzurermProvider(environ={"VAULTFORM_LOCAL_AZURE": str(path)})
    with pytest.raises(PermanentError) as err:
        provider.read_data(DataRequest("azurerm_client_config", {}))
    assert err.value.code == "LocalAzureUnavailable"
    assert str(path) in err.value.message and "VAULTFORM_LOCAL_AZURE" in err.value.message
    assert ("vaultform cloud reset" in err.value.message) == (kind == "damaged database")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    if kind == "another database":
        tables = [r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")]
        assert tables == ["invoices"]  # nothing of the local Azure's written into it
    diags = provider.configure({"features": [{}]})  # the provider block gets a diagnostic, not a crash
    assert diags and str(path) in diags[0].detail

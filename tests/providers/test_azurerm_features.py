"""The provider block's features {} switches that change what a destroy does."""

from __future__ import annotations

import pytest

from providers.azurelocal.app import Emulator
from providers.azurerm.provider import AzurermProvider
from providers.base import Clock, CreateRequest, DeleteRequest, PermanentError, ReadRequest

VM = "/subscriptions/{sub}/resourceGroups/rg-workloads/providers/Microsoft.Compute/virtualMachines/vm-db-01"


@pytest.fixture
def make(tmp_path):
    env = Emulator(tmp_path / "features.db")
    env.calm_faults()  # propagation delays and asynchronous backup operations have their own tests

    def build(features: dict) -> AzurermProvider:
        provider = AzurermProvider(
            environ={"VAULTFORM_LOCAL_AZURE": str(tmp_path / "features.db")},
            emulator=env,
            clock=Clock(sleep=lambda s: env.clock.advance(s)),
        )
        assert provider.configure({"features": [features]}) == []
        assert provider.clients.emulator is env
        return provider

    yield env, build
    env.store.close()


def test_a_group_with_other_resources_is_not_deleted_by_default(make):
    env, build = make
    provider = build({})
    rg = provider.create(
        CreateRequest("azurerm_resource_group", {"name": "rg-full", "location": "westeurope"})
    ).state
    provider.create(
        CreateRequest(
            "azurerm_user_assigned_identity",
            {"name": "someone-elses", "location": "westeurope", "resource_group_name": "rg-full"},
        )
    )
    with pytest.raises(PermanentError) as err:
        provider.delete(DeleteRequest("azurerm_resource_group", rg))
    assert err.value.code == "ResourceGroupNotEmpty"
    assert (
        "someone-elses" in err.value.message and "prevent_deletion_if_contains_resources" in err.value.message
    )
    assert provider.read(ReadRequest("azurerm_resource_group", rg)).state is not None

    relaxed = build({"resource_group": [{"prevent_deletion_if_contains_resources": False}]})
    relaxed.delete(DeleteRequest("azurerm_resource_group", rg))
    assert relaxed.read(ReadRequest("azurerm_resource_group", rg)).state is None


def test_stop_protection_and_retain_data_on_destroy(make):
    env, build = make
    provider = build({"recovery_service": [{"vm_backup_stop_protection_and_retain_data_on_destroy": True}]})
    provider.create(CreateRequest("azurerm_resource_group", {"name": "rg-keep", "location": "westeurope"}))
    vault = provider.create(
        CreateRequest(
            "azurerm_recovery_services_vault",
            {
                "name": "rsv-keep",
                "location": "westeurope",
                "resource_group_name": "rg-keep",
                "sku": "Standard",
            },
        )
    ).state
    policy = provider.create(
        CreateRequest(
            "azurerm_backup_policy_vm",
            {
                "name": "daily",
                "resource_group_name": "rg-keep",
                "recovery_vault_name": "rsv-keep",
                "backup": [{"frequency": "Daily", "time": "23:00"}],
                "retention_daily": [{"count": 7}],
            },
        )
    ).state
    item = provider.create(
        CreateRequest(
            "azurerm_backup_protected_vm",
            {
                "resource_group_name": "rg-keep",
                "recovery_vault_name": vault["name"],
                "source_vm_id": VM.format(sub=env.subscription_id),
                "backup_policy_id": policy["id"],
            },
        )
    ).state
    assert item["protection_state"] != "ProtectionStopped"
    provider.delete(DeleteRequest("azurerm_backup_protected_vm", item))
    kept = provider.read(ReadRequest("azurerm_backup_protected_vm", item)).state
    assert kept is not None and kept["protection_state"] == "ProtectionStopped"


KEY_ADMIN = ["Get", "Create", "Delete", "Recover", "Update", "GetRotationPolicy"]


def _vault_and_key(provider, me, permissions=KEY_ADMIN):
    kv = provider.create(
        CreateRequest(
            "azurerm_key_vault",
            {
                "name": "kv-again",
                "location": "westeurope",
                "resource_group_name": "rg-again",
                "tenant_id": me["tenant_id"],
                "sku_name": "standard",
                "soft_delete_retention_days": 7,
                "access_policy": [
                    {
                        "tenant_id": me["tenant_id"],
                        "object_id": me["object_id"],
                        "key_permissions": permissions,
                    }
                ],
            },
        )
    )
    return kv.state


def test_soft_deleted_keys_and_vaults_come_back_on_create(make):
    from providers.base import DataRequest

    env, build = make
    # what is destroyed is left soft-deleted (azurerm's default purges it when it can)
    provider = build(
        {"key_vault": [{"purge_soft_delete_on_destroy": False, "purge_soft_deleted_keys_on_destroy": False}]}
    )
    me = provider.read_data(DataRequest("azurerm_client_config", {})).state
    provider.create(CreateRequest("azurerm_resource_group", {"name": "rg-again", "location": "westeurope"}))
    kv = _vault_and_key(provider, me)
    planned = {
        "name": "cmk",
        "key_vault_id": kv["id"],
        "key_type": "RSA",
        "key_size": 2048,
        "key_opts": ["wrapKey", "unwrapKey"],
    }
    first = provider.create(CreateRequest("azurerm_key_vault_key", planned)).state
    provider.delete(DeleteRequest("azurerm_key_vault_key", first))
    again = provider.create(CreateRequest("azurerm_key_vault_key", {**planned, "tags": {"round": "2"}})).state
    assert again["version"] == first["version"] and again["tags"] == {"round": "2"}
    assert any("recovering the soft-deleted key cmk" in e for e in provider.events)

    provider.delete(DeleteRequest("azurerm_key_vault", kv))
    assert provider.read(ReadRequest("azurerm_key_vault", kv)).state is None
    back = _vault_and_key(provider, me)
    assert back["id"] == kv["id"] and back["access_policy"][0]["object_id"] == me["object_id"]
    assert provider.read(ReadRequest("azurerm_key_vault_key", again)).state["version"] == first["version"]


def test_a_key_that_came_back_with_its_key_vault_is_taken_not_created_again(make):
    """A key vault deleted out of band (its keys with it) is recovered by the apply; the plan,
    which found the key gone, creates it. The key came back with its key vault: the create takes
    it, with the configuration's tags, instead of failing as "already exists" (or adding a version)."""
    from providers.base import DataRequest

    env, build = make
    provider = build({"key_vault": [{"purge_soft_delete_on_destroy": False}]})
    me = provider.read_data(DataRequest("azurerm_client_config", {})).state
    provider.create(CreateRequest("azurerm_resource_group", {"name": "rg-again", "location": "westeurope"}))
    kv = _vault_and_key(provider, me)
    planned = {
        "name": "cmk",
        "key_vault_id": kv["id"],
        "key_type": "RSA",
        "key_size": 2048,
        "key_opts": ["wrapKey"],
    }
    first = provider.create(CreateRequest("azurerm_key_vault_key", planned)).state
    provider.delete(DeleteRequest("azurerm_key_vault", kv))  # the portal's delete: soft-deleted, keys and all
    assert provider.read(ReadRequest("azurerm_key_vault_key", first)).state is None

    again = build({"key_vault": [{"purge_soft_delete_on_destroy": False}]})  # the next run
    assert _vault_and_key(again, me)["id"] == kv["id"]
    taken = again.create(CreateRequest("azurerm_key_vault_key", {**planned, "tags": {"back": "yes"}})).state
    assert taken["id"] == first["id"] and taken["tags"] == {"back": "yes"}
    assert any("came back with its recovered key vault" in e for e in again.events)
    with pytest.raises(PermanentError) as refused:  # another run, nothing recovered: a taken name
        build({}).create(CreateRequest("azurerm_key_vault_key", planned))
    assert refused.value.code == "ResourceAlreadyExists"


def test_a_recovered_key_is_kept_as_it_was_when_it_may_not_be_updated(make):
    """Recovery needs Recover, not Update: without Update the key comes back as it was (as azurerm
    leaves it), in the state, rather than left in Azure out of it."""
    from providers.base import DataRequest

    env, build = make
    provider = build({"key_vault": [{"purge_soft_deleted_keys_on_destroy": False}]})
    me = provider.read_data(DataRequest("azurerm_client_config", {})).state
    provider.create(CreateRequest("azurerm_resource_group", {"name": "rg-again", "location": "westeurope"}))
    kv = _vault_and_key(provider, me, ["Get", "Create", "Delete", "Recover", "GetRotationPolicy"])
    planned = {"name": "cmk", "key_vault_id": kv["id"], "key_type": "RSA", "key_size": 2048}
    first = provider.create(
        CreateRequest("azurerm_key_vault_key", {**planned, "key_opts": ["wrapKey"]})
    ).state
    provider.delete(DeleteRequest("azurerm_key_vault_key", first))
    again = provider.create(
        CreateRequest("azurerm_key_vault_key", {**planned, "key_opts": ["wrapKey", "unwrapKey"]})
    ).state
    assert again["version"] == first["version"] and again["key_opts"] == ["wrapKey"]
    assert any("recovered the soft-deleted key cmk as it was" in e for e in provider.events)


def test_recovery_without_the_recover_permission_says_what_is_missing(make):
    from providers.base import DataRequest

    env, build = make
    provider = build({"key_vault": [{"purge_soft_deleted_keys_on_destroy": False}]})
    me = provider.read_data(DataRequest("azurerm_client_config", {})).state
    provider.create(CreateRequest("azurerm_resource_group", {"name": "rg-again", "location": "westeurope"}))
    kv = _vault_and_key(provider, me, ["Get", "Create", "Delete", "Update", "GetRotationPolicy"])
    planned = {"name": "cmk", "key_vault_id": kv["id"], "key_type": "RSA", "key_size": 2048}
    first = provider.create(CreateRequest("azurerm_key_vault_key", planned)).state
    provider.delete(DeleteRequest("azurerm_key_vault_key", first))
    with pytest.raises(PermanentError) as err:
        provider.create(CreateRequest("azurerm_key_vault_key", planned))
    assert "needs the Recover key permission" in err.value.message and err.value.status == 403


def test_without_recovery_azure_refuses_the_name(make):
    from providers.base import DataRequest

    env, build = make
    provider = build(
        {"key_vault": [{"recover_soft_deleted_key_vaults": False, "purge_soft_delete_on_destroy": False}]}
    )
    me = provider.read_data(DataRequest("azurerm_client_config", {})).state
    provider.create(CreateRequest("azurerm_resource_group", {"name": "rg-again", "location": "westeurope"}))
    kv = _vault_and_key(provider, me)
    provider.delete(DeleteRequest("azurerm_key_vault", kv))
    with pytest.raises(PermanentError) as err:
        _vault_and_key(provider, me)
    assert "recover" in err.value.message


def _key_vault(provider, env, name: str, **extra) -> dict:
    provider.create(CreateRequest("azurerm_resource_group", {"name": "rg-kv", "location": "westeurope"}))
    return provider.create(
        CreateRequest(
            "azurerm_key_vault",
            {
                "name": name,
                "location": "westeurope",
                "resource_group_name": "rg-kv",
                "tenant_id": env.tenant_id,
                "sku_name": "standard",
                **extra,
            },
        )
    ).state


@pytest.mark.parametrize("purge, left", [(None, False), (True, False), (False, True)])
def test_purge_soft_delete_on_destroy(make, purge, left):
    """azurerm's default purges a destroyed key vault, so its name is free again at once."""
    env, build = make
    features = {} if purge is None else {"key_vault": [{"purge_soft_delete_on_destroy": purge}]}
    provider = build(features)
    kv = _key_vault(provider, env, "kv-purged")
    provider.delete(DeleteRequest("azurerm_key_vault", kv))
    deleted = [v["name"] for v in env.store.list("deletedkeyvault")]
    assert ("kv-purged" in deleted) is left


def test_a_purge_protected_key_vault_is_left_soft_deleted(make):
    env, build = make
    provider = build({"key_vault": [{"purge_soft_delete_on_destroy": True}]})
    kv = _key_vault(provider, env, "kv-protected", purge_protection_enabled=True)
    provider.delete(DeleteRequest("azurerm_key_vault", kv))
    assert [v["name"] for v in env.store.list("deletedkeyvault")] == ["kv-protected"]
    assert any("purge protection" in e for e in provider.events)


def test_a_timeouts_block_stays_in_state_and_never_reaches_azure(make):
    from providers.base import UpdateRequest

    env, build = make
    provider = build({})
    planned = {"name": "rg-timeouts", "location": "westeurope", "timeouts": {"create": "30m", "delete": "1h"}}
    created = provider.create(CreateRequest("azurerm_resource_group", planned)).state
    assert created["timeouts"] == {"create": "30m", "delete": "1h"}
    assert (
        provider.read(ReadRequest("azurerm_resource_group", created)).state["timeouts"] == created["timeouts"]
    )
    writes = len(env.activity())
    longer = {**created, "timeouts": {"create": "2h", "delete": "1h"}}
    updated = provider.update(UpdateRequest("azurerm_resource_group", created, longer, ("timeouts",))).state
    assert updated["timeouts"] == {"create": "2h", "delete": "1h"} and len(env.activity()) == writes

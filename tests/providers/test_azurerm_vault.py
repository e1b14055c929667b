"""Recovery Services vault and protected VM behaviours beyond the contract round trip."""

from __future__ import annotations

import pytest

from providers.azurelocal.app import Emulator
from providers.azurerm.clients import ClientFactory, CloudKind, CloudTarget
from providers.azurerm.provider import AzurermProvider
from providers.base import Clock, CreateRequest, PermanentError, ReadRequest, UpdateRequest

VM = "/subscriptions/{sub}/resourceGroups/rg-workloads/providers/Microsoft.Compute/virtualMachines/{name}"


@pytest.fixture
def cloud(tmp_path):
    env = Emulator(tmp_path / "vault.db")
    env.calm_faults()  # propagation delays and asynchronous backup operations have their own tests
    events: list[str] = []
    clients = ClientFactory(CloudTarget(CloudKind.LOCAL, local_path=tmp_path / "vault.db"), emulator=env)
    provider = AzurermProvider(
        clients=clients, clock=Clock(sleep=lambda s: env.clock.advance(s)), report=events.append
    )
    provider.create(CreateRequest("azurerm_resource_group", {"name": "rg-v", "location": "westeurope"}))
    yield env, provider, events
    env.store.close()


def _identity(provider, name):
    return provider.create(
        CreateRequest(
            "azurerm_user_assigned_identity",
            {"name": name, "location": "westeurope", "resource_group_name": "rg-v"},
        )
    ).state


def test_swapping_user_assigned_identities_drops_the_old_one(cloud):
    _, provider, _ = cloud
    first, second = _identity(provider, "id-a"), _identity(provider, "id-b")
    vault = provider.create(
        CreateRequest(
            "azurerm_recovery_services_vault",
            {
                "name": "rsv-swap",
                "location": "westeurope",
                "resource_group_name": "rg-v",
                "sku": "Standard",
                "identity": [{"type": "UserAssigned", "identity_ids": [first["id"]]}],
            },
        )
    ).state
    wanted = {**vault, "identity": [{"type": "UserAssigned", "identity_ids": [second["id"]]}]}
    after = provider.update(
        UpdateRequest("azurerm_recovery_services_vault", vault, wanted, ("identity",))
    ).state
    assert after["identity"][0]["identity_ids"] == [second["id"]]
    read = provider.read(ReadRequest("azurerm_recovery_services_vault", after)).state
    assert read["identity"][0]["identity_ids"] == [second["id"]]


def test_protecting_a_vm_azure_does_not_know_fails_with_azures_answer(cloud):
    env, provider, events = cloud
    vault = provider.create(
        CreateRequest(
            "azurerm_recovery_services_vault",
            {"name": "rsv-ghost", "location": "westeurope", "resource_group_name": "rg-v", "sku": "Standard"},
        )
    ).state
    policy = provider.create(
        CreateRequest(
            "azurerm_backup_policy_vm",
            {
                "name": "daily",
                "resource_group_name": "rg-v",
                "recovery_vault_name": vault["name"],
                "backup": [{"frequency": "Daily", "time": "23:00"}],
                "retention_daily": [{"count": 7}],
            },
        )
    ).state
    with pytest.raises(PermanentError) as err:
        provider.create(
            CreateRequest(
                "azurerm_backup_protected_vm",
                {
                    "resource_group_name": "rg-v",
                    "recovery_vault_name": vault["name"],
                    "source_vm_id": VM.format(sub=env.subscription_id, name="vm-nowhere"),
                    "backup_policy_id": policy["id"],
                },
            )
        )
    assert err.value.code == "BMSUserErrorVMNotFound"  # Azure's own code, not a made-up one
    # a VM that doesn't exist is never discovered: Azure is asked at once, nothing waits for it
    assert not any("vm-nowhere" in e and "waiting" in e for e in events), events

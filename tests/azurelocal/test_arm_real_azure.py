"""What real Azure does that a naive emulator would not, shown to the official SDK clients with the
local Azure's defaults: late grants, one writer per key vault, the user-assigned identity quirks of
Recovery Services vault creation, and immutability that is Locked only after creation.

The ``env`` fixture calms these behaviours for other tests; each test here restores the defaults.
"""

from __future__ import annotations

import threading

import pytest
from azure.core.exceptions import HttpResponseError

from providers.azurelocal import faults


@pytest.fixture
def c(cmk, env):
    env.reset_faults()  # the defaults: what real Azure does
    return cmk


def code_of(call) -> tuple[int | None, str]:
    with pytest.raises(HttpResponseError) as err:
        call()
    return err.value.status_code, err.value.error.code


def test_a_new_grant_reaches_azure_backup_late_and_the_key_assignment_fails_until_then(c, env):
    c.key_vault()
    key = c.rsa_key()
    vault = c.rs_vault()
    c.grant_policy(vault.identity.principal_id)
    # Accepted, then failed in the long-running operation (azurerm issue 27817 polls it from the
    # operation status), with Key Vault's inner reason in the message.
    poller = c.rs.vaults.begin_update(c.RG, c.VAULT, {"properties": {"encryption": c.encryption(key.id)}})
    with pytest.raises(HttpResponseError) as err:
        poller.result()
    assert err.value.error.code == "UserErrorCMKKeyVaultAuthFailure"
    assert "ForbiddenByPolicy" in err.value.error.message
    assert c.rs.vaults.get(c.RG, c.VAULT).properties.encryption is None
    # bounded: by the largest delay the defaults allow, it works
    env.clock.advance(faults.FaultSettings().grant_propagation_jitter_seconds + 0.1)
    assert c.assign_key(key.id).properties.encryption.key_vault_properties.key_uri == key.id


def test_a_new_identity_is_unknown_to_role_assignments_for_a_while(c, env):
    kv = c.key_vault(enableRbacAuthorization=True)
    identity = c.msi.user_assigned_identities.create_or_update(c.RG, "id-young", {"location": "westeurope"})
    role = (
        f"/subscriptions/{env.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/"
        "e147488a-f6f5-4113-8e2d-b22465e65bf6"
    )
    body = {"properties": {"roleDefinitionId": role, "principalId": identity.principal_id}}
    name = "0c3e9f51-7a44-4f0e-9d5f-3f1f6a1d2b01"
    assert code_of(lambda: c.auth.role_assignments.create(kv.id, name, body)) == (400, "PrincipalNotFound")
    env.clock.advance(faults.FaultSettings().principal_propagation_jitter_seconds + 0.1)
    assert c.auth.role_assignments.create(kv.id, name, body).principal_id == identity.principal_id


def test_overlapping_writes_to_one_key_vault_conflict(c, env):
    env.configure_faults(keyvault_write_seconds=0.3)
    c.key_vault()
    principals = [
        c.msi.user_assigned_identities.create_or_update(
            c.RG, f"id-{i}", {"location": "westeurope"}
        ).principal_id
        for i in range(3)
    ]
    start = threading.Barrier(len(principals))
    outcomes: list[str] = []

    def grant(principal: str) -> None:
        start.wait()
        try:
            c.grant_policy(principal)
            outcomes.append("ok")
        except HttpResponseError as exc:
            outcomes.append(f"{exc.status_code} {exc.error.code}")

    threads = [threading.Thread(target=grant, args=(p,)) for p in principals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["409 ConflictError", "409 ConflictError", "ok"]
    # one after the other, every write succeeds
    for principal in principals:
        c.grant_policy(principal)
    policies = c.keyvault.vaults.get(c.RG, c.KV).properties.access_policies
    assert {p.object_id for p in policies} >= set(principals)


def test_a_vault_created_with_a_user_assigned_identity_answers_404_from_its_operation(c):
    identity = c.msi.user_assigned_identities.create_or_update(c.RG, "id-rsv", {"location": "westeurope"})
    body = {
        "location": "westeurope",
        "sku": {"name": "Standard"},
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity.id: {}}},
        "properties": {"publicNetworkAccess": "Enabled"},
    }
    poller = c.rs.vaults.begin_create_or_update(c.RG, "rsv-uai", body)
    with pytest.raises(HttpResponseError) as err:
        poller.result()
    assert err.value.status_code == 404
    made = c.rs.vaults.get(c.RG, "rsv-uai")  # ... though the vault was made
    assert made.identity.type == "UserAssigned"


def test_system_and_user_assigned_at_creation_comes_back_as_none_until_patched(c):
    identity = c.msi.user_assigned_identities.create_or_update(c.RG, "id-both", {"location": "westeurope"})
    both = {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {identity.id: {}}}
    body = {
        "location": "westeurope",
        "sku": {"name": "Standard"},
        "identity": both,
        "properties": {"publicNetworkAccess": "Enabled"},
    }
    created = c.rs.vaults.begin_create_or_update(c.RG, "rsv-both", body).result()
    assert created.identity.type == "None"
    patched = c.rs.vaults.begin_update(c.RG, "rsv-both", {"identity": both}).result()
    assert patched.identity.type == "SystemAssigned, UserAssigned"
    assert patched.identity.principal_id
    assert list(patched.identity.user_assigned_identities) == [identity.id]


def _immutability(state: str) -> dict:
    return {"securitySettings": {"immutabilitySettings": {"state": state}}}


def test_immutability_is_locked_only_after_creation_and_then_for_good(c):
    assert code_of(lambda: c.rs_vault(name="rsv-locked", **_immutability("Locked"))) == (
        400,
        "UserErrorImmutabilityStateTransitionNotAllowed",
    )
    c.rs_vault(name="rsv-locked", **_immutability("Unlocked"))
    locked = c.rs.vaults.begin_update(c.RG, "rsv-locked", {"properties": _immutability("Locked")}).result()
    assert locked.properties.security_settings.immutability_settings.state == "Locked"
    for later in ("Unlocked", "Disabled"):
        assert code_of(
            lambda later=later: c.rs.vaults.begin_update(
                c.RG, "rsv-locked", {"properties": _immutability(later)}
            ).result()
        ) == (400, "UserErrorImmutabilityLocked")


def test_a_fresh_subscription_must_register_its_resource_providers(tmp_path):
    from azure.mgmt.keyvault import KeyVaultManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    from providers.azurelocal.app import Emulator
    from providers.azurelocal.credential import LocalCredential
    from providers.azurelocal.transport import local_transport

    env = Emulator(tmp_path / "fresh.db")  # a new subscription, nothing calmed or registered
    clients = {
        cls: cls(LocalCredential(), env.subscription_id, transport=local_transport(env))
        for cls in (ResourceManagementClient, KeyVaultManagementClient)
    }
    resources, keyvault = clients[ResourceManagementClient], clients[KeyVaultManagementClient]
    # the SDK would register the namespace itself on the 409 (and retry): see the answer as sent
    from providers.azurerm.clients import _without_silent_registration

    _without_silent_registration(keyvault)
    resources.resource_groups.create_or_update("rg-fresh", {"location": "westeurope"})
    body = {
        "location": "westeurope",
        "properties": {"tenantId": env.tenant_id, "sku": {"family": "A", "name": "standard"}},
    }
    assert code_of(lambda: keyvault.vaults.begin_create_or_update("rg-fresh", "kv-fresh", body).result()) == (
        409,
        "MissingSubscriptionRegistration",
    )
    assert resources.providers.get("Microsoft.KeyVault").registration_state == "NotRegistered"
    assert resources.providers.register("Microsoft.KeyVault").registration_state == "Registered"
    assert keyvault.vaults.begin_create_or_update("rg-fresh", "kv-fresh", body).result().name == "kv-fresh"
    env.store.close()

"""vaultform converges on the first apply against what real Azure does, which the local Azure
reproduces by default: grants that reach Azure Backup late (the key assignment is retried), one
writer per key vault (parallel access policies don't conflict), user-assigned identities on vault
creation (created without, then patched on), and immutability Locked (created Unlocked, then
locked; Locked stays final)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import Workspace

FIXTURE = Path(__file__).parent / "fixtures" / "real_azure"


@pytest.fixture(scope="module")
def applied(tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("real_azure"), FIXTURE)
    run = ws.ok("apply", "-auto-approve")
    assert "Apply complete!" in run.out
    return ws, run


def _instance(ws: Workspace, address: str) -> dict:
    type_, name = address.split(".")
    for res in ws.state()["resources"]:
        if res["type"] == type_ and res["name"] == name:
            return res["instances"][0]["attributes"]
    raise AssertionError(f"{address} is not in state")


def test_late_grants_are_waited_out_by_retrying_the_key_assignment(applied):
    ws, run = applied
    retries = [line for line in run.out.splitlines() if "retrying in" in line]
    assert any(
        "azurerm_recovery_services_vault.both" in line and "UserErrorCMKKeyVaultAuthFailure" in line
        for line in retries
    ), run.out
    assert any("waiting for the key vault grant" in line for line in retries), run.out
    for vault in ("both", "uai"):
        key_id = _instance(ws, f"azurerm_recovery_services_vault.{vault}")["encryption"][0]["key_id"]
        assert key_id.endswith("/keys/backup-cmk")
    assert "No changes." in ws.ok("plan", "-detailed-exitcode").out


def test_writes_to_one_key_vault_are_serialised(applied):
    ws, run = applied
    policies = {a for a in ws.state_addresses() if a.startswith("azurerm_key_vault_access_policy.")}
    assert len(policies) == 4
    assert "ConflictError" not in run.text
    writes = [
        r
        for r in ws.activity()
        if "/vaults/kv-vfreal" in r["resource_id"] and r["operation"].startswith("Microsoft.KeyVault/")
    ]
    assert writes and all(r["status"] == "Succeeded" for r in writes), writes


def test_vaults_with_user_assigned_identities_converge(applied):
    ws, _ = applied
    both = _instance(ws, "azurerm_recovery_services_vault.both")["identity"][0]
    assert both["type"] == "SystemAssigned, UserAssigned"
    assert both["principal_id"] and len(both["identity_ids"]) == 1
    uai = _instance(ws, "azurerm_recovery_services_vault.uai")["identity"][0]
    assert uai["type"] == "UserAssigned" and len(uai["identity_ids"]) == 1
    assert ws.names("rsvault") >= {"rsv-vfreal-both", "rsv-vfreal-uai"}


def test_immutability_is_locked_after_creation_and_stays_locked(applied):
    ws, _ = applied
    assert _instance(ws, "azurerm_recovery_services_vault.both")["immutability"] == "Locked"
    main = ws.dir / "main.tf"
    main.write_text(
        main.read_text().replace('immutability        = "Locked"', 'immutability        = "Unlocked"')
    )
    try:
        refused = ws.ok("plan", code=1)
        assert "Locked" in refused.text
    finally:
        main.write_text(
            main.read_text().replace('immutability        = "Unlocked"', 'immutability        = "Locked"')
        )


FRESH = """
provider "azurerm" {
  features {}
  %s
}

resource "azurerm_resource_group" "rg" {
  name     = "rg-vffresh"
  location = "westeurope"
}

resource "azurerm_user_assigned_identity" "id" {
  name                = "id-vffresh"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
}
"""


@pytest.mark.parametrize(
    "setting, registers",
    [
        ("", True),
        ('resource_provider_registrations = "core"', True),
        ("skip_provider_registration = true", False),
    ],
)
def test_a_fresh_subscription_is_registered_as_the_provider_block_says(tmp_path, setting, registers):
    ws = Workspace(tmp_path)
    (ws.dir / "main.tf").write_text(FRESH % setting)
    if registers:
        assert "Apply complete!" in ws.ok("apply", "-auto-approve").out
        return
    failed = ws.ok("apply", "-auto-approve", code=1)
    assert "MissingSubscriptionRegistration" in failed.text
    assert "resource_provider_registrations" in failed.text  # says how to get going
    assert "azurerm_resource_group.rg" in ws.state_addresses()


SOFT = Path(__file__).parent / "fixtures" / "soft_deleted"


def test_a_soft_deleted_key_vault_is_recovered_and_the_plan_says_so(tmp_path):
    ws = Workspace(tmp_path, SOFT)
    ws.ok("apply", "-auto-approve")
    ws.ok("destroy", "-auto-approve")
    assert "kv-vfsoft" not in ws.names("keyvault")
    plan = ws.ok("plan")
    assert "azurerm_key_vault.kv will be recovered, not created" in plan.text, plan.text
    assert "Apply complete!" in ws.ok("apply", "-auto-approve").out
    assert "kv-vfsoft" in ws.names("keyvault")
    assert "No changes." in ws.ok("plan", "-detailed-exitcode").out


def test_a_soft_deleted_name_is_refused_at_plan_when_recovery_is_off(tmp_path):
    ws = Workspace(tmp_path, SOFT)
    ws.ok("apply", "-auto-approve")
    ws.ok("destroy", "-auto-approve")
    main = ws.dir / "main.tf"
    main.write_text(
        main.read_text().replace(
            "features {}",
            "features {\n    key_vault {\n      recover_soft_deleted_key_vaults = false\n    }\n  }",
        )
    )
    before = ws.snapshot()
    refused = ws.ok("apply", "-auto-approve", code=1)
    assert "held by a soft-deleted key vault" in refused.text, refused.text
    assert "recover_soft_deleted_key_vaults" in refused.text
    assert ws.snapshot().activity == before.activity  # nothing was applied


ALL_ARGUMENTS = Path(__file__).parent / "fixtures" / "all_arguments"


def test_every_argument_users_write_is_applied_and_compared(tmp_path):
    ws = Workspace(tmp_path, ALL_ARGUMENTS)
    applied = ws.ok("apply", "-auto-approve")
    assert "unreconciled" not in applied.text and "not reconciled" not in applied.text, applied.text
    assert "No changes." in ws.ok("plan", "-detailed-exitcode").out
    inventory = ws.inventory()
    kv = next(v for v in inventory["keyvault"] if v["name"] == "kv-vfargs")["properties"]
    assert (
        kv["enabledForDiskEncryption"],
        kv["enabledForDeployment"],
        kv["enabledForTemplateDeployment"],
    ) == (
        True,
        True,
        True,
    )
    policy = next(p for p in kv["accessPolicies"] if p["permissions"].get("secrets"))
    assert policy["permissions"]["storage"] == ["Get"] and policy["permissions"]["certificates"] == ["Get"]
    identity = next(i for i in inventory["identity"] if i["name"] == "id-vfargs")
    assert identity["properties"]["isolationScope"] == "Regional"
    state = {
        r["name"]: r["instances"][0]["attributes"] for r in ws.state()["resources"] if r["mode"] == "managed"
    }
    assert state["vault"]["classic_vmware_replication_enabled"] is True
    assert state["reader"]["description"] == "read vault metadata"


def test_a_role_assignment_to_a_new_identity_waits_out_principal_not_found(tmp_path):
    """The user-assigned-identity example grants a role to an identity created in the same apply: the
    directory doesn't know it yet (400 PrincipalNotFound), and the provider retries until it does."""
    ws = Workspace(tmp_path, Path(__file__).parents[2] / "examples" / "user-assigned-identity")
    assert "Apply complete!" in ws.ok("apply", "-auto-approve").out
    writes = [
        (r["status"], r["detail"])
        for r in ws.activity()
        if r["operation"] == "Microsoft.Authorization/roleAssignments/write"
    ]
    assert ("Failed", "PrincipalNotFound") in writes, writes
    assert writes[-1][0] == "Succeeded"
    assert "No changes." in ws.ok("plan", "-detailed-exitcode").out

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

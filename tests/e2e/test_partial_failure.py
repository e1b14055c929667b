"""A failure in one branch of the graph leaves the independent branch applied and recorded, and the
next apply finishes the rest.

The failure comes from the local Azure at apply time only: another configuration (the "squatter",
with its own state) holds branch b's resource group name in another region; the create is refused as
ResourceAlreadyExists (it must be imported, never taken over) - nothing a plan can see.
"""

from __future__ import annotations

from tests.e2e.harness import REPO, Workspace

FIXTURES = REPO / "tests" / "e2e" / "fixtures"
BRANCH = (
    "azurerm_resource_group.{b}",
    "azurerm_key_vault.{b}",
    "azurerm_key_vault_access_policy.deployer_{b}",
    "azurerm_key_vault_key.{b}",
    "azurerm_recovery_services_vault.{b}",
    "azurerm_key_vault_access_policy.vault_{b}",
)


def _branch(b: str) -> set[str]:
    return {a.format(b=b) for a in BRANCH}


def test_failed_branch_leaves_the_other_applied_and_the_next_apply_finishes(tmp_path):
    squatter = Workspace(tmp_path, FIXTURES / "squatter", "squatter")
    ws = Workspace(tmp_path, FIXTURES / "two_branches", "main")  # the same local Azure
    squatter.ok("apply", "-auto-approve")

    failed = ws.ok("apply", "-auto-approve", code=1)
    assert "azurerm_resource_group.b: Creation failed" in failed.out
    assert "[ResourceAlreadyExists]" in failed.text and "vaultform import" in failed.text
    assert ws.state_addresses() == _branch("a"), "branch a must be recorded, and nothing of branch b"
    assert failed.position("azurerm_recovery_services_vault.a", "Key assignment") >= 0
    assert "rsv-vfpf-a" in ws.names("rsvault") and "rsv-vfpf-b" not in ws.names("rsvault")
    assert "kv-vfpf-b" not in ws.names("keyvault")

    remaining = ws.ok("plan", "-detailed-exitcode", code=2)
    assert "Plan: 6 to add, 0 to change, 0 to destroy." in remaining.out

    squatter.ok("destroy", "-auto-approve")
    finished = ws.ok("apply", "-auto-approve")
    assert "Resources: 6 added, 0 changed, 0 destroyed." in finished.out
    written = {a for a, what in finished.completed() if what != "Read"}  # data sources are read again
    assert written == _branch("b")
    assert ws.state_addresses() == _branch("a") | _branch("b")
    assert {"rsv-vfpf-a", "rsv-vfpf-b"} <= ws.names("rsvault")
    ws.ok("plan", "-detailed-exitcode")


def test_for_each_branches_plan_without_refusal(tmp_path):
    ws = Workspace(tmp_path, FIXTURES / "two_branches_for_each")
    planned = ws.vf("plan", "-detailed-exitcode")
    assert planned.code == 2, planned.explain()

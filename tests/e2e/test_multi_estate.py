"""The multi-estate example: one local module called with for_each runs two CMK estates.

Both estates apply on the first apply with their objects at Terraform's module instance
addresses, each vault encrypted with its own key; each estate's time_sleep waits on the local
Azure's clock; -target of one module instance plans only it; removing a key from for_each
destroys that estate's objects and nothing else.
"""

from __future__ import annotations

import pytest

from tests.e2e.harness import EXAMPLES, Workspace

ESTATE_OBJECTS = (
    "random_string.suffix",
    "azurerm_resource_group.estate",
    "azurerm_user_assigned_identity.backup",
    "azurerm_key_vault.cmk",
    "azurerm_role_assignment.deployer",
    "azurerm_key_vault_key.backup",
    "azurerm_role_assignment.backup_key_user",
    "time_sleep.grant_propagation",
    "azurerm_recovery_services_vault.vault",
)


@pytest.fixture(scope="module")
def estates(tmp_path_factory) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("multi-estate"), EXAMPLES / "multi-estate")
    ws.ok("apply", "-auto-approve")
    return ws


def test_both_estates_apply_at_module_instance_addresses(estates):
    wanted = {f'module.estate["{name}"].{obj}' for name in ("prod", "dr") for obj in ESTATE_OBJECTS}
    assert estates.state_addresses() == wanted
    modules = {r.get("module") for r in estates.state()["resources"] if r["mode"] == "managed"}
    assert modules == {'module.estate["prod"]', 'module.estate["dr"]'}
    outputs = estates.state()["outputs"]
    vaults = outputs["vaults"]["value"]
    assert set(vaults) == {"prod", "dr"} and vaults["prod"] != vaults["dr"]
    assert vaults["prod"].startswith("rsv-prod-") and vaults["dr"].startswith("rsv-dr-")
    assert estates.names("rsvault") >= set(vaults.values())
    assert outputs["prod_key"]["value"].endswith("/keys/backup-cmk")


def test_each_wait_runs_on_the_local_azure_clock(estates):
    waits = []
    for res in estates.state()["resources"]:
        if res["type"] == "time_sleep":
            waits.append(res["instances"][0]["attributes"]["id"])
    assert len(waits) == 2 and all(w.endswith("Z") for w in waits)


def test_a_second_plan_has_no_changes(estates):
    assert "No changes." in estates.ok("plan", "-detailed-exitcode").out


def test_target_one_module_instance_and_removing_a_key(estates):
    targeted = estates.ok("plan", "-destroy", '-target=module.estate["dr"]')
    assert 'module.estate["dr"].azurerm_key_vault.cmk will be destroyed' in targeted.out
    assert 'module.estate["prod"]' not in targeted.out.split("will perform the following actions")[-1]
    removed = estates.ok("plan", "-var", 'estates={prod={location="westeurope"}}')
    for obj in ESTATE_OBJECTS:
        assert f'# module.estate["dr"].{obj} will be destroyed' in removed.out, obj
    assert '(because module.estate["dr"] is not in configuration)' in removed.out
    assert "Plan: 0 to add, 0 to change, 9 to destroy." in removed.out


def test_graph_orders_each_estate_within_itself(estates):
    graph = estates.ok("graph").out
    blocks = graph.split("\n")
    # each node line is followed by its "after ..." lines; an estate never waits for the other
    current = ""
    for line in blocks:
        if line and not line.startswith(" "):
            current = line
        elif line.strip().startswith("after module.estate["):
            mine = current.split("]", 1)[0]
            assert line.strip().removeprefix("after ").startswith(mine), (current, line)
    assert 'module.estate["dr"].azurerm_recovery_services_vault.vault [no change]\n' in graph
    assert '    after module.estate["dr"].time_sleep.grant_propagation' in graph

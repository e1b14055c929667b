"""The JSON plan: Terraform's documented keys and types, unknown and sensitive shapes.

Plans come from the same fixtures as the human plan (tests/fixtures/render/<case>/plan.json);
cases with an expected.json are also compared whole.
"""

from __future__ import annotations

import json

import pytest
from test_render_text import CASES, FIXTURES, check_golden, load_plan, schema_of

from reconciler.diagnostics import error
from reconciler.plan.model import Action, Plan, ResourceChange
from reconciler.plan.render_json import plan_to_json
from reconciler.values import UNKNOWN

ACTIONS = {"no-op", "create", "read", "update", "delete"}
ACTION_REASONS = {
    "replace_because_tainted",
    "replace_because_cannot_update",
    "replace_by_request",
    "replace_by_triggers",
    "delete_because_no_resource_config",
    "delete_because_wrong_repetition",
    "delete_because_count_index",
    "delete_because_each_key",
    "delete_because_no_module",
    "delete_because_no_move_target",
    "read_because_config_unknown",
    "read_because_dependency_pending",
    "read_because_check_nested",
}


def doc_of(case: str) -> dict:
    return plan_to_json(load_plan(case), schema_of=schema_of)


def _check_values_module(module: dict) -> None:
    # as Terraform's: "resources" is left out of a module with none (omitempty)
    assert isinstance(module.get("resources", []), list) and module.get("resources") != []
    for r in module.get("resources", []):
        for key, kind in (
            ("address", str),
            ("mode", str),
            ("type", str),
            ("name", str),
            ("provider_name", str),
            ("schema_version", int),
            ("values", dict),
            ("sensitive_values", dict),
        ):
            assert isinstance(r[key], kind), (r["address"], key)
        assert r["mode"] in ("managed", "data")
    for child in module.get("child_modules", []):
        assert isinstance(child["address"], str)
        _check_values_module(child)


def _check_change(change: dict) -> None:
    for key, kind in (
        ("actions", list),
        ("after_unknown", (dict, bool)),
        ("before_sensitive", (dict, bool)),
        ("after_sensitive", (dict, bool)),
    ):
        assert isinstance(change[key], kind), key
    assert set(change["actions"]) <= ACTIONS
    assert change["before"] is None or isinstance(change["before"], dict)
    assert change["after"] is None or isinstance(change["after"], dict)
    if "replace_paths" in change:
        assert all(isinstance(p, list) and p for p in change["replace_paths"])


@pytest.mark.parametrize("case", CASES)
def test_documented_keys_and_types(case):
    doc = doc_of(case)
    json.dumps(doc)  # serialisable as it is
    assert doc["format_version"] == "1.2"
    assert doc["terraform_version"].startswith("vaultform ")
    assert all(set(v) == {"value"} for v in doc.get("variables", {}).values())
    for key in ("variables", "resource_changes", "output_changes"):  # terraform leaves them out empty
        assert key not in doc or doc[key], key
    doc = {"variables": {}, "resource_changes": [], "output_changes": {}, **doc}
    for key, kind in (
        ("planned_values", dict),
        ("resource_changes", list),
        ("output_changes", dict),
        ("prior_state", dict),
        ("configuration", dict),
        ("timestamp", str),
        ("applyable", bool),
        ("complete", bool),
        ("errored", bool),
    ):
        assert isinstance(doc[key], kind), key
    _check_values_module(doc["planned_values"]["root_module"])
    _check_values_module(doc["prior_state"]["values"]["root_module"])
    for rc in doc["resource_changes"]:
        for key, kind in (
            ("address", str),
            ("mode", str),
            ("type", str),
            ("name", str),
            ("provider_name", str),
            ("change", dict),
        ):
            assert isinstance(rc[key], kind), (rc["address"], key)
        assert isinstance(rc.get("index", 0), (int, str))
        assert isinstance(rc.get("module_address", ""), str)
        assert rc.get("action_reason") in ACTION_REASONS | {None}
        _check_change(rc["change"])
    for oc in doc["output_changes"].values():  # an output's shapes follow its value: any JSON type
        # as terraform writes it: a value known only after apply has no "after", only after_unknown
        keys = {"actions", "before", "after_unknown", "before_sensitive", "after_sensitive"}
        assert set(oc) == keys | ({"after"} if oc["after_unknown"] is not True else set())
        assert set(oc["actions"]) <= ACTIONS
    assert isinstance(doc["vaultform"]["diagnostics"], list)


def _rc(doc: dict, address: str) -> dict:
    return next(rc for rc in doc["resource_changes"] if rc["address"] == address)


def test_every_action_spelled_as_terraform_does():
    replaced = doc_of("replace_and_destroy")
    assert _rc(replaced, "azurerm_key_vault_key.cmk")["change"]["actions"] == ["delete", "create"]
    assert _rc(replaced, "azurerm_role_assignment.crypto_user")["change"]["actions"] == ["create", "delete"]
    assert _rc(replaced, "azurerm_resource_group.old")["change"]["actions"] == ["delete"]
    created = doc_of("create_cmk_vault")
    assert _rc(created, "azurerm_key_vault.kv")["change"]["actions"] == ["create"]
    read = _rc(created, "data.azurerm_client_config.current")
    assert (read["mode"], read["change"]["actions"], read["action_reason"]) == (
        "data",
        ["read"],
        "read_because_dependency_pending",
    )
    updated = doc_of("update_in_place")
    assert _rc(updated, "azurerm_key_vault.kv")["change"]["actions"] == ["update"]
    assert _rc(updated, "azurerm_resource_group.rg")["change"]["actions"] == ["no-op"]


def test_unknown_is_left_out_of_after_and_true_in_after_unknown():
    """As terraform show -json writes it (checked against the binary in tests/cli/test_json_ui.py)."""
    change = _rc(doc_of("create_cmk_vault"), "azurerm_recovery_services_vault.vault")["change"]
    assert change["before"] is None and change["before_sensitive"] is False
    assert "id" not in change["after"] and change["after_unknown"]["id"] is True
    assert "principal_id" not in change["after"]["identity"][0]
    assert change["after_unknown"]["identity"] == [{"principal_id": True, "tenant_id": True}]
    assert change["after_unknown"]["encryption"] == [{"key_id": True}]
    assert "name" not in change["after_unknown"]  # known values are left out, as Terraform does


def test_nothing_unknown_is_an_empty_after_unknown():
    # as terraform 1.11: policies can take ``keys`` of it for every change, a no-op too
    (rc,) = doc_of("no_changes")["resource_changes"]
    assert rc["change"]["actions"] == ["no-op"] and rc["change"]["after_unknown"] == {}


def test_delete_and_replace_details():
    doc = doc_of("replace_and_destroy")
    deleted = _rc(doc, "azurerm_role_assignment.reader[2]")
    assert deleted["index"] == 2 and deleted["action_reason"] == "delete_because_count_index"
    # as terraform 1.11: after_unknown is an empty object when nothing is unknown, also for a delete
    assert deleted["change"]["after"] is None and deleted["change"]["after_unknown"] == {}
    assert _rc(doc, 'azurerm_role_assignment.officer["ops"]')["index"] == "ops"
    vault = _rc(doc, "azurerm_recovery_services_vault.vault")
    assert vault["change"]["replace_paths"] == [["identity", 0, "type"], ["encryption", 0]]
    assert vault["action_reason"] == "replace_because_cannot_update"
    assert doc["prior_state"]["values"]["root_module"]["resources"][0]["values"]["id"].startswith("https://")


def test_sensitive_values_hidden_and_flagged():
    doc = doc_of("sensitive_values")
    assert "do-not-print" not in json.dumps(doc)
    created = _rc(doc, "vaultform_test_secret.created")["change"]
    assert created["after"]["value"] is None and created["after_sensitive"]["value"] is True
    assert created["after_sensitive"]["settings"] == {"token": True}
    updated = _rc(doc, "vaultform_test_secret.updated")["change"]
    assert updated["before"]["labels"] == {"team": "a", "tier": None}
    assert updated["before_sensitive"]["labels"] == {"tier": True}
    token = doc["output_changes"]["token"]
    assert (token["before"], token["after"], token["before_sensitive"], token["after_sensitive"]) == (
        None,
        None,
        True,
        True,
    )
    assert doc["planned_values"]["outputs"]["token"] == {"sensitive": True, "value": None}


def test_modules_nest_in_planned_values():
    doc = doc_of("modules_and_text")
    root = doc["planned_values"]["root_module"]
    assert [r["address"] for r in root["resources"]] == ["terraform_data.settings"]
    (backup,) = root["child_modules"]
    assert backup["address"] == "module.backup"
    assert {r["index"] for r in backup["resources"]} == {0, 2, 10}
    (keys,) = backup["child_modules"]
    assert keys["address"] == "module.backup.module.keys"
    rc = _rc(doc, 'module.backup.module.keys.terraform_data.note["rotation"]')
    assert rc["module_address"] == "module.backup.module.keys"
    assert rc["provider_name"] == "terraform.io/builtin/terraform"
    calls = doc["configuration"]["root_module"]
    assert "module_calls" not in calls  # no configuration recorded for these fixture changes


def test_refused_plan_is_not_applyable_and_carries_diagnostics():
    doc = doc_of("refused")
    assert doc["errored"] is True and doc["applyable"] is False
    assert [d["code"] for d in doc["vaultform"]["diagnostics"]] == ["R10", "R1", "R7"]
    assert doc["vaultform"]["diagnostics"][0]["range"]["filename"] == str(FIXTURES / "refused" / "main.tf")
    assert doc_of("create_cmk_vault")["applyable"] is True
    assert doc_of("no_changes")["applyable"] is False


def test_configuration_expressions_and_vaultform_section():
    change = ResourceChange(
        "azurerm_key_vault.kv",
        "managed",
        "azurerm_key_vault",
        "kv",
        None,
        "",
        "azurerm",
        Action.CREATE,
        None,
        {"name": "kv", "tenant_id": UNKNOWN, "id": UNKNOWN},
        config={"name": "kv", "tenant_id": UNKNOWN, "sku_name": "standard"},
        references={
            "tenant_id": (
                "data.azurerm_client_config.current.tenant_id",
                "data.azurerm_client_config.current",
            )
        },
        phases=("", "encryption"),
    )
    plan = Plan(
        [change],
        diagnostics=[error("R5", "Purge protection off", "Turn it on.", address="azurerm_key_vault.kv")],
        edges=[("azurerm_key_vault.kv", "azurerm_recovery_services_vault.v#encryption", "O3")],
        cloud="local Azure",
        state_lineage="b2a0",
        state_serial=7,
        variables={"n": 1.5},
    )
    doc = plan_to_json(plan, schema_of=schema_of)
    (res,) = doc["configuration"]["root_module"]["resources"]
    assert res["expressions"] == {
        "name": {"constant_value": "kv"},
        "sku_name": {"constant_value": "standard"},
        "tenant_id": {
            "references": [
                "data.azurerm_client_config.current.tenant_id",
                "data.azurerm_client_config.current",
            ]
        },
    }
    assert (
        doc["configuration"]["provider_config"]["azurerm"]["full_name"]
        == "registry.terraform.io/hashicorp/azurerm"
    )
    assert doc["variables"] == {"n": {"value": 1.5}}
    extra = doc["vaultform"]
    assert extra["state"] == {"lineage": "b2a0", "serial": 7} and extra["cloud"] == "local Azure"
    assert extra["ordering"] == [
        {
            "before": "azurerm_key_vault.kv",
            "after": "azurerm_recovery_services_vault.v#encryption",
            "why": "O3",
        }
    ]
    assert extra["phases"] == {"azurerm_key_vault.kv": ["", "encryption"]}
    assert doc["planned_values"]["root_module"]["resources"][0]["values"] == {"name": "kv"}


@pytest.mark.parametrize("case", [c for c in CASES if (FIXTURES / c / "expected.json").exists()])
def test_json_plan_matches_expected(case):
    check_golden(FIXTURES / case / "expected.json", json.dumps(doc_of(case), indent=2, sort_keys=True) + "\n")


def test_imports_carry_the_id():
    doc = doc_of("imports")
    rg = _rc(doc, "azurerm_resource_group.rg")["change"]
    assert rg["actions"] == ["no-op"] and rg["importing"] == {
        "id": "/subscriptions/0/resourceGroups/rg-backup"
    }
    assert doc["applyable"] is True

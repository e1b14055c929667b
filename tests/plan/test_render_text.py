"""The human plan, fixture-driven: tests/fixtures/render/<case>/plan.json in, expected.txt out.

A plan fixture is the Plan as JSON: changes (address, type, name, action, before,
after, ...), outputs and diagnostics; the string "(known after apply)" stands for
UNKNOWN. Schemas come from ``SCHEMAS`` below (shaped like the azurerm catalog) so the
expected texts don't move when the catalog grows. The test only compares; after a
deliberate wording change, rewrite the expected files with
``python tests/plan/update_render_goldens.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import pytest

from providers.schema import (
    ANY,
    BOOL,
    NUMBER,
    STRING,
    Attribute,
    BlockSchema,
    Mode,
    NestedBlock,
    Nesting,
    ResourceSchema,
    list_of,
    map_of,
    set_of,
)
from reconciler.diagnostics import Diagnostic, Severity, SourceRange
from reconciler.plan.model import Action, OutputChange, Plan, Reason, ResourceChange
from reconciler.plan.render_text import render_plan
from reconciler.values import UNKNOWN

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "render"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "plan.json").is_file())
UNKNOWN_TEXT = "(known after apply)"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# --------------------------------------------------------------------------- schemas


def _computed(name: str, type_=STRING) -> Attribute:
    return Attribute(name, type_, computed=True)


def _opt(name: str, type_=STRING, **kw) -> Attribute:
    return Attribute(name, type_, optional=True, **kw)


def _schema(type_name: str, attrs, blocks=(), mode=Mode.MANAGED) -> ResourceSchema:
    return ResourceSchema(type_name, mode, BlockSchema(tuple(attrs), tuple(blocks)))


_ID, _TAGS = _computed("id"), _opt("tags", map_of(STRING))
SCHEMAS = {
    (Mode.MANAGED, s.type_name): s
    for s in (
        _schema(
            "azurerm_resource_group",
            [_ID, _opt("name", force_new=True), _opt("location", force_new=True), _TAGS],
        ),
        _schema(
            "azurerm_key_vault",
            [
                _ID,
                _opt("name"),
                _opt("location"),
                _opt("resource_group_name"),
                _opt("tenant_id"),
                _opt("sku_name"),
                _opt("soft_delete_retention_days", NUMBER),
                _opt("purge_protection_enabled", BOOL),
                _computed("vault_uri"),
                _TAGS,
            ],
            [
                NestedBlock(
                    "access_policy",
                    BlockSchema(
                        (_opt("tenant_id"), _opt("object_id"), _opt("key_permissions", list_of(STRING)))
                    ),
                ),
                NestedBlock(
                    "network_acls",
                    BlockSchema((_opt("default_action"), _opt("bypass"), _opt("ip_rules", set_of(STRING)))),
                    max_items=1,
                ),
            ],
        ),
        _schema(
            "azurerm_key_vault_key",
            [
                _ID,
                _computed("versionless_id"),
                _computed("version"),
                _opt("name", force_new=True),
                _opt("key_vault_id", force_new=True),
                _opt("key_type", force_new=True),
                _opt("key_size", NUMBER, force_new=True),
                _opt("key_opts", list_of(STRING)),
                _opt("expiration_date"),
            ],
        ),
        _schema(
            "azurerm_recovery_services_vault",
            [
                _ID,
                _opt("name"),
                _opt("location"),
                _opt("resource_group_name"),
                _opt("sku"),
                _opt("storage_mode_type"),
            ],
            [
                NestedBlock(
                    "identity",
                    BlockSchema(
                        (
                            _opt("type"),
                            _computed("principal_id"),
                            _computed("tenant_id"),
                            _opt("identity_ids", set_of(STRING)),
                        )
                    ),
                    max_items=1,
                ),
                NestedBlock(
                    "encryption",
                    BlockSchema(
                        (
                            _opt("key_id"),
                            _opt("infrastructure_encryption_enabled", BOOL),
                            _opt("use_system_assigned_identity", BOOL),
                            _opt("user_assigned_identity_id"),
                        )
                    ),
                    max_items=1,
                    phase="encryption",
                ),
            ],
        ),
        _schema(
            "azurerm_role_assignment",
            [_ID, _opt("scope"), _opt("role_definition_name"), _opt("principal_id")],
        ),
        _schema(
            "azurerm_user_assigned_identity", [_ID, _opt("name"), _opt("location"), _computed("principal_id")]
        ),
        _schema(
            "terraform_data",
            [_ID, _opt("input", ANY), _opt("triggers_replace", ANY), _computed("output", ANY)],
        ),
        _schema(
            "vaultform_test_secret",
            [_ID, _opt("name"), _opt("value", sensitive=True), _opt("labels", map_of(STRING))],
            [
                NestedBlock(
                    "settings",
                    BlockSchema((_opt("mode"), _opt("token", sensitive=True))),
                    nesting=Nesting.SINGLE,
                )
            ],
        ),
    )
}
SCHEMAS[(Mode.DATA, "azurerm_client_config")] = _schema(
    "azurerm_client_config",
    [_computed("tenant_id"), _computed("object_id"), _computed("subscription_id")],
    mode=Mode.DATA,
)


def schema_of(mode: Mode, type_name: str) -> ResourceSchema | None:
    return SCHEMAS.get((mode, type_name))


# --------------------------------------------------------------------------- fixture loading


def with_unknowns(value):
    if value == UNKNOWN_TEXT:
        return UNKNOWN
    if isinstance(value, dict):
        return {k: with_unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [with_unknowns(v) for v in value]
    return value


def _change(raw: dict) -> ResourceChange:
    return ResourceChange(
        address=raw["address"],
        mode=raw.get("mode", "managed"),
        type=raw["type"],
        name=raw["name"],
        index=raw.get("index"),
        module=raw.get("module", ""),
        provider=raw.get("provider", "azurerm"),
        action=Action(raw["action"]),
        before=with_unknowns(raw.get("before")),
        after=with_unknowns(raw.get("after")),
        replace_paths=tuple(tuple(p) for p in raw.get("replace_paths", [])),
        reason=Reason(raw.get("reason", "")),
        sensitive_paths=tuple(tuple(p) for p in raw.get("sensitive_paths", [])),
        before_sensitive_paths=tuple(tuple(p) for p in raw.get("before_sensitive_paths", [])),
        phases=tuple(raw.get("phases", [""])),
        changed_attributes=tuple(raw.get("changed_attributes", [])),
        config=with_unknowns(raw.get("config")),
        references={k: tuple(v) for k, v in raw.get("references", {}).items()},
        importing=raw.get("importing"),
    )


def _diagnostic(raw: dict, case_dir: Path) -> Diagnostic:
    """A diagnostic; its range's file is relative to the fixture directory."""
    where = raw.get("range")
    at = SourceRange(str(case_dir / where["file"]), where["line"]) if where else None
    return Diagnostic(
        Severity(raw["severity"]), raw["code"], raw["summary"], raw.get("detail", ""), raw.get("address"), at
    )


def load_plan(case: str) -> Plan:
    raw = json.loads((FIXTURES / case / "plan.json").read_text())
    return Plan(
        changes=[_change(c) for c in raw.get("changes", [])],
        outputs=[
            OutputChange(
                o["name"],
                Action(o["action"]),
                with_unknowns(o.get("before")),
                with_unknowns(o.get("after")),
                o.get("sensitive", False),
            )
            for o in raw.get("outputs", [])
        ],
        diagnostics=[_diagnostic(d, FIXTURES / case) for d in raw.get("diagnostics", [])],
        cloud=raw.get("cloud", ""),
        timestamp=raw.get("timestamp", ""),
        variables=raw.get("variables", {}),
        state_lineage=raw.get("state_lineage", ""),
        state_serial=raw.get("state_serial", 0),
    )


def render(case: str, *, color: bool = False) -> str:
    """The human plan of a fixture case, source files shown relative to the case directory."""
    return render_plan(
        load_plan(case),
        color=color,
        schema_of=schema_of,
        display_path=lambda p: os.path.relpath(p, FIXTURES / case),
    )


def check_golden(path: Path, actual: str) -> None:
    assert path.is_file(), f"{path} is missing; run python tests/plan/update_render_goldens.py and review it"
    assert actual == path.read_text(), f"{path} differs; if the change is deliberate, run " + (
        "python tests/plan/update_render_goldens.py and review the diff"
    )


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("case", CASES)
def test_text_plan_matches_expected(case):
    check_golden(FIXTURES / case / "expected.txt", render(case))


@pytest.mark.parametrize("case", CASES)
def test_colour_only_decorates(case):
    assert ANSI.sub("", render(case, color=True)) == render(case)


def test_colours_follow_the_action():
    colored = render_plan(load_plan("replace_and_destroy"), color=True, schema_of=schema_of)
    assert "\x1b[31m-\x1b[0m/\x1b[32m+\x1b[0m resource" in colored  # -/+ red then green
    assert "\x1b[32m+\x1b[0m/\x1b[31m-\x1b[0m resource" in colored  # +/- green then red
    assert "\x1b[31m# forces replacement\x1b[0m" in colored
    updated = render_plan(load_plan("update_in_place"), color=True, schema_of=schema_of)
    assert "\x1b[33m~\x1b[0m resource" in updated
    assert "\x1b" not in render_plan(load_plan("update_in_place"), color=False, schema_of=schema_of)


def test_refusals_come_before_warnings_and_changes():
    text = render("refused")
    assert (
        "  on main.tf line 12, in azurerm_key_vault.kv:\n    12:   purge_protection_enabled = false\n" in text
    )
    refuse = text.index("vaultform refuses this plan: nothing will be applied.")
    assert refuse < text.index("Error: Refused: encryption can't be removed [R1]")
    assert text.index("[R10]") < text.index("Warning:") < text.index("# azurerm_key_vault.kv")
    assert "Plan:" not in text  # a refused plan has no 'Plan:' line a pipeline could mistake for approval


def test_order_of_changes_does_not_matter():
    plan = load_plan("replace_and_destroy")
    expected = render_plan(plan, color=False, schema_of=schema_of)
    random.Random(7).shuffle(plan.changes)
    assert render_plan(plan, color=False, schema_of=schema_of) == expected


def test_sensitive_values_never_printed():
    text = render_plan(load_plan("sensitive_values"), color=False, schema_of=schema_of)
    assert "do-not-print" not in text
    assert text.count("(sensitive value)") == 6


def test_registry_schema_is_the_default():
    """Without schema_of the provider registry's azurerm schema decides blocks from attributes."""
    change = ResourceChange(
        "azurerm_recovery_services_vault.v",
        "managed",
        "azurerm_recovery_services_vault",
        "v",
        None,
        "",
        "azurerm",
        Action.CREATE,
        None,
        {
            "name": "v",
            "id": UNKNOWN,
            "encryption": [
                {"key_id": "https://kv.vault.azure.net/keys/k", "infrastructure_encryption_enabled": False}
            ],
        },
    )
    text = render_plan(Plan([change]), color=False)
    assert "      + encryption {\n          + infrastructure_encryption_enabled = false\n" in text
    assert "+ id   = (known after apply)" in text


def test_refresh_only_plan_says_nothing_changes_in_the_cloud():
    plan = load_plan("no_changes")
    plan.refresh_only = True
    plan.refreshed = {"azurerm_resource_group.rg": {"id": "/subscriptions/0/resourceGroups/rg"}}
    plan.outside_changes = 1
    text = render_plan(plan, color=False, schema_of=schema_of)
    assert "records the 1 object read just now in state, as it is; nothing in the cloud" in text
    # an object the refresh found gone is forgotten, not counted among those recorded
    plan.refreshed["azurerm_resource_group.old"] = None
    text = render_plan(plan, color=False, schema_of=schema_of)
    assert (
        "records the 1 object read just now in state, as it is, and forgets the 1 that no longer "
        "exists; nothing in the cloud changes." in " ".join(text.split())
    )
    del plan.refreshed["azurerm_resource_group.old"]
    # nothing changed outside: terraform's words, and nothing to record
    plan.outside_changes = 0
    text = render_plan(plan, color=False, schema_of=schema_of)
    assert "No changes. Your infrastructure still matches the configuration." in text
    assert "This is a refresh-only plan" not in text and not plan.has_changes

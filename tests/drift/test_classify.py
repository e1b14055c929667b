"""The pure half of drift: comparing values, the azurerm provider's consequence and remedy tables, and
detection with and without a provider's rules, without a cloud."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from providers.azurerm.drift.classify import RULES, Facts, classify
from providers.azurerm.drift.remedy import remedy_for
from providers.azurerm.drift.rules import drift_rules
from providers.azurerm.drift.tables import KEYED_LISTS
from providers.drift_protocol import DriftRules, Subject
from reconciler.drift.compare import differences, kind_of, lookup, object_view
from reconciler.drift.detect import Tracked, detect, estate_of
from reconciler.drift.fixes import fix_for
from reconciler.drift.model import ChangeKind, FixKind, Severity

K = ChangeKind
POLICY = "azurerm_key_vault_access_policy"
KV = "azurerm_key_vault"
KV_URI = "https://kv1.vault.azure.net"


def azurerm_detect(tracked, refreshed, plan):
    """``detect`` with the azurerm provider's rules for these objects (local Azure remedies)."""
    tracked = [Tracked(t.address, t.type, t.attributes, t.sensitive, "azurerm") for t in tracked]
    rules = drift_rules(estate_of(tracked, refreshed, plan), local=True, audit=list)
    return detect(tracked, refreshed, plan, rules={"azurerm": rules})


def _subject(type_, path, recorded, actual, obj_actual=None, obj_recorded=None):
    return Subject(type_, path, kind_of(recorded, actual), recorded, actual, obj_recorded or {}, obj_actual)


@pytest.mark.parametrize(
    "recorded, actual, kind",
    [
        (True, False, K.DISABLED),
        (False, True, K.ENABLED),
        (None, "x", K.ADDED),
        (["a"], [], K.REMOVED),
        (["Get", "WrapKey"], ["Get"], K.NARROWED),
        (["Get"], ["get", "List"], K.BROADENED),
        (["Get", "WrapKey"], ["Get", "Purge"], K.NARROWED),
        ("Allow", "Deny", K.CHANGED),
    ],
)
def test_kind_of(recorded, actual, kind):
    assert kind_of(recorded, actual) is kind


def test_differences_match_keyed_blocks_and_sets():
    before = {
        "access_policy": [
            {"object_id": "A", "key_permissions": ["Get", "List"]},
            {"object_id": "B", "key_permissions": ["Get"]},
        ],
        "network_acls": [{"ip_rules": ["1.1.1.1/32", "2.2.2.2/32"]}],
        "_history": {"x": 1},
    }
    after = {
        "access_policy": [
            {"object_id": "B", "key_permissions": ["get"]},
            {"object_id": "A", "key_permissions": ["Get"]},
        ],
        "network_acls": [{"ip_rules": ["2.2.2.2/32", "1.1.1.1/32"]}],
        "_history": {"x": 2},
    }
    diffs = differences(before, after, type_name=KV, keyed_lists=KEYED_LISTS)
    assert [(d.path, d.pattern_path) for d in diffs] == [
        ("access_policy[a].key_permissions", "access_policy.key_permissions")
    ]
    assert lookup(after, "access_policy[a].key_permissions", KV, KEYED_LISTS) == ["Get"]
    # without the provider's keys, blocks are matched by position
    assert [d.path for d in differences(before, after, type_name=KV)] == [
        "access_policy[0].key_permissions",
        "access_policy[0].object_id",
        "access_policy[1].object_id",
    ]


def test_whole_block_removed_is_one_difference():
    diffs = differences({"identity": [{"type": "SystemAssigned", "principal_id": "p"}]}, {"identity": []})
    assert [(d.path, kind_of(d.recorded, d.actual)) for d in diffs] == [("identity[0]", K.REMOVED)]


def test_implied_fact_and_derived_attributes():
    from providers.azurerm.drift.tables import IGNORED, IMPLIED

    rules = DriftRules(ignored=IGNORED, implied=IMPLIED)
    view = object_view("azurerm_key_vault_key", {"id": "k", "n": "AQAB", "version": "v", "_x": 1}, rules)
    assert view == {"id": "k", "enabled": True}
    assert object_view("azurerm_key_vault_key", {"id": "k", "n": "AQAB"}, DriftRules()) == {
        "id": "k",
        "n": "AQAB",
    }


@pytest.mark.parametrize(
    "type_, path, recorded, actual, severity",
    [
        (
            POLICY,
            "key_permissions",
            ["Get", "List", "WrapKey", "UnwrapKey"],
            ["Get", "List", "UnwrapKey"],
            "critical",
        ),
        (POLICY, "key_permissions", ["Get", "Purge"], ["Get"], "info"),
        (POLICY, "key_permissions", ["Get"], ["Get", "Decrypt"], "warning"),
        ("azurerm_key_vault_key", "enabled", True, False, "critical"),
        ("azurerm_key_vault_key", "key_opts", ["wrapKey", "unwrapKey"], ["unwrapKey"], "critical"),
        ("azurerm_recovery_services_vault", "identity.type", "SystemAssigned", "UserAssigned", "critical"),
        ("azurerm_recovery_services_vault", "encryption.user_assigned_identity_id", "a", "b", "critical"),
        ("azurerm_recovery_services_vault", "public_network_access_enabled", False, True, "warning"),
        (KV, "purge_protection_enabled", True, False, "warning"),
        (KV, "tags", {"a": "1"}, {"a": "2"}, "info"),
        ("azurerm_resource_group", "tags", {}, {"a": "1"}, "info"),
    ],
)
def test_consequence_table(type_, path, recorded, actual, severity):
    got, why = classify(_subject(type_, path, recorded, actual), Facts())
    assert got.value == severity and why


def test_firewall_depends_on_the_identity_the_key_vault_serves():
    obj = {"vault_uri": KV_URI + "/", "network_acls": [{"default_action": "Deny", "bypass": "AzureServices"}]}
    s = _subject(KV, "network_acls.default_action", "Allow", "Deny", obj_actual=obj)
    assert classify(s, Facts())[0] is Severity.WARNING
    assert (
        classify(s, Facts(cmk_key_vault_uris={KV_URI}, user_identity_key_vault_uris={KV_URI}))[0]
        is Severity.CRITICAL
    )
    no_bypass = {**obj, "network_acls": [{"default_action": "Deny", "bypass": "None"}]}
    s = _subject(KV, "network_acls.bypass", "AzureServices", "None", obj_actual=no_bypass)
    assert classify(s, Facts(cmk_key_vault_uris={KV_URI}))[0] is Severity.CRITICAL


def test_expired_key():
    past = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    future = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    key = "azurerm_key_vault_key"
    assert (
        classify(_subject(key, "expiration_date", future, past, {"expiration_date": past}), Facts())[0]
        is Severity.CRITICAL
    )
    assert (
        classify(_subject(key, "expiration_date", None, future, {"expiration_date": future}), Facts())[0]
        is Severity.WARNING
    )


def test_a_rotation_policy_doing_its_work_is_information():
    """A new version on the policy's schedule, with the expiry expire_after gives it, is what the
    configuration asked for; the same change on a key without a policy is a warning."""
    key = "azurerm_key_vault_key"
    future = (datetime.now(UTC) + timedelta(days=180)).strftime("%Y-%m-%dT%H:%M:%SZ")
    old, new = (
        "https://kv1.vault.azure.net/keys/k/" + "a" * 32,
        "https://kv1.vault.azure.net/keys/k/" + "b" * 32,
    )
    policy = [
        {
            "expire_after": "P180D",
            "notify_before_expiry": "P30D",
            "automatic": [{"time_before_expiry": "P30D"}],
        }
    ]
    rotated = {"id": new, "expiration_date": future, "rotation_policy": policy}
    recorded = {"id": old, "rotation_policy": policy}

    def severity(path, before, after, actual, prior):
        return classify(_subject(key, path, before, after, actual, prior), Facts())[0]

    assert severity("id", old, new, rotated, recorded) is Severity.INFO
    assert severity("expiration_date", None, future, rotated, recorded) is Severity.INFO
    bare = {"id": new, "expiration_date": future, "rotation_policy": []}
    assert severity("id", old, new, bare, {"id": old}) is Severity.WARNING
    assert severity("expiration_date", None, future, bare, {"id": old}) is Severity.WARNING
    # the same version given an expiry (someone set it by hand) is still a warning
    same = {**rotated, "id": old}
    assert severity("expiration_date", None, future, same, recorded) is Severity.WARNING


def test_deleted_grant_of_a_vault_identity_is_critical():
    s = Subject(POLICY, "", K.DELETED, None, None, {"object_id": "P", "key_permissions": ["Get"]}, None)
    assert classify(s, Facts())[0] is Severity.WARNING
    assert classify(s, Facts(cmk_principals={"p"}))[0] is Severity.CRITICAL


def test_every_rule_has_a_reason():
    assert all(r.why and r.severity in Severity for r in RULES)


def test_fix_prefers_the_plan_then_out_of_band_then_accept():
    local = remedy_for(
        "azurerm_key_vault_key",
        "enabled",
        K.DISABLED,
        {"id": "https://kv1.vault.azure.net/keys/k/v1"},
        local=True,
    )
    assert local.endswith("`vaultform cloud enable-key https://kv1.vault.azure.net/keys/k/v1`")
    remedy = remedy_for("azurerm_key_vault_key", "enabled", K.DISABLED, {"id": "ID"}, local=False)
    azure = fix_for(K.DISABLED, plan_action="no-op", plan_changes_it=False, remedy=remedy)
    assert (
        azure.kind is FixKind.OUT_OF_BAND
        and "az keyvault key set-attributes --enabled true --id ID" in azure.detail
    )
    assert fix_for(K.CHANGED, plan_action="update", plan_changes_it=True, remedy=remedy).kind is FixKind.PLAN
    assert remedy_for(KV, "tags", K.CHANGED, {}, local=True) is None
    assert fix_for(K.CHANGED, plan_action="no-op", plan_changes_it=False, remedy=None).kind is FixKind.ACCEPT


def test_detect_without_a_plan_reports_recorded_differences():
    tracked = [
        Tracked("azurerm_key_vault_key.k", "azurerm_key_vault_key", {"id": "k1", "tags": {}}),
        Tracked("azurerm_resource_group.rg", "azurerm_resource_group", {"id": "rg", "tags": {}}),
    ]
    refreshed = {
        "azurerm_key_vault_key.k": {"id": "k1", "tags": {}, "enabled": False},
        "azurerm_resource_group.rg": None,
    }
    records = azurerm_detect(tracked, refreshed, None)
    got = {(r.address, r.path, r.kind, r.severity) for r in records}
    assert got == {
        ("azurerm_key_vault_key.k", "enabled", K.DISABLED, Severity.CRITICAL),
        ("azurerm_resource_group.rg", "", K.DELETED, Severity.WARNING),
    }


def test_detect_without_provider_rules_compares_attributes_generically():
    tracked = [
        Tracked("azurerm_key_vault_key.k", "azurerm_key_vault_key", {"id": "k1", "tags": {}, "n": "A"}),
        Tracked("azurerm_resource_group.rg", "azurerm_resource_group", {"id": "rg", "tags": {}}),
    ]
    refreshed = {
        "azurerm_key_vault_key.k": {"id": "k1", "tags": {"a": "1"}, "n": "B"},
        "azurerm_resource_group.rg": None,
    }
    got = {(r.address, r.path, r.kind, r.severity, r.fix.kind) for r in detect(tracked, refreshed, None)}
    assert got == {
        ("azurerm_key_vault_key.k", "n", K.CHANGED, Severity.INFO, FixKind.ACCEPT),
        ("azurerm_key_vault_key.k", "tags.a", K.ADDED, Severity.INFO, FixKind.ACCEPT),
        ("azurerm_resource_group.rg", "", K.DELETED, Severity.WARNING, FixKind.ACCEPT),
    }


def test_key_vault_policies_compared_are_the_inline_ones():
    from reconciler.plan.model import Action, Plan, ResourceChange

    cmk = {"object_id": "vault-principal", "key_permissions": ["Get", "List", "WrapKey", "UnwrapKey"]}
    other = {"object_id": "someone", "key_permissions": ["Get"]}
    recorded = {"id": "kv", "vault_uri": KV_URI + "/", "access_policy": [cmk, other]}
    actual = {"id": "kv", "vault_uri": KV_URI + "/", "access_policy": []}
    change = ResourceChange(
        address="azurerm_key_vault.kv",
        mode="managed",
        type=KV,
        name="kv",
        index=None,
        module="",
        provider="azurerm",
        action=Action.UPDATE,
        before=actual,
        after={**actual, "access_policy": [cmk]},
        changed_attributes=("access_policy",),
        config={"access_policy": [cmk]},
    )
    plan = Plan(changes=[change])
    [record] = azurerm_detect(
        [Tracked("azurerm_key_vault.kv", KV, recorded)], {"azurerm_key_vault.kv": actual}, plan
    )
    assert (record.path, record.kind, record.severity) == (
        "access_policy[vault-principal]",
        K.REMOVED,
        Severity.CRITICAL,
    )
    assert record.fix.kind is FixKind.PLAN and record.desired == cmk


def test_sensitive_values_never_shown():
    tracked = [
        Tracked(
            "terraform_data.x",
            "terraform_data",
            {"id": "1", "input": "secret-1", "output": "secret-1"},
            sensitive=(("input",), ("output",)),
        )
    ]
    records = detect(
        tracked, {"terraform_data.x": {"id": "1", "input": "secret-2", "output": "secret-2"}}, None
    )
    assert {r.path for r in records} == {"input", "output"}
    assert all((r.recorded, r.actual) == ("(sensitive)", "(sensitive)") for r in records)
    gone = detect(tracked, {"terraform_data.x": None}, None)
    assert gone[0].recorded == "(sensitive)" and "secret" not in repr(gone)

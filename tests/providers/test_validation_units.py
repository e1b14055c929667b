"""The generic checker's building blocks: conversions, unknowns, shapes, transforms."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.azurerm.catalog import SCHEMA
from providers.schema import (
    BOOL,
    NUMBER,
    STRING,
    Attribute,
    BlockSchema,
    NestedBlock,
    Nesting,
    list_of,
    map_of,
    set_of,
)
from providers.validation import (
    ANY_INDEX,
    Code,
    CoercionError,
    apply_defaults,
    check_block,
    coerce,
    coerce_block,
    normalize_block,
    sensitive_paths,
    sensitive_value_paths,
)
from reconciler.diagnostics import Severity, SourceRange
from reconciler.values import UNKNOWN

KV = SCHEMA.resources["azurerm_key_vault"].block
RSV = SCHEMA.resources["azurerm_recovery_services_vault"].block
POLICY = SCHEMA.resources["azurerm_backup_policy_vm"].block
TENANT = "11111111-2222-3333-4444-555555555555"
KV_BODY = {
    "name": "kv-backup",
    "location": "westeurope",
    "resource_group_name": "rg",
    "sku_name": "standard",
    "tenant_id": TENANT,
}


def nowhere(path):
    return None


def codes(diags):
    return sorted(d.code for d in diags)


# --------------------------------------------------------------------------- coerce


@pytest.mark.parametrize(
    "type_,given_,wanted",
    [
        (BOOL, "true", True),
        (BOOL, "1", True),
        (BOOL, "false", False),
        (BOOL, "0", False),
        (NUMBER, "5", 5),
        (NUMBER, "-2.5", -2.5),
        (NUMBER, "90.0", 90),
        (NUMBER, 7, 7),
        (STRING, True, "true"),
        (STRING, 3, "3"),
        (STRING, 2.5, "2.5"),
        (STRING, 4.0, "4"),
        (list_of(NUMBER), ["1", 2], [1, 2]),
        (set_of(STRING), ["a", "a", "b"], ["a", "b"]),
        (map_of(BOOL), {"x": "true"}, {"x": True}),
        (list_of(STRING), ["a", UNKNOWN], ["a", UNKNOWN]),
        (STRING, UNKNOWN, UNKNOWN),
        (BOOL, None, None),
    ],
)
def test_coerce_converts_like_terraform(type_, given_, wanted):
    got = coerce(type_, given_)
    assert got == wanted and type(got) is type(wanted)


@pytest.mark.parametrize(
    "type_,given_,message,path",
    [
        (BOOL, "yes", 'a bool is required, got a string ("yes")', ()),
        (BOOL, 1, "a bool is required, got a number (1)", ()),
        (NUMBER, True, "a number is required, got a bool", ()),
        (NUMBER, "ninety", 'a number is required, got a string ("ninety")', ()),
        (STRING, ["a"], "a string is required, got a list", ()),
        (list_of(STRING), "a", "a list of string is required, got a string", ()),
        (list_of(NUMBER), [1, "x"], 'a number is required, got a string ("x")', (1,)),
        (map_of(STRING), {"k": {"n": 1}}, "a string is required, got an object", ("k",)),
    ],
)
def test_coerce_refuses_with_expected_and_got(type_, given_, message, path):
    with pytest.raises(CoercionError) as caught:
        coerce(type_, given_)
    assert caught.value.message == message and caught.value.path == path


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_numeric_strings_become_the_same_number(n):
    assert coerce(NUMBER, str(n)) == n


# --------------------------------------------------------------------------- check_block

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.just(UNKNOWN),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(KV.names() + RSV.names() + ["bogus"]), _json, max_size=8))
def test_check_block_never_raises_on_any_body(body):
    for schema in (KV, RSV, POLICY):
        diags = check_block(schema, body, where=nowhere)
        assert all(d.code in {c.value for c in Code} for d in diags)


def test_unknown_body_and_unknown_parts_are_skipped():
    assert check_block(KV, UNKNOWN, where=nowhere) == []
    body = {
        **KV_BODY,
        "sku_name": UNKNOWN,
        "soft_delete_retention_days": UNKNOWN,
        "access_policy": [UNKNOWN],
        "network_acls": UNKNOWN,
        "tags": {"a": UNKNOWN},
    }
    assert check_block(KV, body, where=nowhere) == []


def test_null_means_unset():
    assert codes(check_block(KV, {**KV_BODY, "sku_name": None}, where=nowhere)) == ["missing_argument"]
    assert check_block(KV, {**KV_BODY, "tags": None, "network_acls": None}, where=nowhere) == []


def test_attributes_as_blocks_and_single_dicts_are_accepted():
    assert check_block(KV, {**KV_BODY, "access_policy": []}, where=nowhere) == []
    acl = {"default_action": "Deny", "bypass": "AzureServices"}
    assert check_block(KV, {**KV_BODY, "network_acls": acl}, where=nowhere) == []


def test_wrong_shapes_are_reported_not_raised():
    assert codes(check_block(KV, ["not", "a", "body"], where=nowhere)) == ["wrong_type"]
    assert codes(check_block(KV, {**KV_BODY, "network_acls": "Deny"}, where=nowhere)) == ["wrong_type"]
    assert codes(check_block(KV, {**KV_BODY, "access_policy": ["x"]}, where=nowhere)) == ["wrong_type"]


KEY = SCHEMA.resources["azurerm_key_vault_key"].block
KEY_BODY = {
    "name": "cmk",
    "key_vault_id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
    "key_type": "RSA",
    "key_opts": ["wrapKey"],
}


@pytest.mark.parametrize(
    ("schema", "body", "detail"),
    [
        # a list is no number, quoted or not; the example comes from the allowed key sizes
        (KEY, {**KEY_BODY, "key_size": [2048]}, "a number is required, got a list. Use a number, e.g. 2048."),
        (
            KEY,
            {**KEY_BODY, "key_size": "big"},
            'a number is required, got a string ("big"). Use a number without quotes, e.g. 2048.',
        ),
        # no allowed values: no example to give
        (KV, {**KV_BODY, "soft_delete_retention_days": [90]}, "a number is required, got a list."),
        (
            KV,
            {**KV_BODY, "soft_delete_retention_days": "ninety"},
            'a number is required, got a string ("ninety"). Use a number without quotes.',
        ),
        (KV, {**KV_BODY, "purge_protection_enabled": "yes"}, "Use true or false without quotes."),
        (
            KV,
            {**KV_BODY, "purge_protection_enabled": [True]},
            "a bool is required, got a list. Use true or false.",
        ),
    ],
)
def test_the_type_hint_fits_the_attribute_and_the_value_given(schema, body, detail):
    diags = check_block(schema, body, where=nowhere)
    assert codes(diags) == ["wrong_type"]
    assert diags[0].detail.endswith(detail), diags[0].detail


def test_where_falls_back_to_the_nearest_parent_and_address_is_set():
    ranges = {("network_acls", 0): SourceRange("main.tf", 12)}
    body = {**KV_BODY, "network_acls": [{"default_action": "Sometimes", "bypass": "None"}]}
    diags = check_block(KV, body, where=ranges.get, address="azurerm_key_vault.main")
    assert len(diags) == 1
    assert diags[0].range == SourceRange("main.tf", 12) and diags[0].address == "azurerm_key_vault.main"
    assert "Did you mean" not in diags[0].detail and '"Allow"' in diags[0].detail


def test_path_prefix_is_respected():
    seen = []
    check_block(KV, {"name": "kv-x"}, where=lambda p: seen.append(p), path=("module", "x"))
    assert all(p[:2] == ("module", "x") for p in seen if len(p) >= 2)


def test_sensitive_values_are_not_echoed():
    provider = SCHEMA.provider_config
    diags = check_block(provider, {"features": [{}], "client_secret": ["hunter2"]}, where=nowhere)
    assert codes(diags) == ["wrong_type"] and "hunter2" not in diags[0].detail


def test_single_nesting_uses_dicts_and_allows_one():
    schema = BlockSchema(
        blocks=(
            NestedBlock(
                "settings",
                BlockSchema(
                    attributes=(Attribute("level", NUMBER, required=True, min_value=1, description="d"),)
                ),
                nesting=Nesting.SINGLE,
            ),
        )
    )
    seen = []
    diags = check_block(schema, {"settings": {"level": 0}}, where=lambda p: seen.append(p) or None)
    assert codes(diags) == ["invalid_value"] and ("settings", "level") in seen
    diags = check_block(schema, {"settings": [{"level": 1}, {"level": 2}]}, where=nowhere)
    assert codes(diags) == ["too_many_blocks"]


def test_warnings_are_warnings_and_name_their_argument():
    # every azurerm_key_vault argument is managed now, the contact blocks included
    managed = {**KV_BODY, "enabled_for_deployment": True, "contact": [{"email": "a@b.c"}, {"email": "d@e.f"}]}
    assert check_block(KV, managed, where=nowhere) == []
    schema = BlockSchema(
        attributes=(
            Attribute("managed", BOOL, optional=True, description="d"),
            Attribute("loose", STRING, optional=True, reconciled=False, description="d"),
        ),
        blocks=(
            NestedBlock(
                "extra",
                BlockSchema(attributes=(Attribute("email", STRING, required=True, description="d"),)),
                nesting=Nesting.SET,
                reconciled=False,
            ),
        ),
    )
    diags = check_block(
        schema,
        {"managed": True, "loose": "x", "extra": [{"email": "a@b.c"}, {"email": "d@e.f"}]},
        where=nowhere,
    )
    assert [(d.severity, d.code) for d in diags] == [(Severity.WARNING, "unreconciled_argument")] * 2
    assert sorted(d.summary for d in diags) == [
        'Argument "loose" is not reconciled',
        'Block "extra" is not reconciled',
    ]


# --------------------------------------------------------------------------- transforms


def test_normalize_folds_case_insensitive_enums_only_by_default():
    body = {"retention_weekly": [{"count": 4, "weekdays": ["sunday", "MONDAY"]}]}
    out = normalize_block(POLICY, body)
    assert out["retention_weekly"][0]["weekdays"] == ["Sunday", "Monday"]
    assert body["retention_weekly"][0]["weekdays"] == ["sunday", "MONDAY"], "input must not change"
    kv = {
        **KV_BODY,
        "sku_name": "Standard",
        "access_policy": [{"tenant_id": TENANT, "object_id": TENANT, "key_permissions": ["get", "wrapkey"]}],
    }
    assert normalize_block(KV, kv)["access_policy"][0]["key_permissions"] == ["get", "wrapkey"]
    read_back = normalize_block(KV, kv, all_enums=True)
    assert read_back["access_policy"][0]["key_permissions"] == ["Get", "WrapKey"]
    assert read_back["sku_name"] == "standard"


def test_apply_defaults_fills_unset_optionals_recursively():
    body = {**KV_BODY, "purge_protection_enabled": None}
    out = apply_defaults(KV, body)
    assert out["soft_delete_retention_days"] == 90 and out["purge_protection_enabled"] is False
    assert "rbac_authorization_enabled" not in out, "computed attributes are left to the provider"
    assert "network_acls" not in out, "absent blocks stay absent"
    rsv = apply_defaults(RSV, {"name": "v", "encryption": [{"key_id": "k"}]})
    assert rsv["encryption"][0]["use_system_assigned_identity"] is True
    assert rsv["storage_mode_type"] == "GeoRedundant"
    assert apply_defaults(KV, {**KV_BODY, "soft_delete_retention_days": 7})["soft_delete_retention_days"] == 7
    assert apply_defaults(KV, UNKNOWN) is UNKNOWN


def test_coerce_block_converts_known_and_keeps_bad_values():
    out = coerce_block(
        KV,
        {
            **KV_BODY,
            "purge_protection_enabled": "true",
            "soft_delete_retention_days": "x",
            "network_acls": [{"ip_rules": ["1.2.3.4", "1.2.3.4"]}],
        },
    )
    assert out["purge_protection_enabled"] is True and out["soft_delete_retention_days"] == "x"
    assert out["network_acls"][0]["ip_rules"] == ["1.2.3.4"]


def test_sensitive_paths():
    assert sensitive_paths(SCHEMA.provider_config) >= {("client_secret",), ("oidc_token",)}
    schema = BlockSchema(
        blocks=(
            NestedBlock(
                "login",
                BlockSchema(
                    attributes=(
                        Attribute("password", STRING, optional=True, sensitive=True, description="d"),
                    )
                ),
            ),
        )
    )
    assert sensitive_paths(schema) == {("login", ANY_INDEX, "password")}
    value = {"login": [{"password": "x"}, {}, {"password": "y"}]}
    assert sensitive_value_paths(schema, value) == {("login", 0, "password"), ("login", 2, "password")}
    assert sensitive_paths(KV) == set()

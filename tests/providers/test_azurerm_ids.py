"""ARM ids and Key Vault key ids: parsed case-insensitively, formatted canonically."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.azurerm.ids import (
    InvalidIdError,
    ResourceId,
    canonical,
    parse_key_id,
    parse_resource_id,
    same_id,
    split_scoped_id,
)

SUB = "3b9e6c2d-58a1-4f07-b2d4-6a1e0c9f8d27"


def test_lowercase_segments_come_back_canonical():
    rid = parse_resource_id(
        f"/subscriptions/{SUB}/resourcegroups/rg1/providers/microsoft.keyvault/VAULTS/kv1"
    )
    assert str(rid) == f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/kv1"
    assert rid.type == "Microsoft.KeyVault/vaults"
    assert rid.name == "kv1"


def test_child_resources_and_parents():
    rid = parse_resource_id(
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.RecoveryServices/"
        "vaults/v/backupPolicies/p1"
    )
    assert rid.type == "Microsoft.RecoveryServices/vaults/backupPolicies"
    assert rid.names == ("v", "p1")
    assert (
        str(rid.parent())
        == f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v"
    )
    assert rid.parent().parent().type == "Microsoft.Resources/resourceGroups"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "kv1",
        "/subscription/x",
        f"/subscriptions/{SUB}/resourceGroups",
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults",
        f"/subscriptions/{SUB}/things/rg",
    ],
)
def test_malformed_ids_say_what_is_expected(bad):
    with pytest.raises(InvalidIdError) as err:
        parse_resource_id(bad)
    assert "/subscriptions/" in err.value.message or "expected" in err.value.message


def test_expected_type_is_checked():
    with pytest.raises(InvalidIdError) as err:
        parse_resource_id(
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
            expect="Microsoft.RecoveryServices/vaults",
        )
    assert "Microsoft.RecoveryServices/vaults" in err.value.message


def test_scoped_role_assignment_ids():
    scope, name = split_scoped_id(
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
        "/providers/Microsoft.Authorization/roleAssignments/1234",
        "/providers/Microsoft.Authorization/roleAssignments/",
    )
    assert scope.endswith("/vaults/kv") and name == "1234"


def test_key_ids_versioned_and_versionless():
    v = "0123456789abcdef0123456789abcdef"
    kid = parse_key_id(f"https://KV1.vault.azure.net/keys/cmk/{v}")
    assert kid.vault_uri == "https://kv1.vault.azure.net/"
    assert kid.vault_name == "kv1" and kid.name == "cmk" and kid.version == v
    assert kid.versionless_id == "https://kv1.vault.azure.net/keys/cmk"
    assert parse_key_id("https://kv1.vault.azure.net/keys/cmk").version == ""
    for bad in (
        "http://kv1.vault.azure.net/keys/cmk",
        "https://kv1.vault.azure.net/secrets/cmk",
        "https://kv1.vault.azure.net/keys/cmk/not-hex",
    ):
        with pytest.raises(InvalidIdError):
            parse_key_id(bad)


names = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)


@given(rg=names, vault=names, policy=names)
def test_format_parse_round_trip(rg, vault, policy):
    rid = ResourceId(SUB, rg, "Microsoft.RecoveryServices", ("vaults", "backupPolicies"), (vault, policy))
    text = str(rid)
    assert parse_resource_id(text) == rid
    assert parse_resource_id(text.lower()) == ResourceId(
        SUB, rg, "Microsoft.RecoveryServices", ("vaults", "backupPolicies"), (vault, policy)
    )
    assert same_id(text, text.upper())
    assert canonical(text.lower()) == text

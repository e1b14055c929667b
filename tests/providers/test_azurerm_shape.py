"""Reads conformed to the catalog: what Azure answers vs what the plan holds."""

from __future__ import annotations

from providers.azurerm.catalog import SCHEMA
from providers.azurerm.resources.shape import conform

KV = SCHEMA.resources["azurerm_key_vault"]
POLICY = SCHEMA.resources["azurerm_key_vault_access_policy"]


def test_only_catalog_attributes_and_every_one_of_them():
    got = conform(POLICY, {"id": "x", "object_id": "o", "junk": 1}, None)
    assert set(got) == set(POLICY.block.names())
    assert "junk" not in got and got["key_permissions"] is None


def test_permissions_take_the_catalog_spelling():
    got = conform(POLICY, {"key_permissions": ["get", "WRAPKEY", "unwrapkey"]}, None)
    assert got["key_permissions"] == ["Get", "WrapKey", "UnwrapKey"]


def test_nothing_keeps_the_reference_form():
    ref = {
        "key_permissions": ["Get"],
        "secret_permissions": None,
        "application_id": None,
        "storage_permissions": [],
    }
    got = conform(
        POLICY,
        {
            "key_permissions": ["Get"],
            "secret_permissions": [],
            "application_id": "",
            "storage_permissions": None,
        },
        ref,
    )
    assert got["secret_permissions"] is None and got["application_id"] is None
    assert got["storage_permissions"] == []


def test_unset_optional_arguments_read_as_unset():
    ref = {"enabled_for_deployment": None, "public_network_access_enabled": None}
    got = conform(
        KV,
        {"enabled_for_deployment": False, "public_network_access_enabled": True},
        ref,
        {"public_network_access_enabled": True},
    )
    assert got["enabled_for_deployment"] is None and got["public_network_access_enabled"] is None
    drifted = conform(
        KV,
        {"enabled_for_deployment": True, "public_network_access_enabled": False},
        ref,
        {"public_network_access_enabled": True},
    )
    assert drifted["enabled_for_deployment"] is True and drifted["public_network_access_enabled"] is False


def test_defaults_fill_what_azure_leaves_out_and_numbers_stay_whole():
    got = conform(KV, {"soft_delete_retention_days": None}, None)
    assert got["soft_delete_retention_days"] == 90
    assert conform(KV, {"soft_delete_retention_days": 7.0}, None)["soft_delete_retention_days"] == 7


def test_set_members_keep_the_reference_order_and_blocks_nest_as_lists():
    ref = {
        "network_acls": [{"ip_rules": ["10.0.0.2", "10.0.0.1"], "default_action": "Deny", "bypass": "None"}]
    }
    got = conform(
        KV,
        {"network_acls": {"ip_rules": ["10.0.0.1", "10.0.0.2"], "default_action": "deny", "bypass": "none"}},
        ref,
    )
    assert got["network_acls"] == [
        {
            "default_action": "Deny",
            "bypass": "None",
            "ip_rules": ["10.0.0.2", "10.0.0.1"],
            "virtual_network_subnet_ids": None,
        }
    ]

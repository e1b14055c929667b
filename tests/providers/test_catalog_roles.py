"""Key Vault built-in roles as data, and what CMK needs from them."""

from __future__ import annotations

import re

import pytest

from providers.azurerm.catalog.access_policy import KEY_PERMISSIONS
from providers.roles import (
    CMK_DATA_ACTIONS,
    CMK_KEY_PERMISSIONS,
    KEY_VAULT_ROLES,
    LEAST_PRIVILEGE_CMK_ROLE,
    find_role,
    grants_action,
    grants_cmk,
    is_least_privilege_for_cmk,
    key_permissions_grant_cmk,
    missing_cmk_key_permissions,
)

PUBLISHED_GUIDS = {
    "Key Vault Administrator": "00482a5a-887f-4fb3-b363-3b7fe8e74483",
    "Key Vault Crypto Officer": "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
    "Key Vault Crypto Service Encryption User": "e147488a-f6f5-4113-8e2d-b22465e65bf6",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Key Vault Reader": "21090545-7ca7-4776-b22c-e363652d74d2",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
}


def test_roles_carry_the_published_guids():
    by_name = {r.name: r for r in KEY_VAULT_ROLES}
    for name, guid in PUBLISHED_GUIDS.items():
        assert by_name[name].guid == guid
    assert len({r.guid for r in KEY_VAULT_ROLES}) == len(KEY_VAULT_ROLES)
    for r in KEY_VAULT_ROLES:
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", r.guid)
        assert r.data_actions and all(a.startswith("Microsoft.KeyVault/vaults/") for a in r.data_actions)


@pytest.mark.parametrize(
    "name,cmk,least",
    [
        ("Key Vault Crypto Service Encryption User", True, True),
        ("Key Vault Crypto Officer", True, False),
        ("Key Vault Crypto User", True, False),
        ("Key Vault Administrator", True, False),
        ("Key Vault Reader", False, False),
        ("Key Vault Secrets Officer", False, False),
        ("Key Vault Secrets User", False, False),
        ("Key Vault Crypto Service Release User", False, False),
    ],
)
def test_which_roles_serve_cmk(name, cmk, least):
    assert grants_cmk(name) is cmk
    assert is_least_privilege_for_cmk(name) is least


def test_roles_are_found_by_name_guid_or_definition_id():
    guid = PUBLISHED_GUIDS["Key Vault Crypto Service Encryption User"]
    for ref in (
        "key vault crypto service encryption user",
        guid,
        guid.upper(),
        f"/providers/Microsoft.Authorization/roleDefinitions/{guid}",
        f"/subscriptions/0000/providers/Microsoft.Authorization/roleDefinitions/{guid}",
    ):
        assert find_role(ref) is LEAST_PRIVILEGE_CMK_ROLE, ref
    assert (
        LEAST_PRIVILEGE_CMK_ROLE.definition_id("sub")
        == f"/subscriptions/sub/providers/Microsoft.Authorization/roleDefinitions/{guid}"
    )
    assert find_role("Owner") is None and not grants_cmk("Owner") and not grants_cmk(None)


def test_wildcards_follow_azure_semantics():
    officer = find_role("Key Vault Crypto Officer")
    assert all(grants_action(officer, a) for a in CMK_DATA_ACTIONS)
    assert not grants_action(officer, "Microsoft.KeyVault/vaults/secrets/getSecret/action")
    reader = find_role("Key Vault Reader")
    assert grants_action(reader, "Microsoft.KeyVault/vaults/keys/read")
    assert not grants_action(reader, "Microsoft.KeyVault/vaults/keys/wrap/action")


def test_access_policy_permissions_for_cmk():
    assert CMK_KEY_PERMISSIONS == ("Get", "List", "WrapKey", "UnwrapKey")
    assert set(CMK_KEY_PERMISSIONS) <= set(KEY_PERMISSIONS)
    assert key_permissions_grant_cmk(["get", "LIST", "wrapKey", "UnwrapKey", "Sign"])
    assert missing_cmk_key_permissions(["Get", "WrapKey"]) == ("List", "UnwrapKey")
    assert not key_permissions_grant_cmk([])

"""The local Azure answers the operations vaultform calls as the REST API specs' examples show:
status codes, field names and nesting, and the long-running-operation headers.

Each expectation below is written from one example file of Azure/azure-rest-api-specs (path given),
trimmed to the fields that example's response carries; the local Azure may add fields the spec's
schema has, but never lose or re-nest one of these.
"""

from __future__ import annotations

import pytest

from providers.azurelocal.http import Request

KV = "specification/keyvault/resource-manager/Microsoft.KeyVault/stable/2024-11-01/examples"
AUTH = "specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/examples"
MSI = "specification/msi/resource-manager/Microsoft.ManagedIdentity/stable/2023-01-31/examples"
RS = "specification/recoveryservices/resource-manager/Microsoft.RecoveryServices/stable/2025-02-01/examples"


def shape_of(value):
    """The example's structure: dict keys (recursively), lists by their first item, scalars by type."""
    if isinstance(value, dict):
        return {k: shape_of(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape_of(value[0])] if value else []
    return type(value).__name__


def assert_has_shape(expected, actual, path="body"):
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        for key, sub in expected.items():
            assert key in actual, f"{path}: missing {key!r} (has {sorted(actual)})"
            assert_has_shape(sub, actual[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        if expected and actual:
            assert_has_shape(expected[0], actual[0], f"{path}[0]")
    else:
        assert type(actual).__name__ == expected, f"{path}: expected {expected}, got {actual!r}"


@pytest.fixture
def call(env):
    from providers.azurelocal.credential import LocalCredential

    token = LocalCredential().get_token("https://management.azure.com/.default").token

    def send(method: str, path: str, body=None, api_version: str = "2024-11-01"):
        import json

        request = Request(
            method=method,
            host="management.azure.com",
            path=path,
            query={"api-version": api_version},
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
            body=json.dumps(body).encode() if body is not None else b"",
        )
        return env.handle(request)

    return send


@pytest.fixture
def group(call, env):
    rg = f"/subscriptions/{env.subscription_id}/resourceGroups/rg-spec"
    assert call("PUT", rg, {"location": "westeurope"}, "2025-04-01").status in (200, 201)
    return rg


def _vault_body(env, **props):
    return {
        "location": "westeurope",
        "properties": {
            "tenantId": env.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [
                {
                    "tenantId": env.tenant_id,
                    "objectId": env.deployer_object_id,
                    "permissions": {"keys": ["get"], "secrets": ["get"], "certificates": ["get"]},
                }
            ],
            "enabledForDeployment": True,
            "enabledForDiskEncryption": True,
            "enabledForTemplateDeployment": True,
            "publicNetworkAccess": "Enabled",
            **props,
        },
    }


# {KV}/createVault.json, response 201 (trimmed: systemData, privateEndpointConnections and
# hsmPoolResourceId are optional read-only fields the local Azure leaves out)
CREATE_VAULT_201 = {
    "id": "str",
    "name": "str",
    "type": "str",
    "location": "str",
    "tags": {},
    "properties": {
        "sku": {"family": "str", "name": "str"},
        "tenantId": "str",
        "accessPolicies": [
            {
                "tenantId": "str",
                "objectId": "str",
                "permissions": {"keys": ["str"], "secrets": ["str"], "certificates": ["str"]},
            }
        ],
        "enabledForDeployment": "bool",
        "enabledForDiskEncryption": "bool",
        "enabledForTemplateDeployment": "bool",
        "vaultUri": "str",
        "provisioningState": "str",
        "publicNetworkAccess": "str",
    },
}


def test_create_vault_matches_the_example(call, group, env):
    created = call("PUT", f"{group}/providers/Microsoft.KeyVault/vaults/kv-spec", _vault_body(env))
    assert created.status == 201
    assert_has_shape(CREATE_VAULT_201, created.body)
    again = call("PUT", f"{group}/providers/Microsoft.KeyVault/vaults/kv-spec", _vault_body(env))
    assert again.status == 200  # the example's 200: an update of an existing vault


# {KV}/updateAccessPoliciesAdd.json, response 200
ACCESS_POLICIES_ADD_200 = {
    "id": "str",
    "type": "str",
    "properties": {
        "accessPolicies": [
            {
                "tenantId": "str",
                "objectId": "str",
                "permissions": {"keys": ["str"], "secrets": ["str"], "certificates": ["str"]},
            }
        ]
    },
}


def test_access_policy_add_matches_the_example(call, group, env):
    call("PUT", f"{group}/providers/Microsoft.KeyVault/vaults/kv-spec", _vault_body(env))
    body = {
        "properties": {
            "accessPolicies": [
                {
                    "tenantId": env.tenant_id,
                    "objectId": "00000000-0000-0000-0000-0000000000aa",
                    "permissions": {"keys": ["encrypt"], "secrets": ["get"], "certificates": ["get"]},
                }
            ]
        }
    }
    answer = call("PUT", f"{group}/providers/Microsoft.KeyVault/vaults/kv-spec/accessPolicies/add", body)
    assert answer.status == 200
    assert_has_shape(ACCESS_POLICIES_ADD_200, answer.body)
    assert answer.body["type"] == "Microsoft.KeyVault/vaults/accessPolicies"


# {KV}/getDeletedVault.json, response 200
DELETED_VAULT_200 = {
    "id": "str",
    "name": "str",
    "type": "str",
    "properties": {
        "vaultId": "str",
        "location": "str",
        "tags": {},
        "deletionDate": "str",
        "scheduledPurgeDate": "str",
        "purgeProtectionEnabled": "bool",
    },
}


def test_deleted_vault_and_its_purge_match_the_examples(call, group, env):
    vault = f"{group}/providers/Microsoft.KeyVault/vaults/kv-spec"
    call("PUT", vault, _vault_body(env))
    assert call("DELETE", vault).status in (200, 204)  # {KV}/deleteVault.json: 200 (204 when gone)
    deleted = f"/subscriptions/{env.subscription_id}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-spec"
    got = call("GET", deleted)
    assert got.status == 200
    assert_has_shape(DELETED_VAULT_200, got.body)
    assert got.body["type"] == "Microsoft.KeyVault/deletedVaults"
    # {KV}/purgeDeletedVault.json: 200, or 202 with a Location to follow
    purged = call("POST", deleted + "/purge")
    assert purged.status in (200, 202)
    if purged.status == 202:
        assert "Location" in purged.headers


# {RS}/PUTVault.json, response 201
PUT_RS_VAULT_201 = {
    "location": "str",
    "name": "str",
    "etag": "str",
    "tags": {},
    "identity": {"tenantId": "str", "principalId": "str", "type": "str"},
    "properties": {"publicNetworkAccess": "str", "provisioningState": "str"},
    "id": "str",
    "type": "str",
    "sku": {"name": "str", "tier": "str"},
}


def _rs_vault(call, group, name="rsv-spec"):
    body = {
        "properties": {"publicNetworkAccess": "Enabled"},
        "sku": {"name": "Standard"},
        "location": "West Europe",
        "identity": {"type": "SystemAssigned"},
    }
    return call("PUT", f"{group}/providers/Microsoft.RecoveryServices/vaults/{name}", body, "2025-02-01")


def test_put_recovery_services_vault_matches_the_example(call, group):
    created = _rs_vault(call, group)
    assert created.status == 201
    assert_has_shape(PUT_RS_VAULT_201, created.body)
    assert created.body["location"] == "westeurope"  # the example answers "westus" to "West US"


def test_a_key_assignment_that_fails_later_follows_the_patch_example(call, cmk, env):
    """{RS}/PATCHVault_WithCMK.json: 202 with Azure-AsyncOperation (.../operationStatus/{id}), Location
    (.../operationResults/{id}) and Retry-After; {RS}/GetOperationStatus.json: id, name, status,
    startTime, endTime - here with the failure's error."""
    cmk.key_vault()
    key = cmk.rsa_key()
    vault = cmk.rs_vault()  # its identity has no grant on the key
    patch = {"properties": {"encryption": cmk.encryption(key.id)}}
    accepted = call("PATCH", vault.id, patch, "2025-02-01")
    assert accepted.status == 202 and accepted.body is None
    assert {"Azure-AsyncOperation", "Location", "Retry-After"} <= set(accepted.headers)
    status_path = accepted.headers["Azure-AsyncOperation"].split("management.azure.com", 1)[1].split("?")[0]
    assert "/operationStatus/" in status_path and status_path.startswith(vault.id)
    status = call("GET", status_path, api_version="2025-02-01")
    assert status.status == 200
    assert_has_shape(
        {"id": "str", "name": "str", "status": "str", "startTime": "str", "endTime": "str"}, status.body
    )
    assert status.body["status"] == "Failed"
    assert status.body["error"]["code"] == "UserErrorCMKKeyVaultAuthFailure"


def test_operation_status_matches_the_example(call, group, env):
    from providers.azurelocal.services import operations
    from providers.azurelocal.services.recovery_vaults import vault_operation_headers

    created = _rs_vault(call, group)
    op = operations.record_operation(env, created.body["id"], "UpdateVault")
    headers = vault_operation_headers(created.body["id"], op["name"])
    assert set(headers) == {"Azure-AsyncOperation", "Location", "Retry-After"}
    status_path = headers["Azure-AsyncOperation"].split("management.azure.com", 1)[1].split("?")[0]
    assert status_path.endswith(f"/vaults/rsv-spec/operationStatus/{op['name']}")
    got = call("GET", status_path, api_version="2025-02-01")
    assert got.status == 200
    assert_has_shape(
        {"id": "str", "name": "str", "status": "str", "startTime": "str", "endTime": "str"}, got.body
    )
    result_path = headers["Location"].split("management.azure.com", 1)[1].split("?")[0]
    assert result_path.endswith(f"/vaults/rsv-spec/operationResults/{op['name']}")
    assert call("GET", result_path, api_version="2025-02-01").status == 200  # GetOperationResult.json: 200


# {MSI}/IdentityCreate.json, response 201
IDENTITY_CREATE_201 = {
    "id": "str",
    "location": "str",
    "name": "str",
    "properties": {"clientId": "str", "principalId": "str", "tenantId": "str"},
    "tags": {"key1": "str"},
    "type": "str",
}


def test_identity_create_matches_the_example(call, group):
    path = f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-spec"
    body = {"location": "westeurope", "tags": {"key1": "value1"}}
    created = call("PUT", path, body, "2023-01-31")
    assert created.status == 201
    assert_has_shape(IDENTITY_CREATE_201, created.body)
    assert call("PUT", path, body, "2023-01-31").status == 200


# {AUTH}/RoleAssignments_CreateForResource.json, response 201
ROLE_ASSIGNMENT_201 = {
    "properties": {"roleDefinitionId": "str", "principalId": "str", "principalType": "str", "scope": "str"},
    "id": "str",
    "type": "str",
    "name": "str",
}


def test_role_assignment_create_for_a_resource_matches_the_example(call, group, env):
    vault = f"{group}/providers/Microsoft.KeyVault/vaults/kv-spec"
    call("PUT", vault, _vault_body(env))
    name = "05c5a614-a7d6-4502-b150-c2fb455033ff"
    body = {
        "properties": {
            "roleDefinitionId": f"/subscriptions/{env.subscription_id}/providers/Microsoft.Authorization/"
            "roleDefinitions/21090545-7ca7-4776-b22c-e363652d74d2",
            "principalId": env.deployer_object_id,
            "principalType": "User",
        }
    }
    created = call(
        "PUT", f"{vault}/providers/Microsoft.Authorization/roleAssignments/{name}", body, "2022-04-01"
    )
    assert created.status == 201
    assert_has_shape(ROLE_ASSIGNMENT_201, created.body)
    assert created.body["properties"]["scope"] == vault
    assert created.body["type"] == "Microsoft.Authorization/roleAssignments"

"""Bodies of any JSON shape get Azure-style 4xx answers from the ARM routes, never a 500."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from providers.azurelocal.http import request_from_url

SUB = "/subscriptions/3b9e6c2d-58a1-4f07-b2d4-6a1e0c9f8d27"
RG = f"{SUB}/resourceGroups/rg-workloads"
VAULT = f"{RG}/providers/Microsoft.RecoveryServices/vaults/rsv-odd"
ITEM = (
    f"{VAULT}/backupFabrics/Azure/protectionContainers/iaasvmcontainer;iaasvmcontainerv2;rg-workloads;vm-app-01"
    f"/protectedItems/VM;iaasvmcontainerv2;rg-workloads;vm-app-01"
)
ROUTES = [
    ("PUT", f"{SUB}/resourcegroups/rg-odd"),
    ("PATCH", f"{SUB}/resourcegroups/rg-workloads"),
    ("PUT", f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-odd"),
    ("PUT", f"{RG}/providers/Microsoft.KeyVault/vaults/kv-odd"),
    ("PUT", f"{RG}/providers/Microsoft.KeyVault/vaults/kv-odd/accessPolicies/add"),
    ("PUT", f"{RG}/providers/Microsoft.Authorization/roleAssignments/6f1d9a4e-3c2b-4d5e-8f70-1a2b3c4d5e6f"),
    ("PUT", VAULT),
    ("PATCH", VAULT),
    ("PUT", f"{VAULT}/backupPolicies/p-odd"),
    ("PUT", ITEM),
    ("POST", f"{ITEM}/backup"),
    ("PUT", f"{VAULT}/backupstorageconfig/vaultstorageconfig"),
    ("PUT", f"{VAULT}/backupconfig/vaultconfig"),
    ("PUT", f"{VAULT}/backupEncryptionConfigs/backupResourceEncryptionConfig"),
    ("PUT", f"{RG}/providers/Microsoft.Compute/diskEncryptionSets/des-odd"),
    ("POST", f"{RG}/validateMoveResources"),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "properties",
                    "location",
                    "identity",
                    "sku",
                    "tags",
                    "type",
                    "name",
                    "encryption",
                    "keyVaultProperties",
                    "accessPolicies",
                    "permissions",
                    "keys",
                    "objectId",
                    "policyId",
                    "principalId",
                    "roleDefinitionId",
                    "redundancySettings",
                    "securitySettings",
                    "schedulePolicy",
                    "retentionPolicy",
                    "resources",
                    "userAssignedIdentities",
                    "activeKey",
                    "keyUrl",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
bodies = (
    st.dictionaries(
        st.sampled_from(
            ["location", "properties", "identity", "sku", "tags", "resources", "targetResourceGroup"]
        ),
        json_values,
        max_size=4,
    )
    | json_values
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), body=bodies)
def test_odd_bodies_never_500(env, route, body):
    if env.store.get("rsvault", VAULT) is None:
        env.handle(
            request_from_url(
                "PUT",
                f"https://management.azure.com{VAULT}",
                {"Authorization": "Bearer x"},
                json.dumps({"location": "westeurope", "identity": {"type": "SystemAssigned"}}).encode(),
            )
        )
    method, path = route
    answer = env.handle(
        request_from_url(
            method,
            f"https://management.azure.com{path}?api-version=2024-01-01",
            {"Authorization": "Bearer x"},
            json.dumps(body).encode(),
        )
    )
    assert answer.status < 500, answer.body

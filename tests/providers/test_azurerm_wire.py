"""What the SDK actually sends for a CMK vault: the request bodies recorded at the transport.

DOMAIN.md section 3 fixes the shapes: identity ``{type, userAssignedIdentities: {id: {}}}``
and ``properties.encryption = {keyVaultProperties: {keyUri}, kekIdentity:
{useSystemAssignedIdentity | userAssignedIdentity}, infrastructureEncryption}``; the key is
assigned by a request that carries only the encryption (the two-phase apply).
"""

from __future__ import annotations

import json

import pytest
from azure.core.pipeline.transport import RequestsTransport

from providers.azurelocal.app import Emulator
from providers.azurelocal.transport import local_session
from providers.azurerm.clients import ClientFactory, CloudKind, CloudTarget
from providers.azurerm.provider import AzurermProvider
from providers.base import Clock, CreateRequest, DataRequest, UpdateRequest


class RecordingTransport(RequestsTransport):
    """The local transport, noting each request's method, URL and JSON body."""

    def __init__(self, env, log: list) -> None:
        super().__init__(session=local_session(env), session_owner=False)
        self.log = log

    def send(self, request, **kwargs):
        raw = getattr(request, "content", None) or getattr(request, "body", None) or b""
        try:
            body = json.loads(raw) if raw else None
        except (TypeError, ValueError):
            body = None
        self.log.append((request.method, request.url.split("?", 1)[0], body))
        return super().send(request, **kwargs)


@pytest.fixture
def recorded(tmp_path):
    env = Emulator(tmp_path / "wire.db")
    env.calm_faults()  # propagation delays have their own tests
    log: list = []
    clients = ClientFactory(
        CloudTarget(CloudKind.LOCAL, local_path=tmp_path / "wire.db"),
        emulator=env,
        transport_factory=lambda: RecordingTransport(env, log),
    )
    provider = AzurermProvider(clients=clients, clock=Clock(sleep=lambda s: env.clock.advance(s)))
    yield env, provider, log
    env.store.close()


def _vault_requests(log, method: str, name: str) -> list[dict]:
    suffix = f"/providers/microsoft.recoveryservices/vaults/{name}"
    return [body for m, url, body in log if m == method and url.lower().endswith(suffix)]


def _prerequisites(provider):
    me = provider.read_data(DataRequest("azurerm_client_config", {})).state
    rg = provider.create(
        CreateRequest("azurerm_resource_group", {"name": "rg-wire", "location": "westeurope"})
    ).state
    uai = provider.create(
        CreateRequest(
            "azurerm_user_assigned_identity",
            {"name": "id-wire", "location": "westeurope", "resource_group_name": rg["name"]},
        )
    ).state
    kv = provider.create(
        CreateRequest(
            "azurerm_key_vault",
            {
                "name": "kv-wire",
                "location": "westeurope",
                "resource_group_name": rg["name"],
                "tenant_id": me["tenant_id"],
                "sku_name": "standard",
                "purge_protection_enabled": True,
                "soft_delete_retention_days": 7,
                "access_policy": [
                    {
                        "tenant_id": me["tenant_id"],
                        "object_id": me["object_id"],
                        "key_permissions": ["Get", "List", "Create"],
                    }
                ],
            },
        )
    ).state
    key = provider.create(
        CreateRequest(
            "azurerm_key_vault_key",
            {
                "name": "cmk",
                "key_vault_id": kv["id"],
                "key_type": "RSA",
                "key_size": 2048,
                "key_opts": ["wrapKey", "unwrapKey"],
            },
        )
    ).state
    return me, rg, uai, kv, key


def _grant(provider, kv, tenant, object_id):
    provider.create(
        CreateRequest(
            "azurerm_key_vault_access_policy",
            {
                "key_vault_id": kv["id"],
                "tenant_id": tenant,
                "object_id": object_id,
                "key_permissions": ["Get", "List", "WrapKey", "UnwrapKey"],
            },
        )
    )


def test_system_assigned_cmk_vault_sends_domain_shapes(recorded):
    env, provider, log = recorded
    me, rg, _, kv, key = _prerequisites(provider)
    vault = provider.create(
        CreateRequest(
            "azurerm_recovery_services_vault",
            {
                "name": "rsv-sys",
                "location": "westeurope",
                "resource_group_name": rg["name"],
                "sku": "Standard",
                "identity": [{"type": "SystemAssigned"}],
            },
        )
    ).state
    principal = vault["identity"][0]["principal_id"]
    assert principal
    _grant(provider, kv, me["tenant_id"], principal)
    encryption = [
        {
            "key_id": key["versionless_id"],
            "infrastructure_encryption_enabled": False,
            "use_system_assigned_identity": True,
            "user_assigned_identity_id": None,
        }
    ]
    after = provider.update(
        UpdateRequest(
            "azurerm_recovery_services_vault", vault, {**vault, "encryption": encryption}, ("encryption",)
        )
    ).state

    (put,) = _vault_requests(log, "PUT", "rsv-sys")
    assert put["identity"] == {"type": "SystemAssigned"}
    assert "encryption" not in put["properties"]
    (patch,) = _vault_requests(log, "PATCH", "rsv-sys")
    assert patch == {
        "properties": {
            "encryption": {
                "keyVaultProperties": {"keyUri": key["versionless_id"]},
                "kekIdentity": {"useSystemAssignedIdentity": True, "userAssignedIdentity": None},
                "infrastructureEncryption": "Disabled",
            }
        }
    }
    assert after["encryption"] == encryption


def test_user_assigned_cmk_vault_sends_domain_shapes(recorded):
    env, provider, log = recorded
    me, rg, uai, kv, key = _prerequisites(provider)
    _grant(provider, kv, me["tenant_id"], uai["principal_id"])
    encryption = [
        {
            "key_id": key["id"],
            "infrastructure_encryption_enabled": True,
            "use_system_assigned_identity": False,
            "user_assigned_identity_id": uai["id"],
        }
    ]
    state = provider.create(
        CreateRequest(
            "azurerm_recovery_services_vault",
            {
                "name": "rsv-uai",
                "location": "westeurope",
                "resource_group_name": rg["name"],
                "sku": "Standard",
                "identity": [{"type": "UserAssigned", "identity_ids": [uai["id"]]}],
                "encryption": encryption,
            },
        )
    ).state

    # As azurerm: created without the user-assigned identity (its create operation can answer 404,
    # azure-rest-api-specs issue 27869), which a PATCH then attaches; the key assignment goes last.
    (put,) = _vault_requests(log, "PUT", "rsv-uai")
    assert put["identity"] == {"type": "None"}
    assert "encryption" not in put["properties"]
    identity_patch, patch = _vault_requests(log, "PATCH", "rsv-uai")
    assert identity_patch == {"identity": {"type": "UserAssigned", "userAssignedIdentities": {uai["id"]: {}}}}
    assert patch == {
        "properties": {
            "encryption": {
                "keyVaultProperties": {"keyUri": key["id"]},
                "kekIdentity": {"useSystemAssignedIdentity": False, "userAssignedIdentity": uai["id"]},
                "infrastructureEncryption": "Enabled",
            }
        }
    }
    assert state["encryption"] == encryption
    assert state["identity"][0]["identity_ids"] == [uai["id"]]


def test_access_policy_goes_through_the_add_operation(recorded):
    env, provider, log = recorded
    me, _, uai, kv, _ = _prerequisites(provider)
    _grant(provider, kv, me["tenant_id"], uai["principal_id"])
    adds = [body for m, url, body in log if m == "PUT" and url.lower().endswith("/accesspolicies/add")]
    assert adds == [
        {
            "properties": {
                "accessPolicies": [
                    {
                        "tenantId": me["tenant_id"],
                        "objectId": uai["principal_id"],
                        "permissions": {
                            "keys": ["Get", "List", "WrapKey", "UnwrapKey"],
                            "secrets": [],
                            "certificates": [],
                            "storage": [],
                        },
                    }
                ]
            }
        }
    ]


def test_monitoring_settings_travel_in_the_vault_patch(recorded):
    """(The local Azure doesn't keep monitoring settings, so only the request is checked.)"""
    env, provider, log = recorded
    provider.create(CreateRequest("azurerm_resource_group", {"name": "rg-mon", "location": "westeurope"}))
    vault = provider.create(
        CreateRequest(
            "azurerm_recovery_services_vault",
            {"name": "rsv-mon", "location": "westeurope", "resource_group_name": "rg-mon", "sku": "Standard"},
        )
    ).state
    wanted = {
        **vault,
        "monitoring": [
            {
                "alerts_for_all_job_failures_enabled": True,
                "alerts_for_critical_operation_failures_enabled": False,
            }
        ],
    }
    provider.update(UpdateRequest("azurerm_recovery_services_vault", vault, wanted, ("monitoring",)))
    (patch,) = _vault_requests(log, "PATCH", "rsv-mon")
    assert patch == {
        "properties": {
            "monitoringSettings": {
                "azureMonitorAlertSettings": {"alertsForAllJobFailures": "Enabled"},
                "classicAlertSettings": {"alertsForCriticalOperations": "Disabled"},
            }
        }
    }

"""Azure's answers become the protocol's three errors, through the real SDK and the local Azure."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ServiceRequestError

from providers.azurelocal.app import Emulator
from providers.azurerm.clients import ClientFactory, CloudKind, CloudTarget
from providers.azurerm.errors import classify, retry_after_seconds
from providers.azurerm.provider import AzurermProvider
from providers.base import (
    Clock,
    CreateRequest,
    DataRequest,
    NotFoundError,
    PermanentError,
    ReadRequest,
    RetryableError,
)

RG = "/subscriptions/{sub}/resourceGroups/rg-err"


@pytest.fixture
def cloud(tmp_path):
    env = Emulator(tmp_path / "err.db")
    slept: list[float] = []
    events: list[str] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        env.clock.advance(seconds)

    clients = ClientFactory(CloudTarget(CloudKind.LOCAL, local_path=tmp_path / "err.db"), emulator=env)
    provider = AzurermProvider(clients=clients, clock=Clock(sleep=sleep), report=events.append)
    yield env, provider, slept, events
    env.store.close()


def test_gone_objects_read_as_none(cloud):
    env, provider, _, _ = cloud
    prior = {"id": RG.format(sub=env.subscription_id) + "/providers/Microsoft.KeyVault/vaults/kv-none"}
    assert provider.read(ReadRequest("azurerm_key_vault", prior)).state is None
    assert (
        provider.read(ReadRequest("azurerm_resource_group", {"id": RG.format(sub=env.subscription_id)})).state
        is None
    )


def _key_create_refused(provider, key_vault: dict) -> PermanentError:
    """A key vault with the given settings (rg-err, westeurope) and the refusal of a key create in it."""
    me = provider.read_data(DataRequest("azurerm_client_config", {})).state
    provider.create(CreateRequest("azurerm_resource_group", {"name": "rg-err", "location": "westeurope"}))
    body = {"location": "westeurope", "resource_group_name": "rg-err", "tenant_id": me["tenant_id"]}
    body |= {"sku_name": "standard", "access_policy": [], **key_vault}
    for policy in body["access_policy"]:
        policy.update(tenant_id=me["tenant_id"], object_id=me["object_id"])
    kv = provider.create(CreateRequest("azurerm_key_vault", body)).state
    key = {
        "name": "k",
        "key_vault_id": kv["id"],
        "key_type": "RSA",
        "key_size": 2048,
        "key_opts": ["wrapKey"],
    }
    with pytest.raises(PermanentError) as err:
        provider.create(CreateRequest("azurerm_key_vault_key", key))
    return err.value


def test_forbidden_key_operation_is_permanent_with_inner_code(cloud):
    _env, provider, _, _ = cloud
    refused = _key_create_refused(provider, {"name": "kv-err"})
    assert refused.code == "Forbidden/ForbiddenByPolicy"
    assert refused.status == 403
    assert "create" in refused.message


def test_throttling_is_retried_through_the_clock_then_reported_retryable(cloud):
    env, provider, slept, events = cloud
    env.configure_faults(throttle_rate=1.0, retry_after_seconds=7)
    with pytest.raises(RetryableError) as err:
        provider.create(CreateRequest("azurerm_resource_group", {"name": "rg-429", "location": "westeurope"}))
    assert err.value.status == 429
    assert err.value.retry_after == 7
    assert slept and all(s == 7 for s in slept)  # the SDK's retries honoured Retry-After ...
    assert len(events) == len(slept)  # ... and each pause was announced
    assert "Retry-After" in events[0]


def test_transient_failures_recover_within_the_sdk_retries(cloud):
    env, provider, slept, _ = cloud
    env.configure_faults(transient_error_rate=0.5, retry_after_seconds=1, seed=3)
    state = provider.create(
        CreateRequest("azurerm_resource_group", {"name": "rg-503", "location": "westeurope"})
    ).state
    assert state["name"] == "rg-503"


def test_connection_errors_are_retryable():
    err = classify(ServiceRequestError("connection refused"))
    assert isinstance(err, RetryableError)
    assert err.code == "ConnectionError"


def test_not_found_error_passes_through():
    nf = NotFoundError("gone", code="ResourceNotFound")
    assert classify(nf) is nf


@pytest.mark.parametrize(
    "headers,expected",
    [
        ({"Retry-After": "12"}, 12.0),
        ({"retry-after": "0"}, 0.0),
        ({"x-ms-retry-after-ms": "1500"}, 1.5),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}, 10.0),
        ({}, None),
        ({"Retry-After": "soon"}, None),
    ],
)
def test_retry_after_forms(headers, expected):
    now = 1445412480.0  # 2015-10-21T07:28:00Z
    assert retry_after_seconds(headers, now=now) == expected


def test_a_key_vault_firewall_refusal_says_how_to_get_through(cloud):
    _env, provider, _, _ = cloud
    everything = ["Get", "List", "Create", "Delete", "Purge", "GetRotationPolicy"]
    refused = _key_create_refused(
        provider,
        {
            "name": "kv-fw",
            "network_acls": [{"default_action": "Deny", "bypass": "None", "ip_rules": []}],
            "access_policy": [{"key_permissions": everything}],
        },
    )
    assert refused.code == "Forbidden/ForbiddenByFirewall"
    assert "network_acls ip_rules" in refused.message

"""ARM's and Key Vault's request budgets in the local Azure: remaining-requests headers on every ARM
answer, a 429 with Retry-After when a bucket is empty, refills measured on the emulator clock."""

from __future__ import annotations

import pytest

from providers.azurelocal import ratelimits
from providers.azurelocal.credential import TOKEN_PREFIX
from providers.azurelocal.http import request_from_url

ARM = "https://management.azure.com"
OTHER = "5d1c1c62-7f3a-4c55-9a53-1b3f6a6fd001"


def call(env, method: str, path: str, object_id: str | None = None, body: bytes = b""):
    token = f"{TOKEN_PREFIX}{object_id or env.deployer_object_id}"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return env.handle(request_from_url(method, f"{ARM}{path}?api-version=2021-04-01", headers, body))


def rg_path(env, name: str = "rg-limits") -> str:
    return f"/subscriptions/{env.subscription_id}/resourcegroups/{name}"


def remaining(answer, kind: str) -> tuple[int, int]:
    return (
        int(answer.headers[f"x-ms-ratelimit-remaining-subscription-{kind}"]),
        int(answer.headers[f"x-ms-ratelimit-remaining-subscription-global-{kind}"]),
    )


def test_every_arm_answer_says_what_is_left_of_the_real_budget(env):
    created = call(env, "PUT", rg_path(env), body=b'{"location": "westeurope"}')
    assert created.status in (200, 201)
    assert remaining(created, "writes") == (199, 2999)  # 200 tokens, 15 times that for the subscription
    first, second = call(env, "GET", rg_path(env)), call(env, "GET", rg_path(env))
    assert remaining(first, "reads") == (249, 3749)  # as recorded from ARM: 249 beside 3749
    assert remaining(second, "reads") == (248, 3748)
    assert "x-ms-ratelimit-remaining-subscription-writes" not in first.headers
    gone = call(env, "DELETE", rg_path(env))
    assert gone.status in (200, 202)
    assert remaining(gone, "deletes") == (199, 2999)
    tenant_level = call(env, "GET", "/subscriptions")
    assert int(tenant_level.headers["x-ms-ratelimit-remaining-tenant-reads"]) == 249


def test_an_empty_bucket_answers_429_until_the_clock_refills_it(env):
    env.configure_faults(arm_read_tokens=3, arm_read_refill_per_second=0.5)
    call(env, "PUT", rg_path(env), body=b'{"location": "westeurope"}')
    answers = [call(env, "GET", rg_path(env)) for _ in range(4)]
    assert [a.status for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.body["error"]["code"] == "SubscriptionRequestsThrottled"
    assert "Number of 'read' requests for subscription" in refused.body["error"]["message"]
    assert refused.headers["Retry-After"] == "2"  # one token at half a token per second
    assert remaining(refused, "reads")[0] == 0
    assert ratelimits.refusals(env.store) == 1
    # writes have a bucket of their own
    assert call(env, "PUT", rg_path(env, "rg-other"), body=b'{"location": "westeurope"}').status in (200, 201)

    env.clock.advance(1.0)  # half a token: still refused, with the shorter wait
    again = call(env, "GET", rg_path(env))
    assert (again.status, again.headers["Retry-After"]) == (429, "1")
    env.clock.advance(3.0)  # two tokens
    assert [call(env, "GET", rg_path(env)).status for _ in range(3)] == [200, 200, 429]
    assert ratelimits.refusals(env.store) == 3


def test_each_principal_has_a_bucket_and_all_share_the_subscriptions(env):
    env.register_principal({"object_id": OTHER, "type": "ServicePrincipal", "display_name": "ci"})
    env.configure_faults(arm_read_tokens=2, arm_read_refill_per_second=0.001, arm_global_multiplier=1.5)
    path = f"/subscriptions/{env.subscription_id}/resourcegroups"
    assert [call(env, "GET", path).status for _ in range(3)] == [200, 200, 429]  # the deployer's 2
    other = call(env, "GET", path, OTHER)
    assert other.status == 200 and remaining(other, "reads") == (1, 0)  # the subscription's 3 are spent
    refused = call(env, "GET", path, OTHER)
    assert refused.status == 429
    assert OTHER in refused.body["error"]["message"]


def test_limits_can_be_switched_off_and_are_checked(env):
    env.configure_faults(arm_read_tokens=1, arm_read_refill_per_second=0.0, rate_limits=False)
    path = f"/subscriptions/{env.subscription_id}/resourcegroups"
    answers = [call(env, "GET", path) for _ in range(3)]
    assert [a.status for a in answers] == [200, 200, 200]
    assert "x-ms-ratelimit-remaining-subscription-reads" not in answers[0].headers
    with pytest.raises(ValueError, match="arm_write_tokens must be at least 1"):
        env.configure_faults(arm_write_tokens=0)
    with pytest.raises(ValueError, match="arm_read_refill_per_second must not be negative"):
        env.configure_faults(arm_read_refill_per_second=-1)


def test_a_key_vault_refuses_creates_beyond_its_ten_second_budget(env, cmk, key_client):
    from azure.core.exceptions import HttpResponseError

    cmk.key_vault()
    env.configure_faults(keyvault_create_per_10s=2)
    client = key_client(cmk.KV)
    client._client._config.retry_policy.total_retries = 0  # see the 429 itself
    client.create_rsa_key("one", size=2048)
    client.create_rsa_key("two", size=2048)
    with pytest.raises(HttpResponseError) as refused:
        client.create_rsa_key("three", size=2048)
    assert refused.value.status_code == 429
    assert refused.value.error.code == "Throttled"
    # 2 per 10 s: one token in 5 s, less the time the two creates took (RSA keys, on a busy machine)
    assert refused.value.response.headers["Retry-After"] in ("4", "5")
    assert client.get_key("one").name == "one"  # reads are another budget
    env.clock.advance(5.0)
    assert client.create_rsa_key("three", size=2048).name == "three"

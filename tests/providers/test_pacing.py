"""The provider stays within Azure's request budgets: it slows down when ARM says little is left, waits
out a Retry-After (429 and 503) before trying again, and a whole apply under a tiny budget shows the
user no 429. Measured against the local Azure's buckets, which count every 429 they send."""

from __future__ import annotations

import threading
import time

from providers.azurelocal import ratelimits
from providers.azurelocal.app import Emulator
from providers.azurelocal.services.providers import register_everything
from providers.azurerm.clients import ClientFactory, CloudKind, CloudTarget
from providers.azurerm.pacing import Budgets, budget_key, remaining_from
from providers.base import Clock
from tests.e2e.harness import EXAMPLES, Workspace

RG = "rg-pacing"


class EmulatedClock:
    """The provider's clock on the local Azure's clock: a wait moves emulated time, it doesn't sleep."""

    def __init__(self, env: Emulator) -> None:
        self.env = env
        self.waits: list[float] = []
        self._now = 1000.0
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.waits.append(round(seconds, 3))
            self._now += seconds
        self.env.clock.advance(seconds)

    def clock(self) -> Clock:
        return Clock(now=time.time, monotonic=lambda: self._now, sleep=self.sleep)


def factory(env: Emulator, tmp_path, **kwargs) -> ClientFactory:
    target = CloudTarget(CloudKind.LOCAL, local_path=tmp_path / "local-azure.db")
    return ClientFactory(target, emulator=env, budgets=Budgets(), **kwargs)


def make_env(tmp_path) -> Emulator:
    env = Emulator(tmp_path / "local-azure.db")
    env.calm_faults()
    register_everything(env)
    return env


def test_the_budget_a_request_counts_against_and_what_an_answer_says_is_left():
    url = "https://management.azure.com/subscriptions/ABC/resourceGroups/rg?api-version=1"
    assert budget_key("GET", url) == ("management.azure.com", "abc", "reads")
    assert budget_key("POST", url)[2] == "writes" and budget_key("DELETE", url)[2] == "deletes"
    assert budget_key("GET", "https://kv1.vault.azure.net/keys/k")[:2] == ("kv1.vault.azure.net", "")
    headers = {
        "x-ms-ratelimit-remaining-subscription-reads": "249",
        "x-ms-ratelimit-remaining-subscription-global-reads": "12",
    }
    assert remaining_from(headers, "reads") == 12
    assert remaining_from(headers, "writes") is None


def test_reads_slow_down_before_the_bucket_runs_dry(tmp_path):
    env = make_env(tmp_path)
    said: list[str] = []
    clients = factory(env, tmp_path, report=said.append)
    clients.resources().resource_groups.create_or_update(RG, {"location": "westeurope"})
    env.configure_faults(arm_read_tokens=20, arm_read_refill_per_second=40.0)
    failures: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(15):
                assert clients.resources().resource_groups.get(RG).name == RG
        except BaseException as exc:  # collected and asserted below
            failures.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=reader) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert failures == []
    # 120 reads from a bucket of 20 refilling 40 a second can't take less than 2.5 s
    assert elapsed >= 2.0
    assert ratelimits.refusals(env.store) <= 3, "the pacer should keep (almost) every read from a 429"
    assert any("budget for subscription" in line and "pacing" in line for line in said), said


def test_a_429_is_waited_out_for_exactly_its_retry_after(tmp_path):
    env = make_env(tmp_path)
    emulated = EmulatedClock(env)
    said: list[str] = []
    clients = factory(env, tmp_path, clock=emulated.clock(), report=said.append)
    clients.resources().resource_groups.create_or_update(RG, {"location": "westeurope"})
    vault = (
        clients.keyvault_mgmt()
        .vaults.begin_create_or_update(
            RG,
            "kv-pacing",
            {
                "location": "westeurope",
                "properties": {
                    "tenantId": env.tenant_id,
                    "sku": {"family": "A", "name": "standard"},
                    "accessPolicies": [
                        {
                            "tenantId": env.tenant_id,
                            "objectId": env.deployer_object_id,
                            "permissions": {"keys": ["Get", "Create"]},
                        }
                    ],
                },
            },
        )
        .result()
    )
    env.configure_faults(keyvault_create_per_10s=1)  # Key Vault sends no remaining-requests header
    keys = clients.keys(vault.properties.vault_uri)
    keys.create_rsa_key("first", size=2048)
    emulated.waits.clear()
    assert keys.create_rsa_key("second", size=2048).name == "second"
    assert ratelimits.refusals(env.store) == 1
    assert emulated.waits == [10.0]  # the Retry-After, once: the pacer's hold and the retry don't add up
    assert any("answered 429 (Retry-After)" in line for line in said), said


def test_a_503_is_retried_after_its_retry_after(tmp_path):
    env = make_env(tmp_path)
    emulated = EmulatedClock(env)
    clients = factory(env, tmp_path, clock=emulated.clock())
    clients.resources().resource_groups.create_or_update(RG, {"location": "westeurope"})
    env.configure_faults(transient_error_rate=0.5, retry_after_seconds=3, seed=7)
    for _ in range(6):
        assert clients.resources().resource_groups.get(RG).name == RG
    assert emulated.waits, "no 503 was met: pick another seed"
    assert set(emulated.waits) == {3.0}


def test_an_apply_under_a_tiny_budget_shows_no_429(tmp_path):
    ws = Workspace(tmp_path, EXAMPLES / "quickstart")
    env = Emulator(ws.db)
    env.configure_faults(
        arm_read_tokens=8,
        arm_read_refill_per_second=8.0,
        arm_write_tokens=4,
        arm_write_refill_per_second=4.0,
        arm_delete_tokens=4,
        arm_delete_refill_per_second=4.0,
    )
    applied = ws.ok("apply", "-auto-approve")
    assert "Apply complete!" in applied.out
    again = ws.ok("plan", "-detailed-exitcode")
    assert "No changes." in again.out
    for run in (applied, again):
        for word in ("429", "Throttled", "TooManyRequests"):
            assert word not in run.text, run.explain()
    sent = ratelimits.refusals(env.store)
    assert sent <= 5, f"{sent} requests were refused"
    env.store.close()

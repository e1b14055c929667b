"""`vaultform audit` across a tenant: every subscription the credential can see, or the named ones,
in one pass of listings, with a progress line per subscription and a report line per vault.

The local Azure hosts a second subscription (``subscriptions.add``); the quick start's vault and key
vault are copied into it under other names, its key vault without purge protection.
"""

from __future__ import annotations

import json

import pytest

from providers.azurelocal.app import Emulator
from providers.azurelocal.seed import SUBSCRIPTION_ID
from providers.azurelocal.services import subscriptions
from tests.e2e.harness import EXAMPLES, Workspace

SECOND = "7d1f0a4e-2b3c-4d5e-8f90-a1b2c3d4e5f6"


def _copy_into_second_subscription(db) -> None:
    env = Emulator(db)
    try:
        subscriptions.add(env, SECOND, "vaultform second")
        conn = env.store._conn()
        with env.store.transaction():
            rows = conn.execute("SELECT kind, id, body FROM objects").fetchall()

            def moved(text: str) -> str:
                return text.replace(SUBSCRIPTION_ID, SECOND).replace("vfqs", "vfq2")

            for kind, id_, body in rows:
                if "rg-vfqs-backup" not in id_ or "/subscriptions/" not in id_:
                    continue
                doc = json.loads(moved(body))
                if kind == "keyvault":
                    doc["properties"].pop("enablePurgeProtection", None)
                env.store.put(kind, doc["id"], doc)
            for table in ("kv_key_names", "kv_key_versions"):
                found = conn.execute(f"SELECT * FROM {table} WHERE vault = ?", ("kv-vfqs-cmk",)).fetchall()
                for row in found:
                    marks = ",".join("?" * len(row))
                    values = [moved(v) if isinstance(v, str) else v for v in row]
                    conn.execute(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", values)
    finally:
        env.store.close()


@pytest.fixture(scope="module")
def tenant(tmp_path_factory) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("tenant"), EXAMPLES / "quickstart")
    ws.ok("apply", "-auto-approve")
    _copy_into_second_subscription(ws.db)
    return ws


def test_audit_reads_every_subscription_the_credential_sees(tenant, tmp_path):
    md = tmp_path / "audit.md"
    run = tenant.run("audit", "-json", "-markdown", str(md))
    assert run.code == 2, run.explain()
    doc = json.loads(run.out)
    assert doc["subscriptions"] == [SUBSCRIPTION_ID, SECOND]
    by_name = {v["name"]: v for v in doc["vaults"]}
    assert set(by_name) == {"rsv-vfqs", "rsv-vfq2"}
    assert (by_name["rsv-vfqs"]["subscription"], by_name["rsv-vfqs"]["compliant"]) == (SUBSCRIPTION_ID, True)
    second = by_name["rsv-vfq2"]
    assert (second["subscription"], second["compliant"], second["key_vault"]) == (
        SECOND,
        False,
        "kv-vfq2-cmk",
    )
    assert {f["code"] for f in second["findings"] if f["severity"] == "error"} == {"NO_PURGE_PROTECTION"}
    assert doc["summary"]["vaults"] == 2 and doc["summary"]["non_compliant"] == 1
    assert f"audit: listing subscription {SUBSCRIPTION_ID} (1 of 2)" in run.err
    assert f"audit: audited subscription {SECOND} (2 of 2): 1 vault(s), 1 not compliant" in run.err
    lines = [line for line in md.read_text().splitlines() if line.startswith("| `rsv-")]
    assert len(lines) == 2
    assert any(f"| `rsv-vfq2` | `{SECOND}` | ❌ |" in line for line in lines), lines


def test_audit_of_named_subscriptions_reads_only_those(tenant):
    run = tenant.run("audit", "-json", "-subscription", SECOND)
    assert run.code == 2, run.explain()
    doc = json.loads(run.out)
    assert [v["name"] for v in doc["vaults"]] == ["rsv-vfq2"]
    assert "(1 of 1)" in run.err and SUBSCRIPTION_ID not in run.err
    both = tenant.run("audit", "-json", "-subscription", SUBSCRIPTION_ID, "-subscription", SECOND)
    assert [v["subscription"] for v in json.loads(both.out)["vaults"]] == [SUBSCRIPTION_ID, SECOND]


def test_a_subscription_the_local_azure_does_not_host_is_a_clear_error(tenant):
    run = tenant.run("audit", "-subscription", "00000000-0000-0000-0000-000000000000")
    assert run.code == 1, run.explain()
    assert "Traceback" not in run.text
    assert "could not be found" in run.text

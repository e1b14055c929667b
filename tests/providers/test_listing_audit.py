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
    assert any(f"| `rsv-vfq2` | `rg-vfq2-backup` | `{SECOND}` | ❌ |" in line for line in lines), lines


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


def test_a_vault_is_judged_by_its_own_key_vault_not_one_whose_name_ends_alike():
    from providers.azurerm.audit import _key_vault_for

    look_alike = {"name": "xkv-a", "properties": {"vaultUri": "https://xkv-a.vault.azure.net/"}}
    own = {"name": "kv-a", "properties": {"vaultUri": "https://kv-a.vault.azure.net/"}}
    assert _key_vault_for([look_alike, own], "https://kv-a.vault.azure.net/keys/cmk/v1") is own
    assert _key_vault_for([look_alike], "https://kv-a.vault.azure.net/keys/cmk/v1") is None


@pytest.mark.parametrize("given", ["", "not-a-guid", "/subscriptions/" + SECOND])
def test_a_subscription_that_is_not_an_id_is_refused_before_anything_is_read(tenant, given):
    run = tenant.run("audit", "-json", "-subscription", given)
    assert run.code == 1, run.explain()
    assert "Invalid subscription id" in run.text and "audit: listing" not in run.err
    assert run.out == ""


def test_a_subscription_named_twice_is_audited_once(tenant):
    run = tenant.run("audit", "-json", "-subscription", SECOND, "-subscription", SECOND.upper())
    doc = json.loads(run.out)
    assert [v["name"] for v in doc["vaults"]] == ["rsv-vfq2"], run.explain()
    assert "(1 of 1)" in run.err


def test_a_missing_directory_or_markdown_place_is_said_before_the_audit(tenant, tmp_path):
    run = tenant.run("audit", str(tmp_path / "typo"))
    assert run.code == 1 and "No directory" in run.text and "audit: listing" not in run.err
    run = tenant.run("audit", "-markdown", str(tmp_path / "nowhere" / "audit.md"))
    assert run.code == 1 and "Can't write" in run.text and "audit: listing" not in run.err


def test_a_subscription_that_cannot_be_read_leaves_the_others_audited(tenant, tmp_path):
    missing = "00000000-0000-4000-8000-000000000000"
    md = tmp_path / "audit.md"
    run = tenant.run(
        "audit", "-json", "-markdown", str(md), "-subscription", missing, "-subscription", SECOND
    )
    assert run.code == 2, run.explain()  # rsv-vfq2 is still judged (no purge protection)
    doc = json.loads(run.out)
    assert [v["name"] for v in doc["vaults"]] == ["rsv-vfq2"]
    assert doc["subscriptions"] == [SECOND]
    assert [u["subscription"] for u in doc["unreadable"]] == [missing]
    assert "could not be found" in doc["unreadable"][0]["error"]
    assert doc["summary"]["unreadable"] == 1 and doc["summary"]["exit_code"] == 2
    assert f"could not read subscription {missing}" in run.err
    assert f"subscription {missing} could not be read" in md.read_text()
    # nothing non-compliant among what was read: the unread subscription still fails the run
    alone = tenant.run("audit", "-subscription", missing, "-subscription", SUBSCRIPTION_ID)
    assert alone.code == 1, alone.explain()
    assert "Not audited:" in alone.out and "All 1 Recovery Services vault(s) are compliant." in alone.out


def test_a_throttled_read_is_read_again_without_starting_over(tenant):
    """Past the SDK's own retries, a refusal for now repeats only the step it stopped (one
    subscription's listing or judging): the subscriptions already read are not read again."""
    clean = json.loads(tenant.run("audit", "-json").out)
    tenant.cloud_ok("configure", "-throttle-rate", "0.8", "-retry-after", "0s", "-seed", "3")
    try:
        run = tenant.run("audit", "-json")
    finally:
        tenant.cloud_ok("configure", "-reset")
    assert run.code == 2, run.explain()
    assert "reading again" in run.err, run.err  # the seed makes at least one refusal outlast the SDK
    assert run.err.count(f"listing subscription {SUBSCRIPTION_ID} (1 of 2)") == 1, run.err
    doc = json.loads(run.out)
    assert [(v["name"], v["compliant"]) for v in doc["vaults"]] == [
        (v["name"], v["compliant"]) for v in clean["vaults"]
    ]


def test_nothing_read_is_not_called_a_subscription_without_vaults(tenant, tmp_path):
    run = tenant.run("audit", "-subscription", "00000000-0000-4000-8000-000000000000")
    assert run.code == 1, run.explain()
    assert "No subscription could be read: nothing was audited." in run.out
    assert "No Recovery Services vaults" not in run.out
    run = tenant.run("audit", "-markdown", str(tmp_path))  # a directory, not a file
    assert run.code == 1 and "Can't write" in run.text and "audit: listing" not in run.err

"""A refresh reads only what the plan can use, and still sees what changed out of band.

Each test applies an example on a private local Azure (``tests.e2e.harness``), counts the calls the
local Azure answers, changes something behind vaultform's back, and checks that the next plan (or
drift) both makes fewer calls and reports the change.
"""

from __future__ import annotations

import pytest
from azure.keyvault.keys._shared import http_challenge_cache
from azure.keyvault.keys._shared.http_challenge import HttpChallenge

from providers.azurelocal.app import Emulator
from providers.azurelocal.store import Kind, Store
from providers.azurerm import kv_challenge
from tests.e2e.harness import EXAMPLES, Workspace
from tests.providers.test_listing import Calls, plan_both_ways


def _edit(db, kind: str, name: str, change) -> None:
    store = Store(db)
    try:
        body = next(b for b in store.list(kind) if b["name"] == name)
        change(body)
        store.put(kind, body["id"], body)
    finally:
        store.close()


def test_a_vault_with_a_key_does_not_list_its_jobs_and_one_without_does(tmp_path, monkeypatch):
    """The jobs only tell rule R3 (no key on a vault that ever had items) what it needs: the quickstart's
    vault has its key, so no plan lists them; once Azure's vault shows no key (changed out of band),
    the plan lists them again and refuses to assign the key to a vault that had items."""
    ws = Workspace(tmp_path, EXAMPLES / "quickstart")
    ws.ok("apply", "-auto-approve")
    calls = Calls(monkeypatch)
    ws.ok("plan", "-detailed-exitcode")
    assert calls.ending("/backupJobs") == []
    assert calls.ending("/backupProtectionContainers") == []

    _edit(ws.db, Kind.RS_VAULT, "rsv-vfqs", lambda body: body["properties"].pop("encryption"))
    calls.clear()
    plan = ws.vf("plan", "-detailed-exitcode")
    assert plan.code == 1, plan.explain()
    assert "R3" in plan.text and "rsv-vfqs" in plan.text
    assert len(calls.ending("/backupJobs")) == 1


class Answers:
    """(status, host, path) of every answer the local Azure gives."""

    def __init__(self, monkeypatch) -> None:
        self.seen: list[tuple[int, str, str]] = []
        original = Emulator.handle

        def handle(emulator, request):
            response = original(emulator, request)
            self.seen.append((response.status, request.host, request.path))
            return response

        monkeypatch.setattr(Emulator, "handle", handle)

    def unauthorized(self) -> list[tuple[int, str, str]]:
        return [a for a in self.seen if a[0] == 401]


def test_a_listed_key_vault_is_read_without_drawing_key_vaults_challenge(tmp_path, monkeypatch):
    """The key vault's listed tenant answers the SDK's challenge before it is asked: a plan in a process
    that has not met the key vault yet makes no unauthenticated call, and still reads the key."""
    ws = Workspace(tmp_path, EXAMPLES / "key-rotation")
    ws.ok("apply", "-auto-approve")
    http_challenge_cache.clear()  # as in a new process
    answers = Answers(monkeypatch)
    ws.ok("plan", "-detailed-exitcode")
    assert answers.unauthorized() == []
    assert [a for a in answers.seen if a[1].endswith(".vault.azure.net") and "/keys/" in a[2]]

    # per object, nothing lists the key vault: Key Vault's challenge is drawn as before
    http_challenge_cache.clear()
    answers.seen.clear()
    monkeypatch.setenv("VAULTFORM_AZURERM_REFRESH", "per-object")
    ws.ok("plan", "-detailed-exitcode")
    assert answers.unauthorized() and all(a[1].endswith(".vault.azure.net") for a in answers.unauthorized())


EMULATED = {"vault_suffix": "vault.azure.net", "authority": "login.microsoftonline.com"}


@pytest.mark.parametrize(
    ("uri", "tenant", "signed_in"),
    [
        ("https://kv-other.vault.azure.net/", "11111111-1111-4111-8111-111111111111", "2" * 8),  # tenant
        ("https://kv-hsm.managedhsm.azure.net/", "t1", "t1"),  # not a key vault of this cloud
        ("https://kv-x.vault.azure.cn/", "t1", "t1"),  # another cloud's suffix
        ("https://deep.kv-x.vault.azure.net/", "t1", "t1"),
        ("http://kv-x.vault.azure.net/", "t1", "t1"),
        ("", "t1", "t1"),
    ],
)
def test_a_challenge_is_expected_only_for_this_clouds_key_vaults_in_the_signed_in_tenant(
    uri, tenant, signed_in
):
    http_challenge_cache.clear()
    assert kv_challenge.expect(uri, tenant, signed_in_tenant=signed_in, **EMULATED) is False
    assert http_challenge_cache.get_challenge_for_url(uri or "https://x.vault.azure.net/") is None


def test_a_challenge_key_vault_sent_is_not_replaced():
    http_challenge_cache.clear()
    uri = "https://kv-seen.vault.azure.net/"
    sent = HttpChallenge(
        uri,
        'Bearer authorization="https://login.microsoftonline.com/t-sent", resource="https://vault.azure.net"',
    )
    http_challenge_cache.set_challenge_for_url(uri, sent)
    assert kv_challenge.expect(uri, "t-mine", signed_in_tenant="t-mine", **EMULATED) is False
    assert http_challenge_cache.get_challenge_for_url(uri) is sent
    http_challenge_cache.clear()
    assert kv_challenge.expect(uri, "t-mine", signed_in_tenant="T-MINE", **EMULATED) is True
    cached = http_challenge_cache.get_challenge_for_url(uri)
    assert cached.tenant_id == "t-mine" and cached.get_resource() == "https://vault.azure.net"
    http_challenge_cache.clear()


def _group_reads(calls: Calls) -> tuple[int, int]:
    """(lists of the subscription's resource groups, GETs of one group)."""
    lists = [c for c in calls.seen if c[0] == "GET" and c[1].lower().rstrip("/").endswith("/resourcegroups")]
    gets = [c for c in calls.seen if c[0] == "GET" and c[1].lower().split("/")[-2:-1] == ["resourcegroups"]]
    return len(lists), len(gets)


def test_resource_groups_are_listed_once_when_a_run_reads_several(tmp_path, monkeypatch):
    """The multi-estate example manages two resource groups: one list answers both; a tag added to one
    of them out of band is planned as the per-object read plans it."""
    ws = Workspace(tmp_path, EXAMPLES / "multi-estate")
    ws.ok("apply", "-auto-approve")
    calls = Calls(monkeypatch)
    ws.ok("plan", "-detailed-exitcode")
    assert _group_reads(calls) == (1, 0)

    store = Store(ws.db)
    try:
        group = store.list(Kind.RESOURCE_GROUP)[0]
        group.setdefault("tags", {})["changed"] = "outside"
        store.put(Kind.RESOURCE_GROUP, group["id"], group)
    finally:
        store.close()
    calls.clear()
    per_object, listed = plan_both_ways(ws, monkeypatch, "-detailed-exitcode")
    assert "changed" in listed and group["name"] in listed
    assert _planned(listed) == _planned(per_object)


def _planned(text: str) -> list[str]:
    """A plan's text without its refresh progress, whose order follows which read finished first."""
    return [line for line in text.splitlines() if "Refreshing state..." not in line]


def test_a_single_resource_group_is_read_on_its_own(tmp_path, monkeypatch):
    ws = Workspace(tmp_path, EXAMPLES / "quickstart")
    ws.ok("apply", "-auto-approve")
    calls = Calls(monkeypatch)
    ws.ok("plan", "-detailed-exitcode")
    assert _group_reads(calls) == (0, 1)

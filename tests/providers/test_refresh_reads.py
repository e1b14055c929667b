"""A refresh reads only what the plan can use, and still sees what changed out of band.

Each test applies an example on a private local Azure (``tests.e2e.harness``), counts the calls the
local Azure answers, changes something behind vaultform's back, and checks that the next plan (or
drift) both makes fewer calls and reports the change.
"""

from __future__ import annotations

from providers.azurelocal.store import Kind, Store
from tests.e2e.harness import EXAMPLES, Workspace
from tests.providers.test_listing import Calls


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

"""A new location replaces a resource group and everything in it (tests/fixtures/replace_estate).

The deletions of a replacement run dependents first, as a destroy's do: the access policy and the
key before their key vault, the key vault before its resource group. And a key vault that stays
soft-deleted after its deletion (purge protection) holds its name, so replacing it under the same
name is refused at plan instead of failing half-way through the apply; so does a key, which would
come back as the old key.
"""

from __future__ import annotations

from tests.e2e.harness import REPO, Workspace

FIXTURE = REPO / "tests" / "fixtures" / "replace_estate"


def test_replacing_everything_deletes_dependents_first(tmp_path):
    ws = Workspace(tmp_path, FIXTURE)
    ws.ok("apply", "-auto-approve", "-var=purge_protection=false")
    moved = ws.ok("apply", "-auto-approve", "-var=purge_protection=false", "-var=location=westeurope")
    assert "6 added" not in moved.text and "Resources: 4 added, 0 changed, 4 destroyed." in moved.text
    gone = [a for a, what in moved.completed() if what == "Destruction"]
    assert gone.index("azurerm_key_vault_key.k[0]") < gone.index("azurerm_key_vault.kv")
    assert gone.index("azurerm_key_vault_access_policy.deployer") < gone.index("azurerm_key_vault.kv")
    assert gone.index("azurerm_key_vault.kv") < gone.index("azurerm_resource_group.rg")
    again = ws.ok("plan", "-detailed-exitcode", "-var=purge_protection=false", "-var=location=westeurope")
    assert "No changes" in again.text


def test_a_purge_protected_key_vault_is_not_replaced_under_its_own_name(tmp_path):
    ws = Workspace(tmp_path, FIXTURE)
    ws.ok("apply", "-auto-approve")
    before = ws.snapshot()
    refused = ws.ok("apply", "-auto-approve", "-var=location=westeurope", code=1)
    assert "[key_vault_replaced_under_its_name]" in refused.text
    assert "its purge protection keeps it soft-deleted for 7 days" in refused.text
    assert ws.snapshot() == before, "a refused plan changed something"
    renamed = ws.ok("apply", "-auto-approve", "-var=location=westeurope", "-var=key_vault_name=kv-vfmove-02")
    assert "Apply complete!" in renamed.text


def test_a_key_is_not_replaced_under_its_own_name_where_it_stays_soft_deleted(tmp_path):
    ws = Workspace(tmp_path, FIXTURE)
    ws.ok("apply", "-auto-approve")
    refused = ws.ok("plan", "-var=key_size=4096", code=1)
    assert "[key_replaced_under_its_name]" in refused.text and "(its key_size changes)" in refused.text


def test_a_key_is_replaced_under_its_own_name_where_destroy_purges_it(tmp_path):
    ws = Workspace(tmp_path, FIXTURE)
    ws.ok("apply", "-auto-approve", "-var=purge_protection=false")
    ws.ok("apply", "-auto-approve", "-var=purge_protection=false", "-var=key_size=4096")
    keys = [r for r in ws.state()["resources"] if r["type"] == "azurerm_key_vault_key"]
    assert keys[0]["instances"][0]["attributes"]["key_size"] == 4096


def test_a_key_that_would_come_back_different_is_refused(tmp_path):
    # removed, then written again with another size: its soft-deleted namesake would be recovered
    ws = Workspace(tmp_path, FIXTURE)
    ws.ok("apply", "-auto-approve")
    ws.ok("apply", "-auto-approve", "-var=with_key=false")
    refused = ws.ok("plan", "-var=key_size=4096", code=1)
    assert "[soft_deleted_key_differs]" in refused.text and "key_size 2048, not 4096" in refused.text
    same = ws.ok("apply", "-auto-approve")
    assert "will be recovered, not created" in same.text


def test_a_key_vault_that_would_come_back_in_its_old_resource_group_is_refused(tmp_path):
    ws = Workspace(tmp_path, FIXTURE)
    ws.ok("apply", "-auto-approve")
    ws.ok("destroy", "-auto-approve")  # the key vault stays soft-deleted: purge protection
    (ws.dir / "main.tf").write_text((ws.dir / "main.tf").read_text().replace('"rg-vfmove"', '"rg-vfmove-2"'))
    refused = ws.ok("plan", code=1)
    assert "[soft_deleted_key_vault_elsewhere]" in refused.text and "'rg-vfmove'" in refused.text

"""Azure Backup's hard parts, end to end on the local Azure as it runs by default.

* Backup items are soft-deleted for 14 days: a protected VM removed from the configuration stays
  in the vault, soft-deleted; refresh treats it as gone (as azurerm does), a destroy of the vault is
  refused at plan time with the ways out, and protecting the VM again recovers it.
* Backup operations are asynchronous: the container refresh (VM discovery) and a policy write
  answer 202 and finish later; the first apply still converges.
"""

from __future__ import annotations

from pathlib import Path

from providers.azurelocal.app import Emulator
from providers.azurelocal.store import Kind
from tests.e2e.harness import EXAMPLES, Workspace

PROTECTED_VM_BLOCK_START = 'resource "azurerm_backup_protected_vm" "app" {'


def _without_protected_vm(text: str) -> str:
    start = text.index(PROTECTED_VM_BLOCK_START)
    end = text.index("\n}\n", start) + 3
    return text[:start] + text[end:]


def test_a_soft_deleted_backup_is_gone_for_plans_keeps_the_vault_and_comes_back(tmp_path):
    ws = Workspace(tmp_path, EXAMPLES / "quickstart")
    ws.ok("apply", "-auto-approve")
    main_tf = ws.dir / "main.tf"
    original = main_tf.read_text()
    main_tf.write_text(_without_protected_vm(original))
    removed = ws.ok("apply", "-auto-approve")
    assert "azurerm_backup_protected_vm.app: Destruction complete" in removed.out
    assert "azurerm_backup_protected_vm.app" not in ws.state_addresses()
    # Azure keeps the item, soft-deleted; refresh reads it as gone, so nothing is planned for it
    ws.ok("plan", "-detailed-exitcode")
    refused = ws.ok("plan", "-destroy", code=1)
    assert "[R15]" in refused.text
    assert "keeps the backups of vm-app-01 soft-deleted until" in refused.text
    assert "(14 days from now)" in refused.text or "(13 days from now)" in refused.text
    assert "soft_delete_enabled = false" in refused.text and "vaultform state rm" in refused.text
    # protecting the VM again recovers the soft-deleted backup (azurerm's default) on the first apply
    main_tf.write_text(original)
    back = ws.ok("apply", "-auto-approve")
    assert "Resources: 1 added" in back.out
    ws.ok("plan", "-detailed-exitcode")


def test_asynchronous_backup_operations_converge_on_the_first_apply(tmp_path):
    ws = Workspace(tmp_path, EXAMPLES / "quickstart")
    applied = ws.ok("apply", "-auto-approve")
    assert "azurerm_backup_protected_vm.app: Creation complete" in applied.out
    # the waits are the executor's visible retries, with Azure's Retry-After, never silent sleeps
    assert "Azure is still writing the backup policy daily-30d" in applied.out
    assert "vault rsv-vfqs is discovering virtual machines (container refresh)" in applied.out
    # Azure's operations under way are waits, not failed attempts
    assert "Attempt 1 failed: Azure is still writing" not in applied.out
    assert "daily-30d (operation " in applied.out and "; checking again in " in applied.out
    ws.ok("plan", "-detailed-exitcode")
    env = Emulator(ws.db)
    try:
        ops = [o for o in env.store.list(Kind.OPERATION, "/subscriptions/") if o.get("_doneAt")]
    finally:
        env.store.close()
    by_name = {o["operation"]: o for o in ops}
    # both ran as Azure runs them: accepted first, finished later on the emulator clock
    for name in ("RefreshContainers", "CreateOrUpdatePolicy"):
        assert name in by_name, sorted(by_name)
        op = by_name[name]
        assert op["status"] == "Succeeded" and op["endTime"] > op["startTime"], op


EVERY_ARGUMENT = Path(__file__).parent / "fixtures" / "backup_every_argument"


def test_every_backup_argument_is_applied_and_compared(tmp_path):
    ws = Workspace(tmp_path, EVERY_ARGUMENT)
    checked = ws.ok("validate")
    assert "neither applied nor compared" not in checked.text
    applied = ws.ok("apply", "-auto-approve")
    assert "neither applied nor compared" not in applied.text
    ws.ok("plan", "-detailed-exitcode")
    policy = ws.state()["resources"]
    hourly = next(r for r in policy if r["name"] == "hourly")["instances"][0]["attributes"]
    assert hourly["tiering_policy"][0]["archived_restore_point"][0]["duration_type"] == "Months"
    assert hourly["consistency_type"] == "OnlyCrashConsistent"
    assert hourly["instant_restore_resource_group"] == [{"prefix": "rg-irp-", "suffix": "-snap"}]
    # a changed argument is an in-place update that converges too
    main_tf = ws.dir / "main.tf"
    main_tf.write_text(
        main_tf.read_text().replace("exclude_disk_luns   = [1, 2]", "exclude_disk_luns   = [3]")
    )
    changed = ws.ok("plan", "-detailed-exitcode", code=2)
    assert "exclude_disk_luns" in changed.out
    ws.ok("apply", "-auto-approve")
    ws.ok("plan", "-detailed-exitcode")
    # and removing it backs every disk up again
    main_tf.write_text(main_tf.read_text().replace("  exclude_disk_luns   = [3]\n", ""))
    ws.ok("apply", "-auto-approve")
    ws.ok("plan", "-detailed-exitcode")

"""Destroying one object of a CMK estate: the others have nothing to do and wait for nothing,
so the dependencies recorded through the vault's key assignment don't make a cycle."""

from __future__ import annotations

from tests.e2e.harness import EXAMPLES, Workspace


def test_destroy_target_one_protected_vm_of_the_quickstart(tmp_path):
    ws = Workspace(tmp_path, EXAMPLES / "quickstart")
    ws.ok("apply", "-auto-approve")
    before = ws.state_addresses()
    gone = ws.ok("destroy", "-target", "azurerm_backup_protected_vm.app", "-auto-approve")
    assert "apply order has a cycle" not in gone.text
    assert "Destroy complete! Resources: 1 destroyed." in gone.out
    assert ws.state_addresses() == before - {"azurerm_backup_protected_vm.app"}
    assert ws.ok("plan", "-detailed-exitcode", code=2).code == 2  # the VM is to be protected again

"""From the command line: applying a configuration never takes over objects it doesn't manage.

Two configuration directories share one local Azure database; and a key forgotten with
``vaultform state rm`` is not "created" again (which would add a version to it).
"""

from __future__ import annotations

import shlex
from pathlib import Path

from providers.azurerm.provider import AzurermProvider
from providers.base import ImportRequest
from tests.e2e.harness import Workspace

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers_already_exists"


def _refusal(run, address: str) -> None:
    assert run.code == 1, run.explain()
    assert "internal error" not in run.text and "Traceback" not in run.text, run.explain()
    assert "ResourceAlreadyExists" in run.text, run.explain()
    assert f"vaultform import {address.split('.')[0]}." in run.text.replace("\n  ", " "), run.explain()
    assert address in run.text, run.explain()


def test_a_second_configuration_on_the_same_local_azure_is_refused(tmp_path):
    first = Workspace(tmp_path, FIXTURES / "shared_vault", "first")
    second = Workspace(tmp_path, FIXTURES / "shared_vault", "second")  # same root: same database
    first.ok("apply", "-auto-approve")
    run = second.vf("apply", "-auto-approve", "-var", "owner=second")
    _refusal(run, "azurerm_resource_group.shared")
    groups = [
        g
        for g in first.inventory().get("resourcegroup", first.inventory().get("resource_group", []))
        if g.get("name") == "rg-vfqa-shared"
    ]
    vaults = [v for v in first.inventory().get("rsvault", []) if v.get("name") == "rsv-vfqa-shared"]
    for found in (groups, vaults):
        assert all((doc.get("tags") or {}).get("owner") == "first" for doc in found), found
    assert "azurerm_recovery_services_vault.shared" not in (
        second.state_addresses() if second.state_path.exists() else set()
    )
    first.ok("plan", "-detailed-exitcode", code=0)  # the first configuration still owns them


def test_a_key_removed_from_state_is_not_created_again(tmp_path):
    ws = Workspace(tmp_path, FIXTURES / "removed_key")
    ws.ok("apply", "-auto-approve")
    before = next(r for r in ws.state()["resources"] if r["type"] == "azurerm_key_vault_key")
    attributes = before["instances"][0]["attributes"]
    removed = ws.run("state", "rm", "-state", str(ws.state_path), "azurerm_key_vault_key.backup")
    assert removed.code == 0, removed.explain()
    run = ws.vf("apply", "-auto-approve")
    _refusal(run, "azurerm_key_vault_key.backup")
    assert "azurerm_key_vault_key.backup" not in ws.state_addresses()
    provider = AzurermProvider(environ={"VAULTFORM_LOCAL_AZURE": str(ws.db)})
    try:
        now = provider.import_(ImportRequest("azurerm_key_vault_key", attributes["versionless_id"])).state
    finally:
        provider.close()
    assert now["version"] == attributes["version"]  # no version was added by the refused apply


def test_the_import_hint_survives_a_shell_for_an_instance_with_a_key():
    from providers.azurerm.provider import already_exists

    address = 'azurerm_key_vault_access_policy.deployer["hr"]'
    object_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/objectId/o"
    message = already_exists("azurerm_key_vault_access_policy", object_id, address).message
    command = message.split("the state: ", 1)[1].split(" - or give", 1)[0]
    assert shlex.split(command) == ["vaultform", "import", address, object_id]

"""Adopting objects with plan -generate-config-out, on the local Azure, as a user would.

tests/fixtures/generate_config/create makes a key vault, a key and a backup policy; `state rm`
lets go of them; tests/fixtures/generate_config/adopt imports them into new addresses with
import blocks only, and plan writes their resource blocks. With that file kept, plan shows the
imports, apply records them, and the next plan has nothing to do.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from reconciler.fmt import format_source
from tests.e2e.harness import Workspace

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "generate_config"
ADOPTED = ("azurerm_backup_policy_vm.adopted", "azurerm_key_vault.adopted", "azurerm_key_vault_key.adopted")


def _created(tmp_path: Path) -> tuple[Workspace, dict[str, str]]:
    ws = Workspace(tmp_path, FIXTURES / "create")
    ws.ok("apply", "-auto-approve")
    ids = {name: out["value"] for name, out in ws.state()["outputs"].items()}
    gone = ws.run(
        "state",
        "rm",
        "-state",
        str(ws.state_path),
        "azurerm_key_vault.cmk",
        "azurerm_key_vault_key.backup",
        "azurerm_backup_policy_vm.daily",
    )
    assert gone.code == 0, gone.explain()
    (ws.dir / "main.tf").unlink()
    shutil.copy(FIXTURES / "adopt" / "main.tf", ws.dir / "main.tf")
    (ws.dir / "terraform.tfvars").write_text("".join(f'{k} = "{v}"\n' for k, v in sorted(ids.items())))
    return ws, ids


def test_generated_configuration_adopts_the_objects(tmp_path):
    ws, ids = _created(tmp_path)
    generated = ws.dir / "generated.tf"

    refused = ws.ok("plan", code=1)  # no resource blocks: the error names the flag
    assert "-generate-config-out=generated.tf" in refused.text

    planned = ws.ok("plan", f"-generate-config-out={generated}")
    assert "Plan: 3 to import, 0 to add, 0 to change, 0 to destroy." in planned.out, planned.explain()
    assert planned.out.count("# (config will be generated)") == 3
    assert f"vaultform has generated configuration and written it to {generated}." in planned.out
    text = generated.read_text()
    assert text.startswith(
        "# __generated__ by Terraform\n"
        "# Please review these resources and move them into your main configuration files.\n"
    )
    for ident in ids.values():
        assert f'# __generated__ by Terraform from "{ident}"\n' in text
    assert format_source(text) == text  # as `vaultform fmt` leaves it
    assert 'resource "azurerm_key_vault" "adopted" {' in text
    assert '  key_opts        = ["wrapKey", "unwrapKey"]' in text
    assert '  backup {\n    frequency     = "Daily"' in text
    assert "vault_uri" not in text and "public_key_pem" not in text  # computed only: not configuration
    assert "enable_rbac_authorization" not in text  # deprecated: left out, as terraform does

    again = ws.ok("plan")  # the file kept: ordinary imports now
    assert "Plan: 3 to import, 0 to add, 0 to change, 0 to destroy." in again.out, again.explain()
    assert "config will be generated" not in again.out
    applied = ws.ok("apply", "-auto-approve")
    assert "3 imported, 0 added, 0 changed, 0 destroyed" in applied.out, applied.explain()
    assert set(ADOPTED) <= ws.state_addresses()
    settled = ws.ok("plan", "-detailed-exitcode")
    assert "No changes." in settled.out, settled.explain()


def test_an_object_that_does_not_exist_writes_nothing(tmp_path):
    ws, ids = _created(tmp_path)
    missing = ids["key_vault_id"].replace("kv-vfgen-cmk", "kv-vfgen-none")
    tfvars = ws.dir / "terraform.tfvars"
    tfvars.write_text(tfvars.read_text().replace(ids["key_vault_id"], missing))
    before = ws.snapshot()
    failed = ws.ok("plan", f"-generate-config-out={ws.dir / 'generated.tf'}", code=1)
    assert "Cannot import an object that does not exist" in failed.text
    assert "kv-vfgen-none" in failed.text
    assert not (ws.dir / "generated.tf").exists()
    assert ws.snapshot().state == before.state

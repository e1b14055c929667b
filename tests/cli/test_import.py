"""`vaultform import` and `import` blocks against the local Azure: round trips through the state."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from reconciler.plan.planfile_crypto import KEY_ENV
from state.format import decode_state

CONFIG = """
resource "azurerm_resource_group" "rg" {
  name     = "rg-import-%(suffix)s"
  location = "westeurope"
  tags     = { purpose = "import" }
}

resource "azurerm_user_assigned_identity" "backup" {
  name                = "id-import-%(suffix)s"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
}

resource "terraform_data" "marker" {
  count = 2
  input = "m${count.index}"
}
"""


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def applied(tmp_path, monkeypatch) -> Path:
    """A configuration whose objects exist: applied once."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(KEY_ENV, raising=False)
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "main.tf").write_text(CONFIG % {"suffix": uuid.uuid4().hex[:8]})
    code, out, err = run("apply", str(cfg), "-auto-approve")
    assert code == 0, out + err
    return cfg


def state_of(cfg: Path):
    return decode_state((cfg / "vaultform.tfstate").read_bytes())


def forget(cfg: Path, *addresses: str) -> None:
    code, _, err = run("state", "rm", "-state", str(cfg / "vaultform.tfstate"), *addresses)
    assert code == 0, err


def test_rm_plans_a_create_and_import_brings_the_object_back_unchanged(applied):
    before = state_of(applied)
    rg = dict(before.instance("azurerm_resource_group.rg").attributes)
    ident = dict(before.instance("azurerm_user_assigned_identity.backup").attributes)
    forget(applied, "azurerm_resource_group.rg", "azurerm_user_assigned_identity.backup")

    code, out, _ = run("plan", str(applied), "-detailed-exitcode")
    assert code == 2
    assert "azurerm_resource_group.rg will be created" in out
    assert "azurerm_user_assigned_identity.backup will be created" in out

    for address, attrs in (
        ("azurerm_resource_group.rg", rg),
        ("azurerm_user_assigned_identity.backup", ident),
    ):
        code, out, err = run("import", str(applied), address, attrs["id"])
        assert code == 0, err
        assert "Import successful!" in out
    after = state_of(applied)
    assert dict(after.instance("azurerm_resource_group.rg").attributes) == rg
    got = dict(after.instance("azurerm_user_assigned_identity.backup").attributes)
    # Azure reads back unset optional arguments as null where the create echoed the configuration's
    # zero values ({} tags); the plan below treats both alike
    for name in ("id", "name", "location", "resource_group_name", "principal_id", "client_id", "tenant_id"):
        assert got[name] == ident[name], name
    assert after.resource("azurerm_resource_group.rg").provider == "azurerm"

    code, out, err = run("plan", str(applied), "-detailed-exitcode")
    assert code == 0, out + err


def test_import_refusals(applied):
    rg_id = state_of(applied).instance("azurerm_resource_group.rg").attributes["id"]
    text = (applied / "vaultform.tfstate").read_text()

    code, _, err = run("import", str(applied), "azurerm_resource_group.rg", rg_id)
    assert code == 1 and "is already managed" in err and "state rm" in err

    code, _, err = run("import", str(applied), "azurerm_resource_group.other", rg_id)
    assert code == 1
    assert "azurerm_resource_group.other is not in the configuration" in err
    assert 'resource "azurerm_resource_group" "other"' in err
    assert "azurerm_resource_group.rg (" in err and "main.tf:2)" in err

    code, _, err = run("import", str(applied), "terraform_data.marker", "x")
    assert code == 1 and "the resource uses count" in err and "main.tf" in err

    forget(applied, "azurerm_resource_group.rg")
    text = (applied / "vaultform.tfstate").read_text()
    code, _, err = run("import", str(applied), "azurerm_resource_group.rg", rg_id + "-missing")
    assert code == 1 and "does not exist" in err
    assert (applied / "vaultform.tfstate").read_text() == text

    code, _, err = run("import", str(applied), "azurerm_resource_group", rg_id)
    assert code == 1 and "Invalid address" in err
    code, _, err = run("import", str(applied))
    assert code == 1 and "ADDRESS ID" in err
    assert "Traceback" not in err


def test_import_blocks_plan_as_imports_and_apply_records_them(applied, tmp_path):
    rg_id = state_of(applied).instance("azurerm_resource_group.rg").attributes["id"]
    forget(applied, "azurerm_resource_group.rg", "terraform_data.marker[1]")
    (applied / "imports.tf").write_text(
        f'import {{\n  to = azurerm_resource_group.rg\n  id = "{rg_id}"\n}}\n\n'
        'import {\n  for_each = { "imported-marker" = 1 }\n  to = terraform_data.marker[each.value]\n'
        "  id = each.key\n}\n"
    )
    stored = (applied / "vaultform.tfstate").read_text()

    code, out, err = run("plan", str(applied), "-detailed-exitcode")
    assert code == 2, err
    assert "azurerm_resource_group.rg will be imported" in out
    assert "azurerm_resource_group.rg will be created" not in out
    assert "1 to import" in out or "2 to import" in out
    assert (applied / "vaultform.tfstate").read_text() == stored  # plan changes nothing

    code, out, err = run("plan", str(applied), "-json")
    changes = [json.loads(line)["change"] for line in out.splitlines() if '"planned_change"' in line]
    assert code == 0 and {"id": rg_id} in [c.get("importing") for c in changes]

    planfile = tmp_path / "imports.plan"
    assert run("plan", str(applied), "-out", str(planfile))[0] == 0
    code, out, err = run("apply", str(planfile))
    assert code == 0, out + err
    state = state_of(applied)
    assert state.instance("azurerm_resource_group.rg").attributes["id"] == rg_id
    assert state.instance("terraform_data.marker[1]") is not None

    code, out, err = run("plan", str(applied), "-detailed-exitcode")  # the blocks may stay: a no-op now
    assert code in (0, 2), err
    assert "will be imported" not in out and "will be created" not in out


def test_import_block_errors_point_at_the_block(applied):
    (applied / "imports.tf").write_text('import {\n  to = azurerm_key_vault.missing\n  id = "x"\n}\n')
    code, _, err = run("plan", str(applied))
    assert code == 1
    assert "azurerm_key_vault.missing is not in the configuration" in err
    assert "imports.tf" in err and "line 1" in err

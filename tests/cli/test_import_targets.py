"""`vaultform import` refuses addresses the configuration's count/for_each does not produce.

An object imported where the configuration has no instance is planned for destroy by the next
apply, so the target is checked against the expansion (with the run's variables) before the
cloud is read or the state written.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from state.format import decode_state

FIXTURE = Path(__file__).parent.parent / "fixtures" / "cli_state" / "command_import_targets"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def cfg(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    target = tmp_path / "cfg"
    shutil.copytree(FIXTURE, target)
    return target


@pytest.mark.parametrize(
    "address, message",
    [
        ('azurerm_user_assigned_identity.id["b"]', 'gives no instance ["b"]'),
        ("terraform_data.marker[2]", "gives no instance [2]"),
        ("terraform_data.marker[-1]", "gives no instance"),
        (
            "module.pool.terraform_data.member[3]",
            "count of module.pool.terraform_data.member gives no instance [3]",
        ),
    ],
)
def test_a_key_the_expansion_lacks_is_refused(cfg, address, message):
    code, out, err = run("import", str(cfg), address, "/subscriptions/0/resourceGroups/rg")
    assert code == 1
    assert "Configuration for import target does not exist" in err
    assert message in err
    assert "Importing from ID" not in out
    assert not (cfg / "vaultform.tfstate").exists()


def test_the_message_names_the_instances_there_are(cfg):
    _, _, err = run("import", str(cfg), "terraform_data.marker[5]", "x")
    assert "terraform_data.marker[0], terraform_data.marker[1]." in err
    assert "main.tf:27" in err


@pytest.mark.parametrize(
    "address, message",
    [
        ('azurerm_resource_group.rg["a"]', "neither count nor for_each"),
        ("azurerm_user_assigned_identity.id", "the resource uses for_each"),
        ("terraform_data.marker", "the resource uses count"),
        ("module.pool[0].terraform_data.member[0]", "module.pool has neither count nor for_each"),
    ],
)
def test_a_key_of_the_wrong_shape_is_refused(cfg, address, message):
    code, _, err = run("import", str(cfg), address, "x")
    assert code == 1 and message in err
    assert not (cfg / "vaultform.tfstate").exists()


def test_an_expansion_that_depends_on_other_objects_is_said_unknowable(cfg):
    code, _, err = run("import", str(cfg), 'terraform_data.by_group["k"]', "x")
    assert code == 1
    assert 'Cannot tell whether terraform_data.by_group["k"] exists in the configuration' in err
    assert "import block" in err
    assert not (cfg / "vaultform.tfstate").exists()


def test_existing_instances_are_imported_with_the_run_variables(cfg):
    code, out, err = run("import", str(cfg), "terraform_data.marker[1]", "m1")
    assert code == 0, err
    assert "Import successful!" in out
    code, _, err = run("import", str(cfg), "module.pool.terraform_data.member[2]", "p2")
    assert code == 0, err
    code, _, err = run("import", str(cfg), "terraform_data.marker[4]", "m4")
    assert code == 1 and "gives no instance [4]" in err
    code, _, err = run("import", "-var", "markers=5", str(cfg), "terraform_data.marker[4]", "m4")
    assert code == 0, err
    state = decode_state((cfg / "vaultform.tfstate").read_bytes())
    assert state.instance("terraform_data.marker[1]") is not None
    assert state.instance("terraform_data.marker[4]") is not None
    assert state.instance("module.pool.terraform_data.member[2]") is not None


def test_usage_names_one_address_and_id(cfg):
    code, _, err = run("import", str(cfg), "terraform_data.marker[0]", "m0", "terraform_data.marker[1]", "m1")
    assert code == 1
    assert "import takes one ADDRESS and one ID" in err
    assert "usage: vaultform import [options] [DIR] ADDRESS ID" in err
    assert not (cfg / "vaultform.tfstate").exists()

"""`vaultform providers` prints what `terraform providers` prints for the same configuration and state."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler.cli.cmd_providers import BUILTIN
from reconciler.cli.main import main
from reconciler.cli.output import Output

TERRAFORM = shutil.which("terraform")


def _vaultform(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), output=Output(out=out, err=io.StringIO(), no_color=True))
    return code, out.getvalue()


def _terraform(cwd: Path, *args: str) -> str:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    done = subprocess.run([TERRAFORM, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _configuration(root: Path) -> Path:
    (root / "modules" / "names").mkdir(parents=True)
    (root / "main.tf").write_text(
        'terraform {\n  required_providers {\n    azurerm = {\n      source  = "hashicorp/azurerm"\n'
        '      version = "~> 4.0"\n    }\n  }\n}\n'
        'resource "terraform_data" "a" {}\n'
        'module "names" {\n  source = "./modules/names"\n}\n'
        'module "more" {\n  source = "./modules/names"\n}\n'
    )
    (root / "modules" / "names" / "main.tf").write_text('resource "random_pet" "p" {}\n')
    return root


@pytest.mark.skipif(TERRAFORM is None, reason="install terraform to compare with it")
def test_configuration_tree_matches_terraform(tmp_path):
    # one module call, and the lines compared as a set: terraform lists a module's providers
    # (and sibling modules) in Go's random map order; vaultform sorts them
    root = _configuration(tmp_path)
    (root / "main.tf").write_text((root / "main.tf").read_text().split('module "more"')[0])
    _terraform(root, "get", "-no-color")  # terraform needs its local modules "installed" first
    code, ours = _vaultform("providers", str(root))
    theirs = _terraform(root, "providers", "-no-color")
    assert code == 0 and ours.splitlines()[:3] == theirs.splitlines()[:3]
    assert sorted(ours.splitlines()) == sorted(theirs.splitlines())


@pytest.mark.skipif(TERRAFORM is None, reason="install terraform to compare with it")
def test_state_section_matches_terraform(tmp_path):
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    for d in (theirs, ours):
        d.mkdir()
        (d / "main.tf").write_text('resource "terraform_data" "a" {\n  input = 1\n}\n')
    _terraform(theirs, "init", "-no-color")
    _terraform(theirs, "apply", "-auto-approve", "-no-color")
    assert _vaultform("apply", str(ours), "-auto-approve", "-no-color")[0] == 0
    expected = _terraform(theirs, "providers", "-no-color")
    assert "Providers required by state" in expected
    assert _vaultform("providers", str(ours)) == (0, expected)


def test_modules_called_twice_each_get_a_branch(tmp_path):
    code, out = _vaultform("providers", str(_configuration(tmp_path)))
    assert code == 0
    assert out.splitlines()[3:] == [
        "├── provider[registry.terraform.io/hashicorp/azurerm] ~> 4.0",
        "├── provider[terraform.io/builtin/terraform]",
        "├── module.more",
        "│\u00a0\u00a0 └── provider[registry.terraform.io/hashicorp/random]",
        "└── module.names",
        "    └── provider[registry.terraform.io/hashicorp/random]",
        "",
    ]


def _without_descriptions(value, *, kinds: bool = False):
    """The schema without its words (and, with ``kinds``, without saying whether they are markdown)."""
    dropped = {"description", "description_kind"} if kinds else {"description"}
    if isinstance(value, dict):
        return {k: _without_descriptions(v, kinds=kinds) for k, v in value.items() if k not in dropped}
    return value


@pytest.mark.skipif(TERRAFORM is None, reason="install terraform to compare with it")
def test_schema_json_has_terraforms_shape(tmp_path):
    # `providers schema -json` was refused ("flag provided but not defined: -json")
    (tmp_path / "main.tf").write_text('resource "terraform_data" "a" {\n  input = 1\n}\n')
    _terraform(tmp_path, "init", "-no-color")
    theirs = json.loads(_terraform(tmp_path, "providers", "schema", "-json"))
    code, text = _vaultform("-chdir=" + str(tmp_path), "providers", "schema", "-json")
    ours = json.loads(text)
    assert code == 0 and text.endswith("}\n") and "\n" not in text[:-1]  # one line, as terraform's
    assert ours["format_version"] == theirs["format_version"]
    assert list(ours["provider_schemas"]) == list(theirs["provider_schemas"])
    mine, its = ours["provider_schemas"][BUILTIN], theirs["provider_schemas"][BUILTIN]
    assert mine["provider"] == its["provider"]
    assert _without_descriptions(mine["resource_schemas"]) == _without_descriptions(its["resource_schemas"])
    # the same arguments of terraform_remote_state, each typed and flagged as terraform's (its
    # own descriptions are markdown)
    assert _without_descriptions(mine["data_source_schemas"], kinds=True) == _without_descriptions(
        its["data_source_schemas"], kinds=True
    )


def test_schema_json_of_the_azurerm_provider_lists_its_nested_blocks(tmp_path):
    (tmp_path / "main.tf").write_text(
        'resource "azurerm_resource_group" "rg" {\n  name = "rg"\n  location = "westeurope"\n}\n'
    )
    code, text = _vaultform("-chdir=" + str(tmp_path), "providers", "schema", "-json")
    schemas = json.loads(text)["provider_schemas"]
    assert code == 0 and list(schemas) == ["registry.terraform.io/hashicorp/azurerm"]
    vault = schemas["registry.terraform.io/hashicorp/azurerm"]["resource_schemas"][
        "azurerm_recovery_services_vault"
    ]
    identity = vault["block"]["block_types"]["identity"]
    assert identity["nesting_mode"] == "list" and identity["max_items"] == 1
    assert vault["block"]["attributes"]["name"]["required"] is True
    assert identity["block"]["attributes"]["identity_ids"]["type"] == ["set", "string"]


def test_schema_needs_json_and_lock_and_mirror_have_nothing_to_fetch(tmp_path):
    (tmp_path / "main.tf").write_text('resource "terraform_data" "a" {}\n')
    chdir = "-chdir=" + str(tmp_path)
    assert _vaultform(chdir, "providers", "schema")[0] == 1
    code, out = _vaultform(chdir, "providers", "lock")
    assert code == 0 and "nothing to lock" in out
    assert not (tmp_path / ".terraform.lock.hcl").exists()
    code, out = _vaultform(chdir, "providers", "mirror", str(tmp_path / "mirror"))
    assert (code, out) == (0, f"- Skipping {BUILTIN} because it is built in to vaultform\n")
    assert _vaultform(chdir, "providers", "mirror")[0] == 1

"""Small things a Terraform user tripped on: each fails on the code before its fix."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess

import pytest

from providers.azurerm.ids import InvalidIdError, parse_resource_id
from reconciler.cli.main import main
from reconciler.cli.output import Output
from reconciler.modinstall.versions import admits_at_least
from reconciler.validate import validate_directory


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


def test_import_with_one_argument_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _out, err = _run("import", "azurerm_key_vault.cmk")
    assert code == 1
    assert "import needs the ADDRESS to import into and the ID" in err
    assert "extra" not in err


def test_a_child_resource_id_example_names_its_parent():
    with pytest.raises(InvalidIdError) as info:
        parse_resource_id(
            "/subscriptions/0/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv",
            expect="Microsoft.RecoveryServices/vaults/backupPolicies",
        )
    assert "Microsoft.RecoveryServices/vaults/<vault>/backupPolicies/<name>" in str(info.value)


def test_restore_of_an_unknown_recovery_point_points_at_the_recovery_point_listing(tmp_path):
    code, out, err = _run("cloud", "restore", "no-such-point", "-db", str(tmp_path / "azure.db"))
    assert code == 1
    assert "vaultform cloud show recovery-points" in out + err


KEY_VAULT = """terraform {
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "%s"
    }
  }
}
resource "azurerm_key_vault" "kv" {
  name                      = "kv-backup-cmk"
  location                  = "westeurope"
  resource_group_name       = "rg-backup"
  tenant_id                 = "00000000-0000-0000-0000-000000000000"
  sku_name                  = "standard"
  purge_protection_enabled  = true
  enable_rbac_authorization = true
}
"""


@pytest.mark.parametrize(
    "constraint, deprecated",
    [("~> 3.117", False), (">= 3.0, < 4.42", False), ("~> 4.0", True), ("= 4.50.0", True), (">= 3.0", True)],
)
def test_enable_rbac_authorization_is_deprecated_only_where_the_new_name_exists(
    tmp_path, constraint, deprecated
):
    (tmp_path / "main.tf").write_text(KEY_VAULT % constraint)
    found = [d for d in validate_directory(tmp_path).diagnostics if d.code == "deprecated_argument"]
    assert bool(found) is deprecated


@pytest.mark.parametrize(
    "constraint, floor, expected",
    [
        (None, "4.42.0", True),
        ("~> 3.0", "4.42.0", False),
        ("~> 4.41.0", "4.42.0", False),
        ("> 4.41.9", "4.42.0", True),
        ("!= 4.42.0, < 4.42.1", "4.42.0", False),
        ("<= 4.42.0", "4.42.0", True),
    ],
)
def test_admits_at_least(constraint, floor, expected):
    assert admits_at_least(constraint, floor) is expected


IMPORTING = """import {
  to = terraform_data.kept
  id = "kept-1"
}
resource "terraform_data" "kept" {}
resource "terraform_data" "new" {
  input = "x"
}
"""


def _closing_line(text: str) -> str:
    return next(line for line in reversed(text.splitlines()) if " complete! " in line)


@pytest.mark.skipif(shutil.which("terraform") is None, reason="install terraform to compare with it")
def test_apply_and_destroy_closing_lines_count_as_terraform_does(tmp_path, monkeypatch):
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    for d in (theirs, ours):
        d.mkdir()
        (d / "main.tf").write_text(IMPORTING)

    def tf(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["terraform", *args, "-no-color"], cwd=theirs, env=env, capture_output=True, text=True
        )

    assert tf("init").returncode == 0
    monkeypatch.chdir(ours)
    applied_t, applied_v = tf("apply", "-auto-approve").stdout, _run("apply", "-auto-approve")[1]
    assert (
        _closing_line(applied_v)
        == _closing_line(applied_t)
        == ("Apply complete! Resources: 1 imported, 1 added, 0 changed, 0 destroyed.")
    )
    destroyed_t, destroyed_v = tf("destroy", "-auto-approve").stdout, _run("destroy", "-auto-approve")[1]
    assert (
        _closing_line(destroyed_v)
        == _closing_line(destroyed_t)
        == "Destroy complete! Resources: 2 destroyed."
    )


def test_a_failed_create_tells_its_reason_once(tmp_path):
    """The reason appears in the error, not again on the progress line and in the summary."""
    (tmp_path / "main.tf").write_text('resource "random_integer" "n" {\n  min = "${9}"\n  max = 1\n}\n')
    code, out, err = _run("apply", str(tmp_path), "-auto-approve")
    assert code == 1
    assert (out + err).count("is greater than max") == 1


OUTPUTS = """resource "terraform_data" "a" {
  input = "x"
}

output "o" {
  value = terraform_data.a.output
}

output "n" {
  value = 3
}
"""


@pytest.mark.skipif(shutil.which("terraform") is None, reason="install terraform to compare with it")
def test_apply_prints_its_outputs_as_terraform_does(tmp_path, monkeypatch):
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    for d in (theirs, ours):
        d.mkdir()
        (d / "main.tf").write_text(OUTPUTS)
    run = {"cwd": theirs, "env": env, "capture_output": True, "text": True}
    assert subprocess.run(["terraform", "init", "-no-color"], **run).returncode == 0
    applied_t = subprocess.run(["terraform", "apply", "-auto-approve", "-no-color"], **run).stdout
    monkeypatch.chdir(ours)
    applied_v = _run("apply", "-auto-approve")[1]

    def tail(text: str) -> str:
        return text[text.index("Apply complete!") :]

    assert tail(applied_v) == tail(applied_t)
    assert "Outputs:\n\nn = 3\n" in tail(applied_v)


def test_validate_puts_warnings_above_terraforms_verdict(tmp_path):
    (tmp_path / "main.tf").write_text(KEY_VAULT % "~> 4.0")
    code, out, _err = _run("validate", str(tmp_path))
    assert code == 0
    assert "Warning: Deprecated argument" in out
    assert out.rstrip().endswith(
        "Success! The configuration is valid, but there were some validation warnings as shown above."
    )


@pytest.mark.skipif(shutil.which("terraform") is None, reason="install terraform to compare with it")
def test_a_destroy_plan_gives_no_reason_line_as_terraform_gives_none(tmp_path, monkeypatch):
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    for d in (theirs, ours):
        d.mkdir()
        (d / "main.tf").write_text('resource "terraform_data" "a" {\n  count = 2\n  input = count.index\n}\n')
    run = {"cwd": theirs, "env": env, "capture_output": True, "text": True}
    assert subprocess.run(["terraform", "init", "-no-color"], **run).returncode == 0
    assert subprocess.run(["terraform", "apply", "-auto-approve", "-no-color"], **run).returncode == 0
    planned_t = subprocess.run(["terraform", "plan", "-destroy", "-no-color"], **run).stdout
    monkeypatch.chdir(ours)
    assert _run("apply", "-auto-approve")[0] == 0
    planned_v = _run("plan", "-destroy")[1]

    def comments(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.startswith("  # ")]

    assert comments(planned_v) == comments(planned_t)
    assert comments(planned_v) == [
        "  # terraform_data.a[0] will be destroyed",
        "  # terraform_data.a[1] will be destroyed",
    ]


def test_import_takes_address_and_id_alone_as_terraform_does(tmp_path, monkeypatch):
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "azure.db"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.tf").write_text(
        'resource "azurerm_resource_group" "rg" {\n  name     = "rg-import"\n  location = "westeurope"\n}\n'
    )
    assert _run("apply", "-auto-approve")[0] == 0
    code, out, _err = _run("state", "show", "azurerm_resource_group.rg")
    rg_id = next(line.split('"')[1] for line in out.splitlines() if line.strip().startswith("id "))
    assert _run("state", "rm", "azurerm_resource_group.rg")[0] == 0

    code, out, err = _run("import", "azurerm_resource_group.rg", rg_id, "-no-color")
    assert code == 0, err
    assert "Import successful!" in out
    assert _run("plan", "-detailed-exitcode")[0] == 0


DATA_AND_RESOURCE = """data "terraform_remote_state" "other" {
  backend = "local"
  config = {
    path = "${path.module}/other.tfstate"
  }
}
resource "terraform_data" "a" {
  input = data.terraform_remote_state.other.outputs.o
}
"""
OTHER_STATE = (
    '{"version": 4, "terraform_version": "1.11.0", "serial": 1, "lineage": "0b7e2c1a-0000-4000-8000-000000000001",'
    ' "outputs": {"o": {"value": 1, "type": "number"}}, "resources": [], "check_results": null}'
)


@pytest.mark.skipif(shutil.which("terraform") is None, reason="install terraform to compare with it")
@pytest.mark.parametrize("target", [(), ("-target=terraform_data.a",)])
def test_a_whole_destroy_leaves_no_data_source_in_state_as_terraform(tmp_path, monkeypatch, target):
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    for d in (theirs, ours):
        d.mkdir()
        (d / "main.tf").write_text(DATA_AND_RESOURCE)
        (d / "other.tfstate").write_text(OTHER_STATE)
    run = {"cwd": theirs, "env": env, "capture_output": True, "text": True}
    for argv in (["init"], ["apply", "-auto-approve"], ["destroy", "-auto-approve", *target]):
        assert subprocess.run(["terraform", *argv], **run).returncode == 0
    listed_t = subprocess.run(["terraform", "state", "list"], **run).stdout
    monkeypatch.chdir(ours)
    assert _run("apply", "-auto-approve")[0] == 0
    assert _run("destroy", "-auto-approve", *target)[0] == 0
    assert _run("state", "list")[1] == listed_t
    assert listed_t == ("data.terraform_remote_state.other\n" if target else "")


def test_show_of_a_missing_file_is_an_error_not_an_empty_state(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _run("show", "no-such.plan")
    assert code == 1
    assert "Failed to read the given file as a state or plan file" in err
    assert "No state" not in out


def test_force_unlock_without_a_lock_id_names_it_and_nothing_internal(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _out, err = _run("force-unlock")
    assert code == 1
    assert "Expected a single argument: LOCK_ID" in err
    assert "extra" not in err


def test_a_malformed_target_is_refused_before_anything_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "azure.db"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.tf").write_text('resource "terraform_data" "a" {\n  input = 1\n}\n')
    assert _run("apply", "-auto-approve")[0] == 0
    code, out, err = _run("plan", "-target=terraform_data.a[")
    assert code == 1 and 'Invalid target "terraform_data.a["' in err
    assert "Refreshing state" not in out


FAILS_AFTER_AN_OUTPUT = """
resource "azurerm_resource_group" "rg" {
  name     = "rg-outputs-after-failure"
  location = "westeurope"
}

resource "azurerm_recovery_services_vault" "vault" {
  name                = "rsv-outputs-after-failure"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  sku                 = "Standard"
  identity {
    type         = "UserAssigned"
    identity_ids = ["${azurerm_resource_group.rg.id}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/never-made"]
  }
}

output "group" {
  value = azurerm_resource_group.rg.name
}
"""


def test_a_failed_apply_prints_no_outputs_as_terraform_does(tmp_path, monkeypatch):
    # terraform's apply returns before its "Outputs:" when the operation failed
    # (internal/command/apply.go); the values that could be worked out are still recorded
    (tmp_path / "main.tf").write_text(FAILS_AFTER_AN_OUTPUT)
    monkeypatch.chdir(tmp_path)
    code, out, err = _run("apply", "-auto-approve")
    assert code == 1
    assert "Apply failed" in out and "never-made" in err
    assert "\nOutputs:" not in out[out.index("Apply failed") :]
    assert _run("output", "-raw", "group")[1] == "rg-outputs-after-failure"


def test_a_refusal_in_a_module_names_its_file_as_terraform_does(tmp_path, monkeypatch):
    # relative to the working directory ("on modules/vault/main.tf line 20"), as the diagnostics
    # of validate are, not the absolute path the loader read it from
    rules = os.path.join(os.path.dirname(__file__), "..", "fixtures", "plan_rules")
    shutil.copytree(os.path.join(rules, "_base"), tmp_path, dirs_exist_ok=True)
    shutil.copytree(
        os.path.join(rules, "R4_key_vault_other_region_through_module"), tmp_path, dirs_exist_ok=True
    )
    monkeypatch.chdir(tmp_path)
    code, out, _err = _run("plan")
    assert code == 1
    assert "on modules/vault/main.tf line 20, in module.team.azurerm_recovery_services_vault.vault:" in out
    assert str(tmp_path) not in out


def test_apply_of_a_missing_plan_file_says_neither_a_plan_nor_a_directory_is_there(tmp_path, monkeypatch):
    # `vaultform plan -out tfplan` refused, wrote nothing, and the pipeline's next step applied it
    monkeypatch.chdir(tmp_path)
    code, _out, err = _run("apply", "tfplan")
    assert code == 1
    assert "Nothing at tfplan: no saved plan and no configuration directory" in err
    assert "Traceback" not in err


def test_for_each_over_a_set_of_objects_says_what_the_set_holds(tmp_path, monkeypatch):
    (tmp_path / "main.tf").write_text(
        'resource "terraform_data" "v" {\n'
        '  for_each = toset([{ name = "a" }, { name = "b" }])\n'
        "  input    = each.value\n"
        "}\n"
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = _run("plan")
    text = out + err
    assert code == 1 and "Invalid for_each argument" in text
    assert "this collection holds an object" in text and "v.name => v" in text
    assert "over a list" not in text  # toset() made a set, which the message must not call a list


KEY_AFTER_ITS_GRANT = """
data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "rg" {
  name     = "rg-grant-wait"
  location = "westeurope"
}

resource "azurerm_key_vault" "kv" {
  name                     = "kv-grant-wait"
  location                 = azurerm_resource_group.rg.location
  resource_group_name      = azurerm_resource_group.rg.name
  tenant_id                = data.azurerm_client_config.current.tenant_id
  sku_name                 = "standard"
  purge_protection_enabled = true
}

resource "azurerm_key_vault_access_policy" "deployer" {
  key_vault_id    = azurerm_key_vault.kv.id
  tenant_id       = data.azurerm_client_config.current.tenant_id
  object_id       = data.azurerm_client_config.current.object_id
  key_permissions = ["Get", "List", "Create", "Delete", "Purge"]
}

resource "azurerm_key_vault_key" "k" {
  name         = "backup"
  key_vault_id = azurerm_key_vault.kv.id
  key_type     = "RSA"
  key_size     = 2048
  key_opts     = ["wrapKey", "unwrapKey"]
  depends_on   = [azurerm_key_vault_access_policy.deployer]
}
"""


def test_a_first_apply_waits_for_the_deployers_new_grant_instead_of_failing(tmp_path, monkeypatch):
    # Key Vault answers 403 for a while after the access policy that allows the create was added
    # (terraform-provider-azurerm issues 4569, 9114, 19926: "the second apply works"); the retried
    # create must not then fail on looking for a key it can't read yet either
    (tmp_path / "main.tf").write_text(KEY_AFTER_ITS_GRANT)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "az.db"))  # its grant delay is its own
    assert _run("cloud", "configure", "-grant-delay", "2s")[0] == 0
    code, out, err = _run("apply", "-auto-approve")
    assert code == 0, err
    assert "grant to the identity running vaultform to take effect" in out
    assert "Apply complete! Resources: 4 added" in out


SCHEMA_TYPED_OUTPUTS = """
resource "azurerm_resource_group" "rg" {
  name     = "rg-typed-outputs"
  location = "westeurope"
  tags     = { team = "backup" }
}

output "tags" {
  value = azurerm_resource_group.rg.tags
}

output "whole" {
  value = { tags = azurerm_resource_group.rg.tags, name = azurerm_resource_group.rg.name }
}
"""


def test_an_attribute_the_schema_types_as_a_map_prints_and_records_as_one(tmp_path, monkeypatch):
    # terraform prints a resource's map attribute as tomap({...}) and records ["map", "string"]:
    # the expression doesn't say so, the provider's schema does
    (tmp_path / "main.tf").write_text(SCHEMA_TYPED_OUTPUTS)
    monkeypatch.chdir(tmp_path)
    code, out, err = _run("apply", "-auto-approve")
    assert code == 0, err
    assert 'tags = tomap({\n  "team" = "backup"\n})' in out
    assert (
        'whole = {\n  "name" = "rg-typed-outputs"\n  "tags" = tomap({\n    "team" = "backup"\n  })\n}' in out
    )
    listed = json.loads(_run("output", "-json")[1])
    assert listed["tags"]["type"] == ["map", "string"]
    assert listed["whole"]["type"] == ["object", {"name": "string", "tags": ["map", "string"]}]


def test_console_shows_a_data_source_as_state_recorded_it(tmp_path, monkeypatch):
    # terraform console evaluates a data source from state (checked with the binary: the value
    # stays after the source it was read from is gone); it is not "(known after apply)"
    other = tmp_path / "other"
    other.mkdir()
    (other / "main.tf").write_text('output "v" {\n  value = "hello"\n}\n')
    (tmp_path / "main.tf").write_text(
        'data "terraform_remote_state" "o" {\n'
        '  backend = "local"\n'
        '  config  = { path = "other/vaultform.tfstate" }\n'
        "}\n"
    )
    monkeypatch.chdir(other)
    assert _run("apply", "-auto-approve")[0] == 0
    monkeypatch.chdir(tmp_path)
    assert _run("apply", "-auto-approve")[0] == 0
    (other / "vaultform.tfstate").unlink()
    monkeypatch.setattr("sys.stdin", io.StringIO("data.terraform_remote_state.o.outputs.v\n"))
    code, out, err = _run("console")
    assert code == 0, err
    assert out == '"hello"\n'


def test_a_data_source_that_finds_nothing_says_what_it_looked_for(tmp_path, monkeypatch):
    (tmp_path / "main.tf").write_text(
        'variable "vm" {\n  default = "app-01"\n}\n'
        'variable "code" {\n  default   = "hunter2"\n  sensitive = true\n}\n'
        'data "azurerm_virtual_machine" "app" {\n'
        "  name                = var.vm\n"
        '  resource_group_name = "rg-apps-${var.code}"\n'
        "}\n"
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = _run("plan")
    text = out + err
    assert code == 1
    assert 'No azurerm_virtual_machine was found with name = "app-01"' in text
    assert "hunter2" not in text  # an argument built from a sensitive value is never shown


def test_for_each_over_a_list_is_refused_as_terraform_refuses_it(tmp_path, monkeypatch):
    # terraform: 'the "for_each" argument must be a map, or set of strings, and you have provided a
    # value of type tuple' (and 'list of string' for split()); toset() of either is fine. Two such
    # resources are two errors, though the words are the same
    (tmp_path / "main.tf").write_text(
        'resource "terraform_data" "a" {\n  for_each = ["a", "b"]\n  input    = each.key\n}\n'
        'resource "terraform_data" "b" {\n  for_each = split(",", "a,b")\n  input    = each.key\n}\n'
        'resource "terraform_data" "c" {\n  for_each = toset(split(",", "a,b"))\n  input    = each.key\n}\n'
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = _run("plan")
    text = out + err
    assert code == 1
    assert text.count("Error: Invalid for_each argument") == 2
    assert "this is a tuple" in text and "this is a list of string" in text
    assert "main.tf line 10" not in text  # toset(...) is a set


FOR_EACH_THROUGH_NAMES = """\
variable "names" {
  type    = list(string)
  default = ["a", "b"]
}
variable "untyped" {
  default = ["a", "b"]
}
variable "unique" {
  type    = set(string)
  default = ["a", "b"]
}
locals {
  listed = var.names
  looped = [for n in var.unique : n]
  unique = var.unique
}
resource "terraform_data" "typed_list" {
  for_each = var.names
  input    = each.key
}
resource "terraform_data" "untyped" {
  for_each = var.untyped
  input    = each.key
}
resource "terraform_data" "local_list" {
  for_each = local.listed
  input    = each.key
}
resource "terraform_data" "local_for" {
  for_each = local.looped
  input    = each.key
}
resource "terraform_data" "set_ok" {
  for_each = local.unique
  input    = each.key
}
module "passes_a_set" {
  source = "./child"
  names  = toset(var.names)
}
"""

CHILD_UNTYPED = """\
variable "names" {}
resource "terraform_data" "each" {
  for_each = var.names
  input    = each.key
}
"""


def test_for_each_over_a_variable_or_local_that_is_a_list_is_refused(tmp_path, monkeypatch):
    # terraform 1.11 on this file: typed_list and local_list "list of string", untyped and local_for
    # "tuple"; a set(string) variable, and a child's untyped variable given toset(...), plan
    (tmp_path / "main.tf").write_text(FOR_EACH_THROUGH_NAMES)
    (tmp_path / "child").mkdir()
    (tmp_path / "child" / "main.tf").write_text(CHILD_UNTYPED)
    monkeypatch.chdir(tmp_path)
    code, out, err = _run("plan")
    text = out + err
    assert code == 1
    assert text.count("Error: Invalid for_each argument") == 4
    for line, kind in ((18, "a list of string"), (22, "a tuple"), (26, "a list of string"), (30, "a tuple")):
        assert f"main.tf line {line}:" in text
        assert text.split(f"main.tf line {line}:")[1].split("Error:")[0].count(f"this is {kind}") == 1
    assert "main.tf line 34:" not in text and "child/main.tf" not in text
    assert 'terraform_data.set_ok["a"]' in text and 'module.passes_a_set.terraform_data.each["b"]' in text


def test_an_output_of_a_typed_variable_prints_as_its_type(tmp_path, monkeypatch):
    # terraform prints a list(string) variable as tolist([...]) and a map(string) as tomap({...}),
    # through a local too, and records their types so
    (tmp_path / "main.tf").write_text(
        'variable "names" {\n  type    = list(string)\n  default = ["a"]\n}\n'
        'variable "tags" {\n  type    = map(string)\n  default = { a = "b" }\n}\n'
        "locals {\n  names = var.names\n}\n"
        'output "names" {\n  value = local.names\n}\n'
        'output "tags" {\n  value = var.tags\n}\n'
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = _run("apply", "-auto-approve")
    assert code == 0, err
    assert 'names = tolist([\n  "a",\n])' in out and 'tags = tomap({\n  "a" = "b"\n})' in out
    listed = json.loads(_run("output", "-json")[1])
    assert listed["names"]["type"] == ["list", "string"] and listed["tags"]["type"] == ["map", "string"]


def test_read_waits_for_a_grant_the_stopped_run_had_just_made(tmp_path, monkeypatch):
    # A run killed while its key create waited for the deployer's new access policy leaves the
    # create's intent; the next run must learn whether the key was made, and Key Vault refuses the
    # read (403) until the same grant arrives. ARM already shows it, so the read waits for it.
    from datetime import UTC, datetime

    from state.backends.local import LocalBackend
    from state.model import InstanceState, PendingAction, PendingOperation

    (tmp_path / "main.tf").write_text(KEY_AFTER_ITS_GRANT)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "az.db"))  # its grant delay is its own
    assert _run("cloud", "configure", "-grant-delay", "5s")[0] == 0
    code, out, err = _run("apply", "-auto-approve", "-target=azurerm_key_vault_access_policy.deployer")
    assert code == 0, err
    backend = LocalBackend(tmp_path / "vaultform.tfstate")
    state = backend.read()
    vault_uri = state.instance("azurerm_key_vault.kv").attributes["vault_uri"]
    provider = state.resource("azurerm_key_vault.kv").provider
    intent = PendingOperation(
        PendingAction.CREATE, datetime.now(UTC), f"{vault_uri.rstrip('/')}/keys/backup", "digest"
    )
    backend.write(
        state.with_instance("azurerm_key_vault_key.k", InstanceState(pending=intent), provider=provider)
    )
    code, out, err = _run("apply", "-auto-approve")
    assert code == 0, out + err
    assert "it allows reading keys, but Key Vault still refuses key backup" in out
    assert "; checking again in" in out
    assert "interrupted create -> not created" in out
    assert "Apply complete! Resources: 1 added" in out


def test_a_var_file_that_cant_be_read_is_the_only_error(tmp_path, monkeypatch):
    # terraform stops at the file: "n =" is not followed by "No value for required variable"
    (tmp_path / "main.tf").write_text('variable "n" {\n  type = number\n}\n')
    (tmp_path / "broken.tfvars").write_text("n =\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = _run("plan", "-var-file=broken.tfvars")
    assert code == 1
    assert "broken.tfvars line 1" in err and "No value for required variable" not in out + err


def test_an_invalid_value_keeps_the_warning_for_a_value_of_no_variable(tmp_path, monkeypatch):
    # terraform shows both: the warning for "extra" and the validation error for n
    (tmp_path / "main.tf").write_text(
        'variable "n" {\n  type = number\n  validation {\n    condition     = var.n > 0\n'
        '    error_message = "n must be positive."\n  }\n}\n'
    )
    (tmp_path / "bad.tfvars").write_text('n = -1\nextra = "x"\n')
    monkeypatch.chdir(tmp_path)
    code, out, err = _run("plan", "-var-file=bad.tfvars")
    text = out + err
    assert code == 1
    assert "n must be positive." in text
    assert "Warning: Value for undeclared variable" in text and "bad.tfvars line 2" in text


def test_for_each_over_a_module_output_that_is_a_list_is_refused(tmp_path, monkeypatch):
    # terraform 1.11: the child's output forwards a list(string) variable, so for_each over it is
    # "a list of string"; its toset(...) output plans
    (tmp_path / "child").mkdir()
    (tmp_path / "child" / "main.tf").write_text(
        'variable "names" {\n  type = list(string)\n}\n'
        'output "names" {\n  value = var.names\n}\n'
        'output "unique" {\n  value = toset(var.names)\n}\n'
    )
    (tmp_path / "main.tf").write_text(
        'module "m" {\n  source = "./child"\n  names  = ["a", "b"]\n}\n'
        'resource "terraform_data" "listed" {\n  for_each = module.m.names\n  input    = each.key\n}\n'
        'resource "terraform_data" "unique" {\n  for_each = module.m.unique\n  input    = each.key\n}\n'
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = _run("plan")
    text = out + err
    assert code == 1
    assert text.count("Error: Invalid for_each argument") == 1
    assert "main.tf line 6:" in text and "this is a list of string" in text
    assert 'terraform_data.unique["b"]' in text


def test_a_command_leaves_no_connection_to_the_local_azure_open(tmp_path, monkeypatch):
    # a refresh reads from a pool of threads, each with its own connection to the local Azure's
    # database; a command run in process (the suite, a tool embedding vaultform) closed only its
    # own thread's, so every plan left some open - past a thousand, select() on a pty failed
    db = tmp_path / "az.db"
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(db))
    (tmp_path / "main.tf").write_text(
        'resource "azurerm_resource_group" "a" {\n  name     = "rg-fd-a"\n  location = "westeurope"\n}\n'
        'resource "azurerm_resource_group" "b" {\n  name     = "rg-fd-b"\n  location = "westeurope"\n}\n'
    )
    monkeypatch.chdir(tmp_path)
    assert _run("apply", "-auto-approve")[0] == 0

    def open_on_db() -> int:
        found = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                found += os.readlink(f"/proc/self/fd/{fd}").startswith(str(db))
            except OSError:
                continue
        return found

    assert _run("plan")[0] == 0
    assert open_on_db() == 0


def test_for_each_over_a_conditional_of_lists_is_refused(tmp_path, monkeypatch):
    # terraform unifies the two sides: ["a"] and [] make a list of string, refused as for_each;
    # toset(["a"]) and [] make a set, taken
    (tmp_path / "main.tf").write_text(
        'variable "on" {\n  default = true\n}\n'
        'resource "terraform_data" "listed" {\n  for_each = var.on ? ["a"] : []\n  input    = each.key\n}\n'
        'resource "terraform_data" "unique" {\n  for_each = var.on ? toset(["a"]) : []\n  input    = each.key\n}\n'
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = _run("plan")
    text = out + err
    assert code == 1
    assert text.count("Error: Invalid for_each argument") == 1
    assert "main.tf line 5:" in text and "this is a list of string" in text
    assert 'terraform_data.unique["a"]' in text


def test_drift_right_after_a_new_grant_waits_for_it_to_list_the_key_vaults_keys(tmp_path, monkeypatch):
    # drift looks for keys no state tracks by listing each key vault's keys; right after the apply
    # that gave the deployer its access policy, Key Vault still refuses the list (403) while ARM
    # shows the grant: drift waits for it, as apply does, instead of reporting a failed listing
    config = KEY_AFTER_ITS_GRANT.split('resource "azurerm_key_vault_key"')[0]
    (tmp_path / "main.tf").write_text(config)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "az.db"))  # its grant delay is its own
    assert _run("cloud", "configure", "-grant-delay", "3s")[0] == 0
    code, out, err = _run("apply", "-auto-approve")
    assert code == 0, err
    code, out, err = _run("drift")
    assert code == 0, out + err
    assert "No drift: 3 managed object(s) match" in out
    assert "could not be read" not in out
    assert "grant to the identity running vaultform to take effect" in out + err


def test_a_key_change_cut_short_still_keeps_the_old_key_while_points_need_it(tmp_path, monkeypatch):
    # a run killed while the vault moved to its second key: Azure made the change, state still has
    # the first key and the update's intent. Recovery reads the vault as it is and must remember the
    # key it moved away from, as the finished update does, or a later plan destroys that key while
    # recovery points taken with it remain (R11)
    from datetime import UTC, datetime
    from pathlib import Path

    from state.backends.local import LocalBackend
    from state.model import PendingAction, PendingOperation

    rules = Path(__file__).parent.parent / "fixtures" / "plan_rules"
    case = rules / "R11_recovery_points_keep_key_retired_earlier"
    shutil.copytree(rules / "_base", tmp_path, dirs_exist_ok=True)
    for tf in case.glob("*.tf"):
        shutil.copy(tf, tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "az.db"))
    assert _run("apply", "-auto-approve")[0] == 0
    assert _run("cloud", "backup", "rsv-vfrule", "vm-app-01")[0] == 0
    backend = LocalBackend(tmp_path / "vaultform.tfstate")
    before = backend.read().instance("azurerm_recovery_services_vault.vault")
    shutil.copy(case / "step2" / "vault.tf", tmp_path)
    code, out, err = _run("apply", "-auto-approve")
    assert code == 0, out + err
    moved = backend.read()
    # what the killed run left: the vault as it was before, and the update's intent
    intent = PendingOperation(PendingAction.UPDATE, datetime.now(UTC), before.attributes["id"], "digest")
    backend.write(moved.with_instance("azurerm_recovery_services_vault.vault", before.with_pending(intent)))
    shutil.copy(case / "step3" / "keyvault.tf", tmp_path)
    code, out, err = _run("plan")
    assert code == 1, out + err
    assert "Recovery points still need a key the vault used before" in out + err
    # an apply records what recovery learned: the key stays guarded without the intent
    shutil.copy(case / "keyvault.tf", tmp_path)
    code, out, err = _run("apply", "-auto-approve")
    assert code == 0, out + err
    assert "interrupted update" in out
    kept = backend.read().instance("azurerm_recovery_services_vault.vault")
    assert kept.pending is None
    assert [e["key_id"] for e in kept.private["_previous_keys"]] == [
        before.attributes["encryption"][0]["key_id"]
    ]
    shutil.copy(case / "step3" / "keyvault.tf", tmp_path)
    code, out, err = _run("plan")
    assert code == 1 and "Recovery points still need a key the vault used before" in out, out + err


def test_drift_counts_a_stopped_runs_create_as_its_own_not_unmanaged(tmp_path, monkeypatch):
    # a run killed right after Key Vault made its key leaves only the create's intent; drift looked
    # at the key vault, found a key no state entry tracks, and called vaultform's own key unmanaged
    from datetime import UTC, datetime

    from state.backends.local import LocalBackend
    from state.model import InstanceState, PendingAction, PendingOperation

    (tmp_path / "main.tf").write_text(KEY_AFTER_ITS_GRANT)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "az.db"))
    assert _run("apply", "-auto-approve")[0] == 0
    backend = LocalBackend(tmp_path / "vaultform.tfstate")
    state = backend.read()
    key = state.instance("azurerm_key_vault_key.k")
    intent = PendingOperation(
        PendingAction.CREATE, datetime.now(UTC), key.attributes["versionless_id"], "digest"
    )
    provider = state.resource("azurerm_key_vault_key.k").provider
    backend.write(
        state.without_instance("azurerm_key_vault_key.k").with_instance(
            "azurerm_key_vault_key.k", InstanceState(pending=intent), provider=provider
        )
    )
    code, out, err = _run("drift")
    assert code == 0, out + err
    assert "unmanaged" not in out.lower()
    assert "azurerm_key_vault_key.k: interrupted create -> adopted" in err
    assert backend.read().instance("azurerm_key_vault_key.k").pending is not None  # drift changes nothing


def test_apply_outputs_leave_out_the_instances_it_destroyed(tmp_path, monkeypatch):
    # terraform prints and records { a = "v-a" } once b is gone; the outputs evaluated after apply
    # still held the destroyed instance, and state kept it until a later apply
    (tmp_path / "main.tf").write_text(
        'variable "names" {\n  type    = set(string)\n  default = ["a", "b"]\n}\n\n'
        'resource "terraform_data" "x" {\n  for_each = var.names\n  input    = "v-${each.key}"\n}\n\n'
        'resource "terraform_data" "n" {\n  count = length(var.names)\n  input = count.index\n}\n\n'
        'output "all" {\n  value = { for k, v in terraform_data.x : k => v.output }\n}\n\n'
        'output "counted" {\n  value = terraform_data.n[*].output\n}\n'
    )
    monkeypatch.chdir(tmp_path)
    assert _run("apply", "-auto-approve")[0] == 0
    code, out, err = _run("apply", "-auto-approve", "-var", 'names=["a"]')
    assert code == 0, err
    assert 'all = {\n  "a" = "v-a"\n}\n' in out
    assert "counted = [\n  0,\n]\n" in out
    assert json.loads(_run("output", "-json")[1]) == {
        "all": {"sensitive": False, "type": ["object", {"a": "string"}], "value": {"a": "v-a"}},
        "counted": {"sensitive": False, "type": ["tuple", ["number"]], "value": [0]},
    }
    code, out, _err = _run("plan", "-var", 'names=["a"]')
    assert "No changes." in out and "Changes to Outputs" not in out


def test_refresh_only_records_a_rotated_key_and_the_outputs_that_show_it(tmp_path, monkeypatch):
    # a key rotated outside vaultform: the refresh-only plan has something to record (exit 2 with
    # -detailed-exitcode, as terraform's CanApply), and its apply records the key and the output
    # that shows its id, so the next refresh-only plan has nothing to record
    shutil.copytree(
        os.path.join(os.path.dirname(__file__), "..", "..", "examples", "quickstart"), tmp_path / "qs"
    )
    monkeypatch.chdir(tmp_path / "qs")
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "az.db"))
    with open("main.tf", "a") as tf:  # the whole vault: its provider's private facts are not its own
        tf.write('\noutput "whole" {\n  value = azurerm_recovery_services_vault.vault\n}\n')
    assert _run("apply", "-auto-approve")[0] == 0
    assert _run("plan", "-refresh-only", "-detailed-exitcode")[0] == 0
    code, out, err = _run("cloud", "rotate-key", "https://kv-vfqs-cmk.vault.azure.net/keys/backup-cmk")
    assert code == 0, err
    rotated = out.split()[-1]
    assert _run("plan", "-refresh-only", "-detailed-exitcode")[0] == 2
    code, out, err = _run("apply", "-refresh-only", "-auto-approve")
    assert code == 0, err
    assert "Apply complete! Resources: 0 added, 0 changed, 0 destroyed." in out
    assert json.loads(_run("output", "-json", "key_id")[1]) == rotated
    assert not [k for k in json.loads(_run("output", "-json", "whole")[1]) if k.startswith("_")]
    assert _run("plan", "-refresh-only", "-detailed-exitcode")[0] == 0


def test_a_data_source_scoped_to_a_check_warns_when_it_fails_and_feeds_the_assertions(tmp_path, monkeypatch):
    # terraform reads a check's own data source with the plan; its failure, like the check's, is a
    # warning (the plan goes on, exit 0)
    base = tmp_path / "base"
    base.mkdir()
    (base / "main.tf").write_text('output "x" {\n  value = 5\n}\n')
    monkeypatch.chdir(base)
    assert _run("apply", "-auto-approve")[0] == 0
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    check = (
        'resource "terraform_data" "a" {\n  input = 1\n}\n\n'
        'check "remote" {\n  data "terraform_remote_state" "other" {\n    backend = "local"\n'
        '    config = {\n      path = "%s"\n    }\n  }\n\n'
        "  assert {\n    condition     = data.terraform_remote_state.other.outputs.x == 1\n"
        '    error_message = "x is not 1."\n  }\n}\n'
    )
    (here / "main.tf").write_text(check % (base / "vaultform.tfstate"))
    code, out, err = _run("plan", "-detailed-exitcode")
    assert code == 2, out + err
    assert "Check block assertion failed" in out + err and "x is not 1." in out + err
    (here / "broken.tfstate").write_text("not json")
    (here / "main.tf").write_text(check % (here / "broken.tfstate"))
    code, out, err = _run("plan", "-detailed-exitcode")
    assert code == 2, out + err
    assert "Warning: Reading data.terraform_remote_state.other failed" in out + err


def test_a_check_data_source_read_at_apply_warns_when_it_fails(tmp_path, monkeypatch):
    # its configuration known only after apply, the check's data source is read by the apply; as
    # terraform's, its failure is a warning and the apply completes (it failed the apply)
    (tmp_path / "bad.tfstate").write_text("not json")
    (tmp_path / "main.tf").write_text(
        'resource "terraform_data" "p" {\n  input = "bad.tfstate"\n}\n\n'
        'check "remote" {\n  data "terraform_remote_state" "other" {\n    backend = "local"\n'
        "    config = {\n      path = terraform_data.p.output\n    }\n  }\n\n"
        "  assert {\n    condition     = data.terraform_remote_state.other.outputs.x == 1\n"
        '    error_message = "x is not 1."\n  }\n}\n'
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = _run("apply", "-auto-approve")
    assert code == 0, out + err
    assert "Warning: Reading data.terraform_remote_state.other failed" in out + err
    assert "Apply complete! Resources: 1 added" in out


def test_a_plan_and_a_drift_wait_out_throttling_past_the_sdks_own_retries(tmp_path, monkeypatch):
    # Under heavy throttling one read could be refused five times in a row (the SDK's retries), and
    # the whole plan or drift then failed "Refreshing ... failed [TooManyRequests]"; the apply's steps
    # already waited such refusals out within their budget
    (tmp_path / "main.tf").write_text(
        'provider "azurerm" {\n  features {}\n}\n'
        'resource "azurerm_resource_group" "rg" {\n  name     = "rg-throttled"\n  location = "westeurope"\n}\n'
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "az.db"))
    assert _run("apply", "-auto-approve")[0] == 0
    configure = ("cloud", "configure", "-throttle-rate", "0.9", "-retry-after", "0.05s", "-seed", "1")
    assert _run(*configure)[0] == 0
    code, out, err = _run("plan", "-detailed-exitcode")
    assert code == 0, out + err
    assert "azurerm_resource_group.rg: TooManyRequests" in out and "checking again in 0.05s" in out
    code, out, err = _run("drift")
    assert code == 0, out + err
    assert "No drift" in out
    assert "checking again in 0.05s" in err and "checking again in 0s" not in err  # not rounded away
    code, out, err = _run("audit")
    assert code == 0, out + err
    assert "reading again in" in err

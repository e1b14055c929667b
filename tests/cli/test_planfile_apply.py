"""`plan -out F` then `apply F` against the local Azure: exactly what was shown, or refused when stale."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from reconciler.plan.planfile import load_plan
from reconciler.plan.planfile_crypto import KEY_ENV
from state.format import decode_state

SECRET = "s3cret-" + uuid.uuid4().hex[:8]

CONFIG = """
variable "suffix" { type = string }
variable "team" {
  type    = string
  default = "blue"
}
variable "secret" {
  type      = string
  sensitive = true
}

resource "azurerm_resource_group" "rg" {
  name     = "rg-planfile-${var.suffix}"
  location = "westeurope"
  tags     = { team = var.team }
}

resource "terraform_data" "token" {
  input = var.secret
}

output "rg_id" { value = azurerm_resource_group.rg.id }
"""


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(KEY_ENV, raising=False)
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "main.tf").write_text(CONFIG)
    return cfg


def vars_for(suffix: str, team: str = "blue") -> list[str]:
    return ["-var", f"suffix={suffix}", "-var", f"team={team}", "-var", f"secret={SECRET}"]


def state_of(cfg: Path):
    return decode_state((cfg / "vaultform.tfstate").read_bytes())


def test_a_saved_plan_applies_exactly_what_it_showed(workdir, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    planfile = tmp_path / "changes.plan"
    code, shown, err = run("plan", str(workdir), "-out", str(planfile), *vars_for(suffix))
    assert code == 0, err
    assert SECRET.encode() not in planfile.read_bytes()
    plan, config_dir = load_plan(planfile)
    assert config_dir.resolve() == workdir.resolve()  # found again from the working directory
    creates = sorted(c.address for c in plan.changes if c.action.value == "create")
    assert creates == ["azurerm_resource_group.rg", "terraform_data.token"]

    code, again, _ = run("show", str(planfile))
    assert code == 0
    assert shown.startswith(again.rstrip("\n"))  # the same plan, then where it was saved

    code, out, err = run("apply", str(planfile))  # no -var, no -auto-approve: the file is the approval
    assert code == 0, err
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in out
    state = state_of(workdir)
    assert sorted(a for a in state.addresses()) == creates
    assert state.instance("azurerm_resource_group.rg").attributes["tags"] == {"team": "blue"}
    assert state.lineage == plan.state_lineage

    code, _, err = run("plan", str(workdir), "-detailed-exitcode", *vars_for(suffix))
    assert code == 0, err  # the cloud now matches the configuration


def test_a_plan_is_refused_once_another_apply_changed_the_state(workdir, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    assert run("apply", str(workdir), "-auto-approve", *vars_for(suffix))[0] == 0
    planfile = tmp_path / "green.plan"
    assert run("plan", str(workdir), "-out", str(planfile), *vars_for(suffix, "green"))[0] == 0
    assert run("apply", str(workdir), "-auto-approve", *vars_for(suffix, "red"))[0] == 0
    serial = state_of(workdir).serial

    code, out, err = run("apply", str(planfile))
    assert code == 1
    assert "The saved plan is stale" in err and "serial" in err and "Run plan again" in err
    assert "Apply complete" not in out
    state = state_of(workdir)
    assert state.serial == serial
    assert state.instance("azurerm_resource_group.rg").attributes["tags"] == {"team": "red"}


def test_a_plan_is_refused_once_the_configuration_changed(workdir, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    planfile = tmp_path / "p.plan"
    assert run("plan", str(workdir), "-out", str(planfile), *vars_for(suffix))[0] == 0
    with open(workdir / "main.tf", "a") as fh:
        fh.write("\n# edited after the plan\n")

    code, _, err = run("apply", str(planfile))
    assert code == 1
    assert "configuration's files changed" in err
    assert not (workdir / "vaultform.tfstate").exists()


def test_a_saved_plan_takes_no_variables(workdir, tmp_path):
    planfile = tmp_path / "p.plan"
    assert run("plan", str(workdir), "-out", str(planfile), *vars_for("x"))[0] == 0
    code, _, err = run("apply", str(planfile), "-var", "team=red")
    assert code == 1
    assert "-var cannot be used with a saved plan" in err
    code, _, err = run("apply", str(workdir / "main.tf"))
    assert code == 1 and "is not a saved plan" in err

"""A refresh-only plan after an instance of a counted or for_each resource left state, side by
side with terraform 1.11: the other instances keep their keys and the missing one is unknown, so
references to the rest still work and the plan can be applied."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli.test_output_parity import _comparable, _terraform, _vaultform

FIXTURE = Path(__file__).parents[1] / "fixtures" / "refresh_only_gone"

pytestmark = pytest.mark.skipif(
    shutil.which("terraform") is None, reason="install terraform to compare with it"
)

GONE = ("terraform_data.x[1]", 'terraform_data.m["b"]')


def _outputs_part(text: str) -> str:
    """From "Changes to Outputs:" to the end, ids and version aside."""
    at = text.find("Changes to Outputs:")
    assert at >= 0, text
    return _comparable(
        text[at:].replace("vaultform", "Terraform").replace("Terraform\nstate", "Terraform state")
    )


def _applied_without(tmp_path: Path, *gone: str) -> tuple[Path, Path, dict[str, str]]:
    """The fixture applied by terraform and by vaultform side by side, then ``gone`` taken out of
    both states: terraform's directory, vaultform's, and vaultform's environment."""
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    shutil.copytree(FIXTURE, theirs)
    shutil.copytree(FIXTURE, ours)
    env = {"VAULTFORM_LOCAL_AZURE": str(tmp_path / "az.db")}
    assert _terraform(theirs, "init").returncode == 0
    assert _terraform(theirs, "apply", "-auto-approve").returncode == 0
    assert _vaultform(ours, "apply", "-auto-approve", env=env)[0] == 0
    assert _terraform(theirs, "state", "rm", *gone).returncode == 0
    assert _vaultform(ours, "state", "rm", *gone, env=env)[0] == 0
    return theirs, ours, env


def test_refresh_only_keeps_the_other_instances_at_their_keys(tmp_path):
    theirs, ours, env = _applied_without(tmp_path, *GONE)

    plan_t = _terraform(theirs, "plan", "-refresh-only", "-no-color")
    code, out, err = _vaultform(ours, "plan", "-refresh-only", "-no-color", env=env)
    assert (code, plan_t.returncode) == (0, 0), out + err + plan_t.stdout + plan_t.stderr
    assert "Invalid index" not in out + err
    assert _outputs_part(out).split("\n\n")[0] == _outputs_part(plan_t.stdout).split("\n\n")[0]

    assert _terraform(theirs, "apply", "-refresh-only", "-auto-approve").returncode == 0
    assert _vaultform(ours, "apply", "-refresh-only", "-auto-approve", env=env)[0] == 0
    for name in ("last", "c", "keys", "all", "gone"):  # null where x[1] was
        read_t = _terraform(theirs, "output", "-json", name)
        code, out, err = _vaultform(ours, "output", "-json", name, env=env)
        assert code == 0, err
        assert _comparable(out) == _comparable(read_t.stdout), name


def test_an_apply_records_a_missing_index_as_null(tmp_path):
    """A targeted apply that leaves x[1] missing stores the outputs made of x as terraform does:
    null at the missing index, the rest as they are (not the whole list as it was before)."""
    theirs, ours, env = _applied_without(tmp_path, "terraform_data.x[1]")
    target = ("apply", "-auto-approve", "-target=terraform_data.x[2]")
    assert _terraform(theirs, *target).returncode == 0
    assert _vaultform(ours, *target, env=env)[0] == 0
    read_t = _terraform(theirs, "output", "-json", "all")
    code, out, err = _vaultform(ours, "output", "-json", "all", env=env)
    assert code == 0, err
    assert _comparable(out) == _comparable(read_t.stdout)


def test_show_json_of_a_refresh_only_plan_has_terraform_keys(tmp_path):
    """A refresh-only plan changes state only: terraform's JSON plan lists no resource_changes (not
    even no-ops) and, like any of its plans, leaves out empty variables."""
    theirs, ours, env = _applied_without(tmp_path, *GONE)
    assert _terraform(theirs, "plan", "-refresh-only", "-out=p").returncode == 0
    assert _vaultform(ours, "plan", "-refresh-only", "-out=p", env=env)[0] == 0
    shown_t = json.loads(_terraform(theirs, "show", "-json", "p").stdout)
    code, out, err = _vaultform(ours, "show", "-json", "p", env=env)
    assert code == 0, err
    shown = json.loads(out)
    left_out = {"resource_drift", "relevant_attributes"}  # vaultform's JSON plan doesn't carry these
    assert set(shown) - {"vaultform"} == set(shown_t) - left_out, (sorted(shown), sorted(shown_t))
    assert "resource_changes" not in shown and "variables" not in shown

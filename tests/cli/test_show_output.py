"""`vaultform output` and `vaultform show FILE` on fixture states and saved plans."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from reconciler.plan.model import Action, Plan, ResourceChange
from reconciler.plan.planfile import save_plan
from reconciler.plan.planfile_crypto import KEY_ENV
from state.format import encode_state
from state.model import State

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cli_state"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def state_file(tmp_path) -> str:
    path = tmp_path / "vaultform.tfstate"
    shutil.copy(FIXTURES / "basic" / "vaultform.tfstate", path)
    return str(path)


def test_listing_hides_sensitive_outputs(state_file):
    code, out, _ = run("output", "-state", state_file)
    assert code == 0
    assert out == 'ids = [\n  "id0",\n  "id1",\n]\npassword = <sensitive>\nrg_name = "rg-app"\n'


def test_one_output_by_name(state_file):
    assert run("output", "-state", state_file, "rg_name")[:2] == (0, '"rg-app"\n')
    assert run("output", "-state", state_file, "password")[:2] == (0, '"hunter2-very-secret"\n')
    assert run("output", "-state", state_file, "-raw", "rg_name")[:2] == (0, "rg-app")
    assert json.loads(run("output", "-state", state_file, "-json", "ids")[1]) == ["id0", "id1"]


def test_all_outputs_as_json(state_file):
    code, out, _ = run("output", "-json", "-state", state_file)
    assert code == 0
    doc = json.loads(out)
    assert doc["ids"] == {
        "sensitive": False,
        "type": ["tuple", ["string", "string"]],
        "value": ["id0", "id1"],
    }
    assert doc["password"]["sensitive"] is True


@pytest.mark.parametrize(
    "argv, message",
    [
        (["-raw", "ids"], "not a string, number or bool"),
        (["nope"], 'Output "nope" not found'),
        (["-raw"], "-raw needs an output name"),
        (["-raw", "-json", "ids"], "cannot be used together"),
    ],
)
def test_output_errors(state_file, argv, message):
    code, _, err = run("output", "-state", state_file, *argv)
    assert code == 1 and message in err


def test_no_outputs_is_a_warning(tmp_path):
    path = tmp_path / "empty.tfstate"
    path.write_text(encode_state(State.new().with_serial(1)))
    code, out, err = run("output", "-state", str(path))
    assert code == 0 and out == "" and "No outputs found" in err


def test_show_a_saved_plan(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv(KEY_ENV, raising=False)
    change = ResourceChange(
        address="terraform_data.d",
        mode="managed",
        type="terraform_data",
        name="d",
        index=None,
        module="",
        provider="terraform",
        action=Action.CREATE,
        before=None,
        after={"input": "hello", "id": None},
        config={"input": "hello"},
    )
    path = tmp_path / "p.plan"
    save_plan(Plan(changes=[change], cloud="local Azure (test)"), path, config_dir=tmp_path)
    code, out, _ = run("show", "-no-color", str(path))
    assert code == 0
    assert "terraform_data.d will be created" in out and "1 to add" in out
    code, out, _ = run("show", "-json", str(path))
    doc = json.loads(out)
    assert doc["resource_changes"][0]["change"]["actions"] == ["create"]


def test_show_a_state_file_by_path(state_file):
    code, out, _ = run("show", state_file)
    assert code == 0 and out == (FIXTURES / "basic" / "show.txt").read_text()

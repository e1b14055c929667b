"""`vaultform workspace`: one configuration, a state per workspace, on the local file and on pg."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from state.backends.local import LocalBackend

FIXTURE = Path(__file__).parents[1] / "fixtures" / "workspaces" / "echo"


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_WORKSPACE", raising=False)
    work = tmp_path / "cfg"
    shutil.copytree(FIXTURE, work)
    monkeypatch.chdir(work)
    return work


def test_local_workspaces_keep_separate_states(work, monkeypatch):
    assert _run("workspace", "show") == (0, "default\n", "")
    assert _run("apply", "-auto-approve", "-no-color")[0] == 0

    code, out, err = _run("workspace", "new", "dev")
    assert code == 0, err
    assert 'Created and switched to workspace "dev"!' in out
    assert (work / ".vaultform" / "environment").read_text() == "dev"
    code, out, err = _run("apply", "-auto-approve", "-no-color")
    assert code == 0, err
    assert "1 added" in out, "the dev workspace must start from an empty state"
    dev_state = LocalBackend(work / "vaultform.tfstate.d" / "dev" / "vaultform.tfstate").read()
    assert dev_state.outputs["workspace"].value == "dev"
    assert LocalBackend(work / "vaultform.tfstate").read().outputs["workspace"].value == "default"

    assert _run("workspace", "list") == (0, "  default\n* dev\n\n", "")
    code, _out, err = _run("workspace", "delete", "dev")
    assert code == 1 and "is your active workspace" in err

    # TF_WORKSPACE wins over the selected one, in terraform.workspace too
    monkeypatch.setenv("TF_WORKSPACE", "default")
    code, out, _err = _run("output", "-raw", "workspace")
    assert (code, out) == (0, "default")
    code, _out, err = _run("workspace", "select", "dev")
    assert code == 1 and "TF_WORKSPACE" in err
    monkeypatch.delenv("TF_WORKSPACE")

    assert _run("workspace", "select", "default")[1] == 'Switched to workspace "default".\n'
    code, _out, err = _run("workspace", "delete", "dev")
    assert code == 1 and "terraform_data.where" in err and "-force" in err
    code, out, err = _run("workspace", "delete", "-force", "dev")
    assert (code, err) == (0, "")
    assert out == (  # as terraform 1.11 says it: the objects dev managed are now managed by nobody
        'Deleted workspace "dev"!\n'
        'WARNING: "dev" was non-empty.\n'
        "The resources managed by the deleted workspace may still exist,\n"
        "but are no longer manageable by vaultform since the state has\n"
        "been deleted.\n\n"
    )
    assert not (work / "vaultform.tfstate.d" / "dev").exists()
    assert _run("workspace", "new", "empty")[0] == 0
    assert _run("workspace", "select", "default")[0] == 0
    assert _run("workspace", "delete", "-force", "empty") == (0, 'Deleted workspace "empty"!\n', "")

    code, _out, err = _run("workspace", "select", "nope")
    assert code == 1 and "doesn't exist" in err and "-or-create" in err
    code, _out, err = _run("workspace", "new", "a/b")
    assert code == 1 and "is not allowed" in err


def _hold_dev_lock(work) -> object:
    """dev's state, locked as a running apply holds it."""
    return LocalBackend(work / "vaultform.tfstate.d" / "dev" / "vaultform.tfstate").lock("OperationTypeApply")


def test_a_workspace_whose_state_is_locked_is_not_deleted(work):
    assert _run("workspace", "new", "dev")[0] == 0
    assert _run("apply", "-auto-approve", "-no-color")[0] == 0
    assert _run("workspace", "select", "default")[0] == 0
    state_file = work / "vaultform.tfstate.d" / "dev" / "vaultform.tfstate"
    lock = _hold_dev_lock(work)
    try:
        # as terraform 1.11: -force skips only the emptiness check, never the state lock
        code, out, err = _run("workspace", "delete", "-force", "-lock-timeout=1s", "dev")
        assert (code, out) == (1, ""), err
        assert "Error: The state is locked by another run" in err
        assert f"Lock ID: {lock.id}" in err and "OperationTypeApply" in err
        assert f"TF_WORKSPACE=dev vaultform force-unlock {lock.id}" in err
        assert "waited 1s" in err and "internal error" not in err
        assert state_file.exists() and _run("workspace", "list")[1] == "* default\n  dev\n\n"
        # -lock=false deletes it anyway, as terraform's does
        code, out, err = _run("workspace", "delete", "-force", "-lock=false", "dev")
        assert code == 0 and out.startswith('Deleted workspace "dev"!'), err
        assert not state_file.exists()
    finally:
        lock.release()


SELECTS = [
    ("workspace", "select", "-or-create", "dev"),  # made: terraform says so, as new does
    ("workspace", "select", "-or-create=true", "default"),
    ("workspace", "select", "-or-create=true", "other"),
    ("workspace", "select", "-or-create=false", "nope"),
]


@pytest.mark.skipif(shutil.which("terraform") is None, reason="install terraform to compare with it")
def test_select_or_create_says_what_terraform_says(work, tmp_path):
    theirs = tmp_path / "tf"
    shutil.copytree(FIXTURE, theirs)
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    env.pop("TF_WORKSPACE", None)
    for argv in SELECTS:
        done = subprocess.run(["terraform", *argv], cwd=theirs, env=env, capture_output=True, text=True)
        code, out, _err = _run(*argv)
        said = re.sub("[Tt]erraform", "vaultform", re.sub("\x1b\\[[0-9;]*m", "", done.stdout))
        assert (code, out) == (done.returncode, said), argv
    assert _run("workspace", "list") == (0, "  default\n  dev\n* other\n\n", "")


def test_backend_local_path_places_the_state(work):
    (work / "backend.tf").write_text(
        'terraform {\n  backend "local" {\n    path = "states/here.tfstate"\n  }\n}\n'
    )
    (work / "states").mkdir()
    code, out, err = _run("apply", "-auto-approve", "-no-color")
    assert code == 0, out + err
    assert LocalBackend(work / "states" / "here.tfstate").read().outputs["workspace"].value == "default"
    assert not (work / "vaultform.tfstate").exists()
    code, out, _err = _run("state", "list")
    assert (code, out) == (0, "terraform_data.where\n")


def test_backend_config_given_to_init_places_each_environments_state(work):
    # terraform 1.11: `init -backend-config=path=...` completes a partial local block, and every
    # later run reads and writes the state there; -reconfigure switches to another environment's
    (work / "backend.tf").write_text('terraform {\n  backend "local" {}\n}\n')
    code, out, err = _run("init", "-input=false", "-no-color", "-backend-config=path=dev.tfstate")
    assert code == 0, out + err
    assert _run("apply", "-auto-approve", "-no-color")[0] == 0
    assert LocalBackend(work / "dev.tfstate").read().outputs["workspace"].value == "default"
    assert not (work / "vaultform.tfstate").exists()

    code, out, err = _run(
        "init", "-input=false", "-no-color", "-reconfigure", "-backend-config=path=prod.tfstate"
    )
    assert code == 0, out + err
    code, out, err = _run("plan", "-no-color", "-input=false")
    assert code == 0 and "Plan: 1 to add, 0 to change, 0 to destroy." in out, out + err
    assert _run("apply", "-auto-approve", "-no-color")[0] == 0
    assert LocalBackend(work / "prod.tfstate").read().outputs["workspace"].value == "default"
    assert _run("state", "list") == (0, "terraform_data.where\n", "")

    # workspace_dir given the same way holds the other workspaces' states
    code, out, err = _run(
        "init",
        "-input=false",
        "-no-color",
        "-reconfigure",
        "-backend-config=path=prod.tfstate",
        "-backend-config=workspace_dir=envs",
    )
    assert code == 0, out + err
    assert _run("workspace", "new", "eu")[0] == 0
    assert _run("apply", "-auto-approve", "-no-color")[0] == 0
    assert LocalBackend(work / "envs" / "eu" / "vaultform.tfstate").read().outputs["workspace"].value == "eu"
    assert _run("workspace", "list") == (0, "  default\n* eu\n\n", "")
    assert not (work / "vaultform.tfstate").exists() and not (work / "vaultform.tfstate.d").exists()


@pytest.mark.parametrize("command", ["new", "select", "delete"])
def test_a_second_argument_is_refused_not_taken_for_a_directory(work, command):
    # terraform 1.11: "Expected a single argument: NAME." - and nothing is created anywhere
    code, _out, err = _run("workspace", command, "dev", "other")
    assert code == 1
    assert "unexpected 'other'" in err and f"usage: vaultform workspace {command}" in err
    assert not (work / "other").exists() and not (work / "vaultform.tfstate.d").exists()


def test_the_approval_question_names_a_workspace_other_than_default(work, monkeypatch):
    """terraform's safety cue: applying to (or destroying) another workspace says which one."""
    monkeypatch.setattr("sys.stdin", io.StringIO("no\n"))
    code, out, _err = _run("apply", "-no-color")
    assert code == 1 and "Do you want to perform these actions?\n" in out
    assert _run("workspace", "new", "stg")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("no\n"))
    code, out, _err = _run("apply", "-no-color")
    assert code == 1 and 'Do you want to perform these actions in workspace "stg"?\n' in out
    assert _run("apply", "-auto-approve", "-no-color")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("no\n"))
    code, out, _err = _run("destroy", "-no-color")
    assert code == 1 and 'Do you really want to destroy all resources in workspace "stg"?\n' in out

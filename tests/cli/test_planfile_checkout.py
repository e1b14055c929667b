"""A saved plan applies to the directory apply runs in - its backend, selected workspace and
state - not to the directory plan ran in: a CI apply job runs in another checkout (another
``_work/N/s``, a restored artifact) than the plan job. Each case runs the same commands with the
terraform binary (1.11) and with vaultform, and asserts the same outcome of both."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parents[1] / "fixtures" / "saved_plan_checkout"
TOOLS = [
    "vaultform",
    pytest.param(
        "terraform",
        marks=pytest.mark.skipif(
            shutil.which("terraform") is None, reason="install terraform (1.11) to compare"
        ),
    ),
]


def _run(tool: str, work: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    env.pop("TF_WORKSPACE", None)
    command = (
        ["terraform"]
        if tool == "terraform"
        else [sys.executable, "-c", "import sys; from reconciler.cli.main import main; sys.exit(main())"]
    )
    done = subprocess.run(
        [*command, *args, *([] if args[0] == "workspace" else ["-no-color"])],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, " ".join((done.stdout + done.stderr).split())


def _ok(tool: str, work: Path, *args: str) -> str:
    code, out = _run(tool, work, *args)
    assert code == 0, out
    return out


def _planned(tool: str, work: Path, *flags: str, workspace: str | None = None) -> None:
    """``work``: the fixture applied with "one", then planned with "two" into p.bin."""
    shutil.copytree(FIXTURE, work)
    if tool == "terraform":
        _ok(tool, work, "init", "-input=false")
    if workspace is not None:
        _ok(tool, work, "workspace", "new", workspace)
    _ok(tool, work, "apply", "-input=false", "-auto-approve", *flags)
    main = work / "main.tf"
    main.write_text(main.read_text().replace('"one"', '"two"'))
    _ok(tool, work, "plan", "-input=false", "-out=p.bin", *flags)


def _input(state: Path) -> str | None:
    """The applied value in ``state``; None when there is no state file."""
    if not state.exists():
        return None
    [resource] = json.loads(state.read_text())["resources"]
    return resource["instances"][0]["attributes"]["input"]["value"]


@pytest.mark.parametrize("tool", TOOLS)
def test_a_plan_applied_in_a_copy_writes_the_copys_state(tool, tmp_path):
    planned, copy = tmp_path / "a", tmp_path / "b"
    _planned(tool, planned)
    shutil.copytree(planned, copy)

    out = _ok(tool, copy, "apply", "-input=false", "p.bin")
    assert "Resources: 0 added, 1 changed, 0 destroyed" in out
    assert _input(copy / f"{tool}.tfstate") == "two"
    assert _input(planned / f"{tool}.tfstate") == "one"  # the checkout plan ran in is not touched

    # each checkout holds its own state against the plan: the copy's moved on, the original's did not
    code, out = _run(tool, copy, "apply", "-input=false", "p.bin")
    assert code == 1 and re.search(r"Saved plan is stale|saved plan is stale", out), out
    assert re.search(r"changed by another operation|the state changed since the plan was made", out), out
    _ok(tool, planned, "apply", "-input=false", "p.bin")
    assert _input(planned / f"{tool}.tfstate") == "two"


@pytest.mark.parametrize("tool", TOOLS)
def test_a_moved_checkout_applies_in_the_workspace_selected_there(tool, tmp_path):
    _planned(tool, tmp_path / "j1", workspace="stage")
    moved = tmp_path / "j2"
    (tmp_path / "j1").rename(moved)

    _ok(tool, moved, "apply", "-input=false", "p.bin")
    assert _input(moved / f"{tool}.tfstate.d" / "stage" / f"{tool}.tfstate") == "two"
    assert not (moved / f"{tool}.tfstate").exists()


@pytest.mark.parametrize("tool", TOOLS)
def test_a_plan_is_refused_against_another_state(tool, tmp_path):
    planned, other = tmp_path / "a", tmp_path / "c"
    _planned(tool, planned)
    shutil.copytree(planned, other)
    (other / f"{tool}.tfstate").unlink()
    (other / "main.tf").write_text((FIXTURE / "main.tf").read_text())
    _ok(tool, other, "apply", "-input=false", "-auto-approve")  # a state of its own, another lineage
    shutil.copy(planned / "main.tf", other / "main.tf")
    state = (other / f"{tool}.tfstate").read_bytes()

    code, out = _run(tool, other, "apply", "-input=false", "p.bin")
    assert code == 1, out
    assert re.search(r"created from a different state lineage|the state is another one than the plan", out), (
        out
    )
    assert (other / f"{tool}.tfstate").read_bytes() == state


@pytest.mark.parametrize("tool", TOOLS)
def test_the_state_flag_is_given_to_apply_not_taken_from_the_plan(tool, tmp_path):
    planned, copy = tmp_path / "a", tmp_path / "b"
    _planned(tool, planned, "-state=s.tfstate")
    shutil.copytree(planned, copy)

    # without -state apply uses the directory's own state, which is not the plan's: refused
    code, out = _run(tool, copy, "apply", "-input=false", "p.bin")
    assert code == 1, out
    assert re.search(
        r"created from a different state lineage|there is no state where it would be applied", out
    )
    assert not (copy / f"{tool}.tfstate").exists() or _input(copy / f"{tool}.tfstate") is None
    if tool == "vaultform":  # says how to apply it
        assert "give apply the same -state, as `vaultform apply -state=s.tfstate p.bin`" in out

    _ok(tool, copy, "apply", "-input=false", "-state=s.tfstate", "p.bin")  # relative to where apply runs
    assert _input(copy / "s.tfstate") == "two"
    assert _input(planned / "s.tfstate") == "one"


def test_a_plan_made_for_a_directory_finds_it_from_where_apply_runs(tmp_path):
    """``plan DIR -out F`` (vaultform keeps terraform 0.14's DIR): apply finds DIR again from
    the directory it runs in, however plan was given it."""
    first = tmp_path / "a"
    _planned("vaultform", first / "infra")
    (first / "infra" / "p.bin").unlink()
    _ok("vaultform", first, "plan", "-input=false", "-out=p.bin", str(first / "infra"))  # absolute
    copy = tmp_path / "b"
    shutil.copytree(first, copy)

    _ok("vaultform", copy, "apply", "-input=false", "p.bin")
    assert _input(copy / "infra" / "vaultform.tfstate") == "two"
    assert _input(first / "infra" / "vaultform.tfstate") == "one"

    code, out = _run("vaultform", copy / "infra", "apply", "-input=false", "../p.bin")
    assert code == 1 and "No directory infra here" in out and "-chdir=DIR" in out, out

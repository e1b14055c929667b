"""A state that isn't this configuration's is refused until the user says so.

Copying another directory's state in made `apply -auto-approve` delete that team's estate.
Each configuration directory now remembers (in .vaultform/lineage.json) the lineage of the
state it last used; another lineage is refused with both lineages named and the two ways
out (-allow-lineage-change, `state push -force`). A plan that deletes everything in state
and creates everything configured is called out before its changes, in text and in -json.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from state import lineage_memory
from state.backends.local import LocalBackend
from state.lineage_memory import DirectoryMemory, LineageChange, Verdict

FIXTURES = Path(__file__).parents[1] / "fixtures" / "state" / "lineage"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def teams(tmp_path) -> tuple[Path, Path]:
    a, b = tmp_path / "team_a", tmp_path / "team_b"
    shutil.copytree(FIXTURES / "team_a", a)
    shutil.copytree(FIXTURES / "team_b", b)
    for d in (a, b):
        code, out, err = run("apply", "-auto-approve", "-no-color", str(d))
        assert code == 0, out + err
    return a, b


def lineage(d: Path) -> str:
    return LocalBackend.for_directory(d).read().lineage


def copy_state(source: Path, target: Path) -> bytes:
    shutil.copyfile(source / "vaultform.tfstate", target / "vaultform.tfstate")
    return (target / "vaultform.tfstate").read_bytes()


def test_a_copied_state_of_another_configuration_is_refused(teams):
    a, b = teams
    ours, theirs = lineage(b), lineage(a)
    copied = copy_state(a, b)
    for command in (("apply", "-auto-approve"), ("plan",), ("destroy", "-auto-approve")):
        code, out, err = run(*command, "-no-color", str(b))
        assert code == 1, (command, out + err)
        assert "The state is not the one this configuration last used" in err
        assert theirs in err and ours in err  # both lineages
        assert "-allow-lineage-change" in err and "vaultform state push -force" in err  # both ways out
        assert "Traceback" not in err
        assert "will perform" not in out
    assert (b / "vaultform.tfstate").read_bytes() == copied, "the copied state was changed"


def test_allow_lineage_change_accepts_and_remembers_and_the_plan_calls_it_out(teams):
    a, b = teams
    theirs = lineage(a)
    copy_state(a, b)
    code, out, err = run("plan", "-no-color", "-allow-lineage-change", str(b))
    assert code == 0, out + err
    assert "This plan deletes all 3 objects in the state and creates all 2 the configuration declares" in out
    assert out.index("deletes all 3 objects") < out.index("will perform the following actions")
    assert "now uses a state of another lineage" in err

    code, out, err = run("plan", "-no-color", "-json", str(b))  # remembered: no flag needed now
    assert code == 0, out + err
    messages = [json.loads(line) for line in out.splitlines()]
    codes = [m["diagnostic"]["code"] for m in messages if m["type"] == "diagnostic"]
    assert "whole_state_replaced" in codes
    assert DirectoryMemory(b).recall(LocalBackend.for_directory(b).identity()).lineage == theirs


def test_state_push_force_is_the_other_way_out(teams, tmp_path, monkeypatch):
    a, b = teams
    theirs = lineage(a)
    monkeypatch.chdir(b)
    code, _out, err = run("state", "push", str(a / "vaultform.tfstate"))
    assert code == 1 and "another lineage" in err
    code, out, err = run("state", "push", "-force", str(a / "vaultform.tfstate"))
    assert code == 0, out + err
    code, out, err = run("plan", "-no-color", ".")
    assert code == 0, out + err
    assert lineage(b) == theirs


def test_a_state_pushed_where_none_is_stored_is_refused_without_force(teams, tmp_path, monkeypatch):
    a, b = teams
    (b / "vaultform.tfstate").unlink()
    (b / "vaultform.tfstate.backup").unlink(missing_ok=True)
    monkeypatch.chdir(b)
    code, out, err = run("state", "push", str(a / "vaultform.tfstate"))
    assert code == 1 and "Refusing to push a state of lineage" in err, out + err
    assert not (b / "vaultform.tfstate").exists()


def test_a_configuration_that_never_ran_still_gets_the_warning(teams, tmp_path):
    a, _b = teams
    fresh = tmp_path / "fresh"
    shutil.copytree(FIXTURES / "team_b", fresh)
    copy_state(a, fresh)
    code, out, err = run("plan", "-no-color", str(fresh))
    assert code == 0, out + err  # nothing remembered: trusted on first use
    assert "This plan deletes all 3 objects" in out


def test_its_own_state_and_a_new_state_pass(teams):
    _a, b = teams
    code, out, err = run("apply", "-auto-approve", "-no-color", str(b))
    assert code == 0 and "0 added" in out, out + err
    (b / "vaultform.tfstate").unlink()  # a lost state: the next apply starts a new lineage
    for _ in range(2):
        code, out, err = run("apply", "-auto-approve", "-no-color", str(b))
        assert code == 0, out + err
    assert "whole_state_replaced" not in out and "deletes all" not in out


def test_each_state_file_of_a_configuration_has_its_own_lineage(teams, tmp_path):
    _a, b = teams
    prod = tmp_path / "prod.tfstate"
    code, out, err = run("apply", "-auto-approve", "-no-color", f"-state={prod}", str(b))
    assert code == 0, out + err
    code, out, err = run("plan", "-no-color", str(b))
    assert code == 0, out + err
    code, out, err = run("plan", "-no-color", f"-state={prod}", str(b))
    assert code == 0, out + err


def test_the_rule_itself(tmp_path):
    memory = DirectoryMemory(tmp_path)
    check = lineage_memory.check
    assert check(memory, "s", "s", None, "new-1") is Verdict.NEW_STATE
    assert check(memory, "s", "s", "new-1", "new-1") is Verdict.SAME
    with pytest.raises(LineageChange) as refused:
        check(memory, "s", "where", "other", "other")
    assert refused.value.found == "other" and refused.value.remembered.lineage == "new-1"
    assert check(memory, "s", "s", "other", "other", allow_change=True) is Verdict.ACCEPTED
    assert check(memory, "s", "s", "other", "other") is Verdict.SAME
    assert check(memory, "t", "t", "x", "x") is Verdict.FIRST_USE
    (tmp_path / ".vaultform" / "lineage.json").write_text("{damaged")
    assert check(memory, "s", "s", "y", "y") is Verdict.FIRST_USE  # a damaged memory starts afresh


def test_the_lineage_checked_is_the_one_stored_now(tmp_path):
    """A run that read no state, then waited for the lock while another created one, checks that one."""
    from state.errors import StateError
    from state.model import State

    waiting = LocalBackend.for_directory(tmp_path)
    assert waiting.stored_lineage() is None
    written = LocalBackend.for_directory(tmp_path).write(State.new())
    assert waiting.stored_lineage() == written.lineage
    with pytest.raises(StateError, match="changed since this run read it"):
        waiting.write(State.new())  # what the backend read is still what it guards writes with


def test_a_renamed_module_call_gets_the_moved_block_to_write(tmp_path):
    # every object deleted and created again because the module call was renamed: the warning
    # said only "another configuration's state"
    (tmp_path / "modules" / "data").mkdir(parents=True)
    (tmp_path / "modules" / "data" / "main.tf").write_text(
        'resource "terraform_data" "x" {\n  input = 1\n}\n'
    )
    call = 'module "%s" {\n  source   = "./modules/data"\n  for_each = toset(["a", "b"])\n}\n'
    (tmp_path / "main.tf").write_text(call % "old")
    assert run("apply", "-auto-approve", str(tmp_path))[0] == 0
    (tmp_path / "main.tf").write_text(call % "new")
    code, out, err = run("plan", "-no-color", str(tmp_path))
    assert code == 0 and "This plan deletes all 2 objects in the state" in out + err
    assert "moved { from = module.old to = module.new }" in out + err
    (tmp_path / "main.tf").write_text(call % "new" + 'resource "terraform_data" "y" {}\n')
    code, out, err = run("plan", "-no-color", str(tmp_path))
    assert "This plan deletes all 2 objects" in out + err and "moved {" not in out + err  # not alike

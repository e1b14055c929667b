"""``vaultform init -migrate-state``: every workspace's state moves between backends with its
lineage, serial and resources, after Terraform's questions (compared with the terraform binary
in test_migrate_parity.py)."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import psycopg
import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from state.format import decode_state

FIXTURES = Path(__file__).parents[1] / "fixtures" / "migrate"


def _run(*args: str, answers: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    sys.stdin = io.StringIO(answers)
    try:
        code = main(list(args), output=Output(out=out, err=err, no_color=True))
    finally:
        sys.stdin = saved
    return code, _flat(out.getvalue()), _flat(err.getvalue())


def _flat(text: str) -> str:
    """The words of the output, so a question's wrapping doesn't matter."""
    return " ".join(text.split())


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_WORKSPACE", raising=False)
    monkeypatch.delenv("PG_CONN_STR", raising=False)
    work = tmp_path / "cfg"
    shutil.copytree(FIXTURES / "estate", work)
    monkeypatch.chdir(work)
    return work


def _use_backend(work: Path, name: str | None) -> None:
    target = work / "backend.tf"
    if name is None:
        target.unlink()
    else:
        shutil.copy(FIXTURES / f"backend-{name}.tf.txt", target)


def _fresh_database(postgres, name: str) -> str:
    with psycopg.connect(postgres.conn_str(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres.conn_str(name)


def _estate(work: Path) -> dict[str, tuple[str, int, list[str]]]:
    """Two workspaces applied on the local file: {workspace: (lineage, serial, addresses)}."""
    assert _run("apply", "-auto-approve", "-no-color")[0] == 0
    assert _run("workspace", "new", "staging")[0] == 0
    assert _run("apply", "-auto-approve", "-no-color")[0] == 0
    assert _run("apply", "-auto-approve", "-no-color", "-replace=terraform_data.item[0]")[0] == 0
    assert _run("workspace", "select", "default")[0] == 0
    return {
        "default": _summary((work / "vaultform.tfstate").read_text()),
        "staging": _summary((work / "vaultform.tfstate.d" / "staging" / "vaultform.tfstate").read_text()),
    }


def _summary(text: str) -> tuple[str, int, list[str]]:
    state = decode_state(text)
    return state.lineage, state.serial, state.addresses()


def _pg_states(database: str) -> dict[str, tuple[str, int, list[str]]]:
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT name, data FROM terraform_remote_state.states").fetchall()
    return {name: _summary(data) for name, data in rows}


def test_local_to_pg_to_local_keeps_lineage_serial_and_resources(work, postgres):
    before = _estate(work)
    assert before["default"][0] != before["staging"][0]
    database = _fresh_database(postgres, "t_migrate_round")

    # a first set-up over local states copies them (Terraform: without -migrate-state), after asking
    _use_backend(work, "pg")
    code, out, err = _run("init", "-no-color", f"-backend-config=conn_str={database}", answers="yes\n")
    assert code == 0, err
    assert 'Do you want to migrate all workspaces to "pg"?' in out
    assert 'Successfully configured the backend "pg"!' in out
    assert _pg_states(database) == before
    # the local files are put aside, not left to be mistaken for the state
    assert not (work / "vaultform.tfstate").exists()
    assert _summary((work / "vaultform.tfstate.backup").read_text()) == before["default"]
    code, out, _ = _run("plan", "-no-color")
    assert code == 0 and "No changes." in out

    # the block removed: init refuses until told what to do with the states
    _use_backend(work, None)
    for command in ("plan", "apply"):  # not against an empty local file: init first
        code, out, err = _run(command, "-no-color", "-input=false")
        assert code == 1 and 'Backend initialization required: please run "vaultform init"' in err
        assert 'Reason: Unsetting the previously set backend "pg"' in err
    code, out, err = _run("init", "-no-color")
    assert code == 1
    assert "Backend configuration changed" in err and "vaultform init -migrate-state" in err
    code, out, err = _run("init", "-no-color", "-migrate-state", "-input=false")
    assert code == 1 and "Error asking for state migration action: input is disabled" in err
    assert not (work / "vaultform.tfstate").exists()

    code, out, err = _run("init", "-no-color", "-migrate-state", answers="yes\n")
    assert code == 0, err
    assert 'unconfiguring your previously set "pg" backend' in out
    assert 'Successfully unset the backend "pg"' in out
    after = {
        "default": _summary((work / "vaultform.tfstate").read_text()),
        "staging": _summary((work / "vaultform.tfstate.d" / "staging" / "vaultform.tfstate").read_text()),
    }
    assert after == before
    assert _pg_states(database) == before  # the source is left as it was
    code, out, _ = _run("plan", "-no-color")
    assert code == 0 and "No changes." in out


def test_force_copy_answers_yes_and_input_false_refuses(work, postgres):
    assert _run("apply", "-auto-approve", "-no-color")[0] == 0
    local = _summary((work / "vaultform.tfstate").read_text())
    database = _fresh_database(postgres, "t_migrate_force")
    _use_backend(work, "pg")

    code, out, err = _run("init", "-no-color", "-input=false", f"-backend-config=conn_str={database}")
    assert code == 1
    assert "Can't ask approval for state migration when interactive input is disabled." in err
    assert (work / "vaultform.tfstate").exists() and _pg_states(database) == {}

    code, out, err = _run(
        "init", "-no-color", "-input=false", "-force-copy", f"-backend-config=conn_str={database}"
    )
    assert code == 0, err
    assert "Do you want" not in out
    assert _pg_states(database) == {"default": local}


def test_answer_no_keeps_the_destination_and_yes_overwrites_it(work, postgres):
    """A destination that already holds another state: the two are named in temporary files; "no"
    keeps the destination's, "yes" replaces it with the source's lineage."""
    database = _fresh_database(postgres, "t_migrate_overwrite")
    # the destination first: a state of its own in pg
    _use_backend(work, "pg")
    assert _run("init", "-no-color", f"-backend-config=conn_str={database}")[0] == 0
    assert _run("apply", "-auto-approve", "-no-color")[0] == 0
    theirs = _pg_states(database)["default"]
    # then the same directory moves to another local path with a state of its own
    _use_backend(work, "local-moved")
    code, _, err = _run("init", "-no-color", "-reconfigure")
    assert code == 0, err
    code, _, err = _run("apply", "-auto-approve", "-no-color")
    assert code == 0, err
    assert _run("apply", "-auto-approve", "-no-color", '-replace=terraform_data.keyed["a"]')[0] == 0
    ours = _summary((work / "moved.tfstate").read_text())
    assert ours[0] != theirs[0]

    _use_backend(work, "pg")
    code, _, err = _run("plan", "-no-color")
    assert code == 1 and 'Reason: Backend type changed from "local" to "pg"' in err
    args = ("init", "-no-color", "-migrate-state", f"-backend-config=conn_str={database}")
    code, out, err = _run(*args, answers="no\n")
    assert code == 0, err
    assert 'vaultform detected that the backend type changed from "local" to "pg".' in out
    assert "Do you want to copy existing state to the new backend?" in out
    assert "An existing non-empty state already exists in the new backend." in out
    assert 'Previous (backend "local"): ' in out and "1-local.tfstate" in out and "2-pg.tfstate" in out
    assert _pg_states(database)["default"] == theirs

    # the setup is recorded now; to ask again, move back and forth
    _use_backend(work, "local-moved")
    assert _run("init", "-no-color", "-reconfigure")[0] == 0
    _use_backend(work, "pg")
    code, out, err = _run(*args, answers="maybe\nyes\n")
    assert code == 0, err
    lineage, serial, addresses = _pg_states(database)["default"]
    assert (lineage, addresses) == (ours[0], ours[2])
    assert serial == max(ours[1], theirs[1] + 1)  # a stored serial never goes back
    assert (work / "moved.tfstate").exists()  # a changed backend's source stays as it was


def test_migrate_state_and_reconfigure_exclude_each_other(work):
    _use_backend(work, "local-moved")
    code, _, err = _run("init", "-no-color", "-migrate-state", "-reconfigure")
    assert code == 1
    assert "The -migrate-state and -reconfigure options are mutually-exclusive." in err


def test_no_answer_to_the_copy_question_changes_nothing(work):
    # a pipeline ran init with standard input closed: terraform stops with "Error asking for
    # confirmation: EOF"; taking it for a no would start an empty state and orphan every object
    assert _run("apply", "-auto-approve", "-no-color")[0] == 0
    before = (work / "vaultform.tfstate").read_text()
    _use_backend(work, "local-moved")
    code, _out, err = _run("init", "-no-color", answers="")
    assert code == 1
    assert "Error asking for confirmation: EOF" in err
    assert (work / "vaultform.tfstate").read_text() == before
    code, _out, err = _run("plan", "-no-color")
    assert code == 1 and "Backend initialization required" in err  # still to be done, not done empty

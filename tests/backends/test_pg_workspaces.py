"""Workspaces on the pg backend: one row of the states table per workspace."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import psycopg
import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output

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


def test_pg_workspaces_are_rows_by_name(work, postgres):
    name = "t_workspaces"
    with psycopg.connect(postgres.conn_str(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    database = postgres.conn_str(name)
    (work / "backend.tf").write_text('terraform {\n  backend "pg" {}\n}\n')
    assert _run("init", "-no-color", f"-backend-config=conn_str={database}")[0] == 0
    assert _run("apply", "-auto-approve", "-no-color")[0] == 0
    assert _run("workspace", "new", "staging")[0] == 0
    code, out, err = _run("apply", "-auto-approve", "-no-color")
    assert code == 0 and "1 added" in out, err
    assert _run("workspace", "list") == (0, "  default\n* staging\n\n", "")
    with psycopg.connect(database) as conn:
        rows = dict(conn.execute("SELECT name, data FROM terraform_remote_state.states").fetchall())
    assert sorted(rows) == ["default", "staging"]
    assert '"state of staging"' in rows["staging"] and '"state of default"' in rows["default"]
    assert not (work / "vaultform.tfstate").exists()


def test_a_workspace_whose_state_is_locked_is_neither_deleted_nor_made(work, database):
    from state.backends.pg import PgBackend

    (work / "backend.tf").write_text('terraform {\n  backend "pg" {}\n}\n')
    assert _run("init", "-no-color", f"-backend-config=conn_str={database}")[0] == 0
    assert _run("workspace", "new", "dev")[0] == 0
    assert _run("apply", "-auto-approve", "-no-color")[0] == 0
    assert _run("workspace", "select", "default")[0] == 0
    holder = PgBackend(database, workspace="dev")
    lock = holder.lock("OperationTypeApply")
    try:  # as terraform 1.11: -force skips only the emptiness check, never the state lock
        code, out, err = _run("workspace", "delete", "-force", "-lock-timeout=1s", "dev")
        assert (code, out) == (1, ""), err
        assert "Error: The state is locked by another run" in err and "internal error" not in err
        assert f"Lock ID: {lock.id}" in err and "waited 1s" in err
        assert _run("workspace", "list")[1] == "* default\n  dev\n\n"
    finally:
        lock.release()
        holder.close()
    holder = PgBackend(database, workspace="qa")  # a workspace made by another run meanwhile
    lock = holder.lock("workspace new")
    try:
        code, _out, err = _run("workspace", "new", "qa")
        assert (
            code == 1 and "Error: The state is locked by another run" in err and "internal error" not in err
        )
    finally:
        lock.release()
        holder.close()
    code, out, err = _run("workspace", "delete", "-force", "dev")
    assert code == 0 and out.startswith('Deleted workspace "dev"!'), err
    assert _run("workspace", "list")[1] == "* default\n\n"

"""The pg backend's lock and Terraform's exclude each other: a terraform run holding its pg lock
refuses vaultform (told to wait, never a traceback) until it ends, and vaultform's lock refuses
terraform. Terraform's side is the real terraform binary where it is quick to drive, and otherwise a
session taking Terraform's lock with the queries of terraform 1.11's pg backend (client.go)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import threading
import time

import psycopg
import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from state.backends.pg import PgBackend
from state.errors import StateError
from state.lock import LockError
from state.model import State

TERRAFORM = shutil.which("terraform")
needs_terraform = pytest.mark.skipif(TERRAFORM is None, reason="install terraform (1.11) to lock with it")
TERRAFORM_ENV = {
    **os.environ,
    "TF_CLI_CONFIG_FILE": "/dev/null",
    "CHECKPOINT_DISABLE": "1",
    "TF_IN_AUTOMATION": "1",
}
CONFIG = 'terraform {{\n  backend "pg" {{}}\n}}\nresource "terraform_data" "x" {{\n  input = "{value}"\n}}\n'


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


def terraform_lock(conn, workspace: str = "default", schema: str = "terraform_remote_state") -> bool:
    """Terraform 1.11's pg backend ``Lock`` on ``conn``: True when it got the lock (then held)."""
    row = conn.execute(
        f"SELECT states.id, pg_try_advisory_lock(states.id), pg_try_advisory_lock(-1) "
        f'FROM "{schema}".states WHERE states.name = %s',
        (workspace,),
    ).fetchone()
    if row is None:  # creating the workspace: the creation lock alone
        return bool(conn.execute("SELECT pg_try_advisory_lock(-1)").fetchone()[0])
    row_id, did_lock, did_lock_for_create = row
    if not did_lock:
        conn.execute("SELECT pg_advisory_unlock(-1)")
        return False
    if not did_lock_for_create:
        conn.execute("SELECT pg_advisory_unlock(%s::bigint)", (row_id,))
        return False
    conn.execute("SELECT pg_advisory_unlock(-1)")
    return True


def _advisory_holders(database: str) -> set[int]:
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted").fetchall()
    return {r[0] for r in rows}


def _stored_row(database: str, schema: str = "terraform_remote_state"):
    with psycopg.connect(database) as conn:
        return conn.execute(
            f'SELECT id, data FROM "{schema}".states WHERE name = %s', ("default",)
        ).fetchone()


@needs_terraform
def test_a_terraform_apply_at_its_prompt_refuses_vaultform_until_it_ends(tmp_path, database):
    tf, vf = tmp_path / "tf", tmp_path / "vf"
    for work, value in ((tf, "terraform"), (vf, "vaultform")):
        work.mkdir()
        (work / "main.tf").write_text(CONFIG.format(value=value))
    init = [TERRAFORM, "init", "-no-color", f"-backend-config=conn_str={database}"]
    subprocess.run(init, cwd=tf, env=TERRAFORM_ENV, check=True, capture_output=True)
    subprocess.run([TERRAFORM, "apply", "-auto-approve", "-no-color"], cwd=tf, env=TERRAFORM_ENV, check=True)
    assert _run("init", "-no-color", f"-backend-config=conn_str={database}", str(vf))[0] == 0
    (tf / "main.tf").write_text(CONFIG.format(value="terraform, changed"))
    written = _stored_row(database)

    terraform = subprocess.Popen(
        [TERRAFORM, "apply", "-no-color"],
        cwd=tf,
        env=TERRAFORM_ENV,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _advisory_holders(database):  # terraform locked, and waits for its "yes"
            assert terraform.poll() is None and time.monotonic() < deadline, terraform.communicate()[0]
            time.sleep(0.1)
        code, out, err = _run("apply", "-auto-approve", "-no-color", "-allow-lineage-change", str(vf))
        assert terraform.poll() is None, "terraform ended too early for this test"
    finally:
        answered, _ = terraform.communicate("no\n", timeout=60)
    assert code == 1, out + err
    assert "The state is locked by another run" in err
    assert "locked by a terraform run" in err and "Terraform's pg backend lock" in err
    assert "-lock-timeout=" in err and "Traceback" not in err
    assert _stored_row(database) == written  # vaultform wrote nothing
    assert "Apply cancelled" in answered

    code, out, err = _run("apply", "-auto-approve", "-no-color", "-allow-lineage-change", str(vf))
    assert code == 0, out + err
    assert '"vaultform"' in _stored_row(database)[1]


@needs_terraform
def test_vaultform_holding_the_lock_refuses_a_terraform_apply(tmp_path, database):
    tf = tmp_path / "tf"
    tf.mkdir()
    (tf / "main.tf").write_text(CONFIG.format(value="terraform"))
    subprocess.run(
        [TERRAFORM, "init", "-no-color", f"-backend-config=conn_str={database}"],
        cwd=tf,
        env=TERRAFORM_ENV,
        check=True,
        capture_output=True,
    )
    apply = [TERRAFORM, "apply", "-auto-approve", "-no-color"]

    def terraform_apply() -> subprocess.CompletedProcess:
        return subprocess.run(apply, cwd=tf, env=TERRAFORM_ENV, capture_output=True, text=True)

    backend = PgBackend(database)
    try:
        lock = backend.lock("apply")  # no row yet: Terraform's creation key
        refused = terraform_apply()
        assert refused.returncode == 1 and "Error acquiring the state lock" in refused.stderr
        assert "Already locked for workspace creation" in refused.stderr
        backend.write(State.new())  # the row, locked
        refused = terraform_apply()
        assert refused.returncode == 1 and "Workspace is already locked: default" in refused.stderr
        lock.release()

        lock = backend.lock("apply")  # a workspace with its row
        refused = terraform_apply()
        assert refused.returncode == 1 and "Workspace is already locked: default" in refused.stderr
        assert '"terraform"' not in _stored_row(database)[1]
        lock.release()
        done = terraform_apply()
        assert done.returncode == 0, done.stdout + done.stderr
        assert '"terraform"' in _stored_row(database)[1]
    finally:
        backend.close()


def test_terraforms_row_lock_refuses_vaultform_and_lock_timeout_waits_for_it(database):
    PgBackend(database).write(State.new())
    backend = PgBackend(database)
    with psycopg.connect(database, autocommit=True) as terraform:
        assert terraform_lock(terraform)
        try:
            with pytest.raises(LockError) as refused:
                backend.lock("apply")
            assert refused.value.summary == "The state is locked by another run"
            assert "locked by a terraform run" in refused.value.detail
            assert f"PostgreSQL session {terraform.info.backend_pid} (from 127.0.0.1" in refused.value.detail
            assert "-lock-timeout=60s" in refused.value.detail
            assert backend.lock_info() is None  # nothing recorded, nothing left held
            assert backend._conn.info.backend_pid not in _advisory_holders(database)

            release = threading.Timer(1.0, lambda: terraform.execute("SELECT pg_advisory_unlock_all()"))
            release.start()
            started = time.monotonic()
            lock = backend.lock("apply", timeout=30, poll_interval=0.05)
            assert 0.9 < time.monotonic() - started < 20
            assert backend.lock_info() is not None and backend.lock_info().id == lock.id
            assert not terraform_lock(terraform)
            lock.release()
            assert terraform_lock(terraform)
        finally:
            backend.close()


def test_terraforms_creation_lock_refuses_vaultform_on_a_new_workspace(database):
    backend = PgBackend(database, workspace="new")
    with psycopg.connect(database, autocommit=True) as terraform:
        try:
            backend.read()  # creates the table; no row for the workspace
            assert terraform_lock(terraform, "new")  # terraform creating "new": the creation key
            with pytest.raises(LockError) as refused:
                backend.lock("workspace new")
            assert "holds the workspace creation lock of Terraform's pg backend" in refused.value.detail
            assert "-lock-timeout=60s" in refused.value.detail
            terraform.execute("SELECT pg_advisory_unlock_all()")
            backend.lock("workspace new").release()
        finally:
            backend.close()


def test_vaultforms_lock_holds_terraform_off_from_a_new_workspace_to_its_own_row(database):
    """On a workspace with no row, vaultform holds Terraform's creation key; its first write locks the
    new row and lets the creation key go, so other workspaces can be locked again; unlocking frees all."""
    backend, other = PgBackend(database, workspace="fresh"), PgBackend(database, workspace="other")
    other.write(State.new())
    try:
        with psycopg.connect(database, autocommit=True) as terraform:
            lock = backend.lock("apply")
            assert not terraform_lock(terraform, "fresh")
            assert not terraform_lock(terraform, "other")  # the creation key is the whole database's
            backend.write(State.new())
            assert not terraform_lock(terraform, "fresh")
            assert terraform_lock(terraform, "other")
            terraform.execute("SELECT pg_advisory_unlock_all()")
            lock.release()
            assert backend._conn.info.backend_pid not in _advisory_holders(database)
            assert terraform_lock(terraform, "fresh")
    finally:
        backend.close()
        other.close()


def test_a_lost_connection_stops_the_run_instead_of_writing_unlocked(database):
    backend = PgBackend(database)
    try:
        lock = backend.lock("apply")
        with psycopg.connect(database, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (backend._conn.info.backend_pid,))
        with pytest.raises(StateError):
            backend.read()  # the session is gone
        with pytest.raises(StateError, match="connection to PostgreSQL that held the state lock was lost"):
            backend.write(State.new())
        assert _stored_row(database) is None
        lock.release()
    finally:
        backend.close()

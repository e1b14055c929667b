"""The pg backend on a real PostgreSQL: init, plan and apply through it, eight applies at once on
one state, and a SIGKILLed holder's lock freed by PostgreSQL itself."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from providers.azurelocal.app import Emulator
from reconciler.cli.main import main
from reconciler.cli.output import Output
from state.backends.pg import PgBackend
from state.errors import StateError
from state.model import InstanceState, State

FIXTURES = Path(__file__).parents[1] / "fixtures"
CHILD = [sys.executable, "-c", "import sys; from reconciler.cli.main import main; sys.exit(main())"]


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def estate(tmp_path, monkeypatch, database):
    """The slow identities configuration with an empty backend "pg" block, initialised."""
    work = tmp_path / "cfg"
    shutil.copytree(FIXTURES / "crash" / "identities", work)
    (work / "backend.tf").write_text('terraform {\n  backend "pg" {}\n}\n')
    db = tmp_path / "az.db"
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(db))
    emulator = Emulator(db)
    emulator.configure_faults(latency_ms=150)
    emulator.store.close()
    code, out, err = _run("init", "-no-color", f"-backend-config=conn_str={database}", str(work))
    assert code == 0, out + err
    assert 'Successfully configured the backend "pg"' in out
    return work, database


def _stored(conn_str: str, workspace: str = "default"):
    backend = PgBackend(conn_str, workspace=workspace)
    try:
        return backend.read()
    finally:
        backend.close()


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        CHILD + args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
    )


def _wait_for(child: subprocess.Popen, text: str) -> str:
    seen = []
    for line in child.stdout:
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise AssertionError(
        f"the child ended without printing {text!r}:\n{''.join(seen)}\n{child.stderr.read()}"
    )


def test_plan_needs_init_and_apply_goes_to_the_states_table(tmp_path, database):
    work = tmp_path / "cfg"
    work.mkdir()
    (work / "main.tf").write_text(
        'terraform {\n  backend "pg" {\n    schema_name = "teamstate"\n  }\n}\n'
        'resource "terraform_data" "a" {\n  input = terraform.workspace\n}\n'
    )
    code, _out, err = _run("plan", "-no-color", str(work))
    assert code == 1
    assert 'Backend initialization required: please run "vaultform init"' in err
    assert 'Initial configuration of the requested backend "pg"' in err

    code, out, err = _run("init", "-no-color", f"-backend-config=conn_str={database}", str(work))
    assert code == 0, out + err
    recorded = (work / ".vaultform" / "backend.json").read_text()
    assert '"type": "pg"' in recorded and '"schema_name": "teamstate"' in recorded

    code, out, err = _run("apply", "-auto-approve", "-no-color", str(work))
    assert code == 0, out + err
    assert not (work / "vaultform.tfstate").exists()
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT id, name, data FROM teamstate.states").fetchall()
        indexes = {
            r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname='teamstate'")
        }
    assert [r[1] for r in rows] == ["default"]
    assert '"terraform_data"' in rows[0][2]
    assert "states_by_name" in indexes
    code, out, err = _run("plan", "-detailed-exitcode", "-no-color", str(work))
    assert code == 0, out + err

    # a changed block: init again
    (work / "main.tf").write_text((work / "main.tf").read_text().replace("teamstate", "otherstate"))
    code, _out, err = _run("plan", "-no-color", str(work))
    assert code == 1 and "Backend configuration block has changed" in err
    code, _out, err = _run("init", "-no-color", f"-backend-config=conn_str={database}", str(work))
    assert code == 1 and "Backend configuration changed" in err and "-reconfigure" in err


def test_a_saved_plan_applies_to_the_pg_state(tmp_path, database):
    work = tmp_path / "cfg"
    work.mkdir()
    (work / "main.tf").write_text(
        'terraform {\n  backend "pg" {}\n}\nresource "terraform_data" "a" {\n  input = "saved"\n}\n'
    )
    assert _run("init", "-no-color", f"-backend-config=conn_str={database}", str(work))[0] == 0
    code, out, err = _run("plan", "-no-color", f"-out={work / 'plan.bin'}", str(work))
    assert code == 0, out + err
    code, out, err = _run("apply", "-no-color", str(work / "plan.bin"))
    assert code == 0, out + err
    assert not (work / "vaultform.tfstate").exists()
    assert _stored(database).addresses() == ["terraform_data.a"]


def test_init_backend_false_and_backend_config_file(tmp_path, database):
    work = tmp_path / "cfg"
    work.mkdir()
    (work / "main.tf").write_text('terraform {\n  backend "pg" {}\n}\n')
    code, out, _err = _run("init", "-no-color", "-backend=false", str(work))
    assert code == 0 and "Initializing the backend" not in out
    assert not (work / ".vaultform" / "backend.json").exists()
    settings = tmp_path / "pg.hcl"
    settings.write_text(f'conn_str = "{database}"\nschema_name = "fromfile"\n')
    code, out, err = _run("init", "-no-color", f"-backend-config={settings}", str(work))
    assert code == 0, out + err
    assert '"schema_name": "fromfile"' in (work / ".vaultform" / "backend.json").read_text()
    code, _out, err = _run("init", "-no-color", "-backend-config=nonsense", str(work))
    assert code == 1 and "Invalid -backend-config value" in err


def test_init_keeps_no_password(tmp_path, database):
    work = tmp_path / "cfg"
    work.mkdir()
    (work / "main.tf").write_text('terraform {\n  backend "pg" {}\n}\n')
    with_password = database.replace("vaultform@", "vaultform:s3cret-pw@")
    code, out, err = _run("init", "-no-color", f"-backend-config=conn_str={with_password}", str(work))
    assert code == 0, out + err  # trust authentication ignores the password
    assert "s3cret-pw" not in (work / ".vaultform" / "backend.json").read_text()


def test_eight_applies_at_once_lose_nothing(estate):
    work, database = estate
    children = [
        _start(["apply", "-auto-approve", "-no-color", "-lock-timeout=300s", str(work)]) for _ in range(8)
    ]
    results = [(c.returncode, *c.communicate(timeout=600)) for c in children]
    results = [(c.returncode, out, err) for c, (_code, out, err) in zip(children, results, strict=True)]
    for code, out, err in results:
        assert code == 0, out + err
    created = [out for _c, out, _e in results if "11 added" in out]  # the group, 8 identities, 2 markers
    assert len(created) == 1, [r[1][-300:] for r in results]
    others = [out for _c, out, _e in results if "11 added" not in out]
    assert all("No changes" in out for out in others), others
    state = _stored(database)
    identities = [a for a in state.addresses() if a.startswith("azurerm_user_assigned_identity")]
    assert len(identities) == 8
    code, out, err = _run("plan", "-detailed-exitcode", "-no-color", str(work))
    assert code == 0, out + err


def test_a_second_apply_fails_naming_the_holder(estate):
    work, _database = estate
    first = _start(["apply", "-auto-approve", "-no-color", "-parallelism=1", str(work)])
    try:
        _wait_for(first, "Creating...")
        code, out, err = _run("apply", "-auto-approve", "-no-color", str(work))
        assert first.poll() is None, "the holder ended too early for this test"
        assert code == 1, out + err
        assert "The state is locked by another run" in err
        assert f"pid {first.pid}" in err and "(apply," in err
    finally:
        first.communicate(timeout=300)
    assert first.returncode == 0


def test_a_killed_holders_lock_is_free_at_once(estate):
    work, database = estate
    first = _start(["apply", "-auto-approve", "-no-color", "-parallelism=1", str(work)])
    _wait_for(first, "Creating...")
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=60)
    code, out, err = _run("apply", "-auto-approve", "-no-color", str(work))
    assert code == 0, out + err
    assert "PostgreSQL released its advisory lock" in out + err
    assert f"pid {first.pid}" in out + err or "took the lock over" in out + err
    code, out, err = _run("plan", "-detailed-exitcode", "-no-color", str(work))
    assert code == 0, out + err
    assert len([a for a in _stored(database).addresses() if "identity" in a]) == 8


def test_force_unlock_refuses_a_live_holder_and_clears_a_dead_ones_record(estate):
    work, database = estate
    first = _start(["apply", "-auto-approve", "-no-color", "-parallelism=1", str(work)])
    try:
        _wait_for(first, "Creating...")
        backend = PgBackend(database)
        try:
            holder = backend.lock_info()
        finally:
            backend.close()
        assert holder is not None and holder.pid == first.pid
        code, _out, err = _run("force-unlock", "-force", "-no-color", str(work), holder.id)
        assert code == 1 and "held by a running process" in err, err
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=60)
    code, out, err = _run("force-unlock", "-force", "-no-color", str(work), holder.id)
    assert code == 0, out + err
    assert "successfully unlocked" in out
    backend = PgBackend(database)
    try:
        assert backend.lock_info() is None
    finally:
        backend.close()


def _with(state: State, address: str, **attrs) -> State:
    return state.with_instance(address, InstanceState(attributes=attrs), provider="p")


def test_writes_compare_digests_and_refuse_another_runs_write(database):
    """A write compares PostgreSQL's digest of the stored row with the one this run read or wrote:
    its own writes follow one another, another run's write in between is refused, and what each
    write stored is what a fresh reader decodes."""
    mine, other = PgBackend(database), PgBackend(database)
    try:
        assert mine.read() is None
        stamp = mine.stamp()
        state = _with(State.new(), "a.x", id="1")
        for n in range(1, 6):
            state = mine.write(_with(state, "a.x", id=str(n)))
            assert state.serial == n
            assert mine.stamp() != stamp  # each write's row has a new digest
            stamp = mine.stamp()
        assert mine.write(state) is not None and mine.stamp() == stamp  # unchanged content: no write
        assert mine.stored_lineage() == state.lineage

        stored = other.read()
        assert stored is not None and stored.serial == 5
        assert stored.instance("a.x").attributes == {"id": "5"}
        other.write(_with(stored, "a.x", id="theirs"))
        assert mine.stamp() != stamp
        with pytest.raises(StateError, match="changed since this run read it"):
            mine.write(_with(state, "a.x", id="mine"))
        assert _stored(database).instance("a.x").attributes == {"id": "theirs"}

        # another lineage pushed over it: stored_lineage looks at the row, not at what this run knew
        stranger = other.write(_with(State.new(), "a.x", id="new"), force=True)
        assert mine.stored_lineage() == stranger.lineage != state.lineage
    finally:
        mine.close()
        other.close()

"""The local backend: serial and lineage rules, backups, file modes, crash safety."""

import errno
import os
import stat
from pathlib import Path

import pytest

from state.backends import Backend, BackupPolicy, LocalBackend
from state.errors import StateError
from state.format import decode_state
from state.model import InstanceState, State


def _with(state: State, address: str, **attrs) -> State:
    return state.with_instance(address, InstanceState(attributes=attrs), provider="p")


@pytest.fixture
def backend(tmp_path) -> LocalBackend:
    return LocalBackend.for_directory(tmp_path)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_default_location_and_protocol(tmp_path):
    backend = LocalBackend.for_directory(tmp_path)
    assert backend.path == os.path.join(tmp_path, "vaultform.tfstate")
    assert LocalBackend.for_directory(tmp_path, "other/s.tfstate").path == "other/s.tfstate"
    assert isinstance(backend, Backend)
    assert backend.read() is None


def test_round_trip_and_serial_rules(backend):
    first = backend.write(_with(State.new(), "a.x", id="1"))
    assert first.serial == 1
    fresh = LocalBackend(backend.path).read()
    assert fresh.same_content(first) and fresh.serial == 1 and fresh.lineage == first.lineage

    assert backend.write(first) is first  # identical: nothing written
    assert backend.write(first.with_serial(40)).serial == 1
    assert LocalBackend(backend.path).read().serial == 1

    second = backend.write(_with(first, "a.y", id="2"))
    assert second.serial == 2
    assert LocalBackend(backend.path).read().instance("a.y").attributes == {"id": "2"}


def test_serial_follows_the_stored_state_not_the_caller(backend):
    stored = backend.write(_with(State.new(), "a.x", id="1"))
    other = LocalBackend(backend.path)
    assert other.write(_with(stored.with_serial(0), "a.x", id="2")).serial == 2


def test_another_lineage_is_refused_unless_forced(backend):
    stored = backend.write(_with(State.new(), "a.x", id="1"))
    stranger = _with(State.new(), "a.x", id="9").with_serial(7)
    with pytest.raises(StateError, match="different histories|lineage") as err:
        backend.write(stranger)
    assert stored.lineage in err.value.problem
    assert LocalBackend(backend.path).read().lineage == stored.lineage
    forced = backend.write(stranger, force=True)
    assert forced.lineage == stranger.lineage and forced.serial == 7


def test_backup_holds_the_previous_version_and_modes_are_0600(backend):
    v1 = backend.write(_with(State.new(), "a.x", id="1"))
    assert not os.path.exists(backend.backup_path)
    v2 = backend.write(_with(v1, "a.x", id="2"))
    backup = LocalBackend(backend.backup_path).read()
    assert backup.serial == 1 and backup.instance("a.x").attributes == {"id": "1"}
    backend.write(_with(v2, "a.x", id="3"))
    assert LocalBackend(backend.backup_path).read().serial == 2
    assert _mode(backend.path) == 0o600
    assert _mode(backend.backup_path) == 0o600
    assert sorted(os.listdir(os.path.dirname(backend.path))) == [
        "vaultform.tfstate",
        "vaultform.tfstate.backup",
    ]


def test_a_loose_existing_file_is_tightened(backend):
    stored = backend.write(_with(State.new(), "a.x", id="1"))
    os.chmod(backend.path, 0o644)
    backend.write(_with(stored, "a.x", id="2"))
    assert _mode(backend.path) == 0o600 and _mode(backend.backup_path) == 0o600


def test_first_write_backup_policy_keeps_the_starting_point(tmp_path):
    LocalBackend.for_directory(tmp_path).write(_with(State.new(), "a.x", id="start"))
    run = LocalBackend.for_directory(tmp_path, backup=BackupPolicy.FIRST_WRITE)
    state = run.read()
    for i in range(3):
        state = run.write(_with(state, "a.x", id=str(i)))
    backup = LocalBackend(run.backup_path).read()
    assert backup.instance("a.x").attributes == {"id": "start"} and state.serial == 4


@pytest.mark.parametrize("broken", ["replace", "fsync", "write"])
def test_a_failed_write_leaves_the_old_state_intact(backend, monkeypatch, broken):
    stored = backend.write(_with(State.new(), "a.x", id="old"))
    before = Path(backend.path).read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if broken == "write":
        monkeypatch.setattr("state.backends.local.os.fdopen", lambda fd, mode: _FailingFile(fd), raising=True)
    else:
        monkeypatch.setattr(f"state.backends.local.os.{broken}", disk_full)
    with pytest.raises(StateError) as err:
        backend.write(_with(stored, "a.x", id="new"))
    monkeypatch.undo()
    assert "No space left on device" in err.value.problem
    assert "unchanged" in err.value.hint
    assert Path(backend.path).read_bytes() == before
    assert LocalBackend(backend.path).read().instance("a.x").attributes == {"id": "old"}
    leftovers = [n for n in os.listdir(os.path.dirname(backend.path)) if n.endswith(".tmp")]
    assert leftovers == []
    # the backend still knows what is stored, so the retry is the next serial
    assert backend.write(_with(stored, "a.x", id="new")).serial == 2


_REAL_FDOPEN = os.fdopen


class _FailingFile:
    """A file object whose writes fail half way, as on a full disk."""

    def __init__(self, fd):
        self._fh = _REAL_FDOPEN(fd, "wb")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()

    def fileno(self):
        return self._fh.fileno()

    def write(self, data):
        self._fh.write(data[: len(data) // 2])
        self._fh.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def flush(self):
        self._fh.flush()


def test_unstorable_state_is_not_written(backend):
    stored = backend.write(_with(State.new(), "a.x", id="1"))
    bad = stored.with_instance("a.x", InstanceState(attributes={"v": float("inf")}))
    with pytest.raises(StateError) as err:
        backend.write(bad)
    assert err.value.source == backend.path
    assert err.value.where == "resources[0].instances[0].attributes.v"
    assert "Nothing was written" in err.value.hint
    assert LocalBackend(backend.path).read().serial == 1


def test_a_corrupt_file_is_reported_with_the_backup(backend):
    stored = backend.write(_with(State.new(), "a.x", id="1"))
    backend.write(_with(stored, "a.x", id="2"))
    with open(backend.path, "w") as fh:
        fh.write('{"format_version": "1",\n  "lineage": ')
    with pytest.raises(StateError) as err:
        LocalBackend(backend.path).read()
    assert err.value.summary.startswith(f"{backend.path}: not valid JSON at line 2")
    assert backend.backup_path in err.value.hint
    with pytest.raises(StateError):
        LocalBackend(backend.path).write(stored)


def test_many_writes_stay_consistent_with_a_fresh_read(backend):
    state = backend.write(State.new())
    for i in range(40):
        state = backend.write(_with(state, f"a.r{i % 9}", n=i))
        if i % 5 == 0:
            state = backend.write(state.without_instance(f"a.r{(i + 3) % 9}"))
    text = Path(backend.path).read_text()
    assert decode_state(text).same_content(state)
    assert LocalBackend(backend.path).read().serial == state.serial


def test_a_file_changed_behind_our_back_is_not_overwritten(backend):
    stored = backend.write(_with(State.new(), "a.x", id="1"))
    other = LocalBackend(backend.path)
    other.write(_with(other.read(), "a.x", id="other"))
    with pytest.raises(StateError, match="changed since this run read it"):
        backend.write(_with(stored, "a.x", id="mine"))
    assert LocalBackend(backend.path).read().instance("a.x").attributes == {"id": "other"}
    assert backend.read().serial == 2
    assert backend.write(_with(backend.read(), "a.x", id="mine")).serial == 3


_KILLED_WRITER = """
import os, sys, time
from state.backends.local import LocalBackend
from state.model import State
real_replace = os.replace
def stuck(src, dst):
    print("written", flush=True)
    time.sleep(60)
os.replace = stuck
LocalBackend(sys.argv[1]).write(State.new())
"""


def test_the_next_lock_removes_the_temporary_files_of_killed_writers_only(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "vaultform.tfstate"
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "written"
    child.kill()
    child.wait(30)
    left = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(left) == 1 and f".{child.pid}." in left[0], left

    from state.liveness import writer_tag as _writer_tag

    ours = tmp_path / f".vaultform.tfstate.{_writer_tag()}.abc123.tmp"  # a live writer's: kept
    ours.write_bytes(b"")
    other = tmp_path / ".unrelated.1.2.tmp"
    other.write_bytes(b"")
    backend = LocalBackend.for_directory(tmp_path)
    with backend.lock("apply"):
        remaining = sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp"))
    assert remaining == sorted([ours.name, other.name])
    assert not path.exists()

"""State locks between processes: waiting, naming the holder, stale locks, force-unlock."""

import json
import multiprocessing
import os
import signal
import socket

import pytest

from state.liveness import own_start
from state.lock import (
    DurationError,
    LockError,
    acquire,
    force_unlock,
    lock_path_for,
    parse_duration,
    read_lock_info,
)

FORK = multiprocessing.get_context("fork")


class FakeTime:
    """A clock that moves only when slept on, so waiting costs no real time."""

    def __init__(self, on_sleep=None):
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep()


def _hold(state_path, held, release):
    lock = acquire(state_path, "apply")
    held.set()
    release.wait(30)
    lock.release()


def _hold_forever(state_path, held):
    acquire(state_path, "apply")
    held.set()
    signal.pause()


@pytest.fixture
def state_path(tmp_path):
    return str(tmp_path / "vaultform.tfstate")


def _start(target, *args):
    held = FORK.Event()
    proc = FORK.Process(target=target, args=(*args[:1], held, *args[1:]), daemon=True)
    proc.start()
    assert held.wait(30), "the child process did not take the lock"
    return proc


def test_contention_between_processes_times_out_naming_the_holder(state_path):
    release = FORK.Event()
    child = _start(_hold, state_path, release)
    try:
        fake = FakeTime()
        with pytest.raises(LockError) as err:
            acquire(state_path, "plan", timeout=5.0, clock=fake.clock, sleep=fake.sleep, poll_interval=1.0)
        assert err.value.holder.pid == child.pid and err.value.holder.operation == "apply"
        assert f"pid {child.pid}" in err.value.detail
        assert "-lock-timeout=60s" in err.value.detail and "waited 5s" in err.value.detail
        assert sum(fake.sleeps) == pytest.approx(5.0)
    finally:
        release.set()
        child.join(30)


def test_a_waiting_run_gets_the_lock_when_the_holder_releases(state_path):
    release = FORK.Event()
    child = _start(_hold, state_path, release)

    def holder_finishes():
        release.set()
        child.join(30)

    fake = FakeTime(on_sleep=holder_finishes)
    with acquire(state_path, "plan", timeout=60.0, clock=fake.clock, sleep=fake.sleep) as lock:
        assert lock.held and read_lock_info(state_path).id == lock.id
        assert read_lock_info(state_path).pid == os.getpid()
    assert len(fake.sleeps) == 1
    assert not os.path.exists(lock_path_for(state_path))


def test_lock_of_a_killed_process_is_taken_over_saying_whose_it_was(state_path):
    child = _start(_hold_forever, state_path)
    os.kill(child.pid, signal.SIGKILL)
    child.join(30)
    info = read_lock_info(state_path)
    assert info.pid == child.pid and info.process_start

    fake = FakeTime()
    with acquire(state_path, "apply", timeout=60.0, clock=fake.clock, sleep=fake.sleep) as lock:
        assert fake.sleeps == []  # nobody can release it: no point in waiting
        assert lock.taken_over is not None and lock.taken_over.previous == info
        assert f"process {child.pid} on {info.host} is no longer running" in lock.taken_over.reason
        said = lock.taken_over.describe()
        assert info.who in said and "(apply, since " in said and info.id in said
        assert read_lock_info(state_path).id == lock.id and read_lock_info(state_path).pid == os.getpid()
    assert not os.path.exists(lock_path_for(state_path))


def test_a_reused_pid_does_not_keep_a_dead_holder_alive(state_path):
    """The holder's pid now belongs to another process (here: ours): its start time tells them apart."""
    boot, _, ticks = own_start().partition(":")
    assert boot and ticks, "this test needs /proc"
    _write_info(
        state_path, host=socket.gethostname(), pid=os.getpid(), process_start=f"{boot}:{int(ticks) - 1}"
    )
    with acquire(state_path, "apply") as lock:
        assert lock.taken_over is not None and lock.taken_over.previous.id == "abc-123"
    _write_info(state_path, host=socket.gethostname(), pid=os.getpid(), process_start=own_start())
    with pytest.raises(LockError, match="locked by another run"):
        acquire(state_path, "apply")  # the same pid and start: that process runs


def test_a_lease_that_ran_out_is_taken_over_on_any_host(state_path):
    _write_info(state_path, expires="2026-11-28T12:05:00Z")
    with acquire(state_path, "apply") as lock:
        assert "its lease expired at 2026-11-28T12:05:00Z" in lock.taken_over.reason
    _write_info(state_path, expires="2999-01-01T00:00:00Z")
    with pytest.raises(LockError) as err:
        acquire(state_path, "apply")
    assert "bob@elsewhere" in err.value.detail


def test_a_wrong_id_is_not_force_unlocked(state_path):
    _write_info(state_path)
    info = read_lock_info(state_path)
    with pytest.raises(LockError) as wrong:
        force_unlock(state_path, "not-the-id", unlock_command=lambda i: f"vaultform force-unlock cfg {i}")
    assert (
        "vaultform force-unlock cfg abc-123" in wrong.value.detail and "does not match" in wrong.value.summary
    )
    assert read_lock_info(state_path) == info
    assert force_unlock(state_path, info.id) == info
    assert not os.path.exists(lock_path_for(state_path))
    acquire(state_path, "apply").release()


def test_force_unlock_refuses_a_lock_whose_holder_runs(state_path):
    with acquire(state_path, "apply") as lock:
        with pytest.raises(LockError, match="held by a running process"):
            force_unlock(state_path, lock.id)
        assert read_lock_info(state_path).id == lock.id


def test_force_unlock_without_a_lock(state_path):
    with pytest.raises(LockError, match="is not locked"):
        force_unlock(state_path, "x")


def test_release_is_idempotent(state_path):
    lock = acquire(state_path, "apply")
    lock.release()
    lock.release()
    assert not lock.held
    second = acquire(state_path, "apply")
    assert second.id != lock.id
    lock.release()  # must not remove the new holder's lock
    assert read_lock_info(state_path).id == second.id
    second.release()


def _write_info(state_path, **changes):
    info = {
        "id": "abc-123",
        "who": "bob@elsewhere",
        "operation": "apply",
        "created": "2026-11-28T12:00:00Z",
        "pid": 4242,
        "host": "elsewhere",
        "version": "0.1.0",
        "path": state_path,
    }
    info.update(changes)
    with open(lock_path_for(state_path), "w") as fh:
        json.dump(info, fh)


def test_lock_left_on_another_host_is_not_taken_over(state_path):
    _write_info(state_path)
    with pytest.raises(LockError) as err:
        acquire(state_path, "plan", unlock_command=lambda i: f"vaultform force-unlock -state=x.tfstate {i}")
    assert "bob@elsewhere" in err.value.detail
    assert "vaultform force-unlock -state=x.tfstate abc-123" in err.value.detail


def test_lock_of_a_live_holder_on_this_host_is_waited_for(state_path):
    _write_info(state_path, host=socket.gethostname(), pid=os.getpid())
    fake = FakeTime()
    with pytest.raises(LockError) as err:
        acquire(
            state_path,
            "plan",
            timeout=2.0,
            clock=fake.clock,
            sleep=fake.sleep,
            running=lambda pid, start: True,
        )
    assert fake.sleeps and "vaultform force-unlock abc-123" in err.value.detail


def test_unreadable_lock_file(state_path):
    with open(lock_path_for(state_path), "w") as fh:
        fh.write("{garbage")
    with pytest.raises(LockError, match="unreadable"):
        acquire(state_path, "plan")


def test_lock_in_a_missing_directory(tmp_path):
    with pytest.raises(LockError, match="Cannot create the state lock file"):
        acquire(str(tmp_path / "nope" / "s.tfstate"), "plan")


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("30s", 30.0),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("0s", 0.0),
        ("0", 0.0),
        ("1m30s", 90.0),
        ("500ms", 0.5),
        ("1.5h", 5400.0),
        (" 10s ", 10.0),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "30", "s", "-5s", "10 s", "1d", "abc", "5s!"])
def test_parse_duration_refuses_nonsense(text):
    with pytest.raises(DurationError, match="like 30s, 2m, 1h"):
        parse_duration(text)


def test_backend_lock_interface(tmp_path):
    from state.backends import LocalBackend

    backend = LocalBackend.for_directory(tmp_path)
    with backend.lock("apply") as lock:
        assert backend.lock_info().id == lock.id
        with pytest.raises(LockError):
            backend.lock("plan", 0.0)
        with pytest.raises(LockError, match="held by a running process"):
            backend.force_unlock(lock.id)
    assert backend.lock_info() is None

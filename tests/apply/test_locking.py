"""Two runs on one state: the state lock during apply and plan.

A second apply while the first holds the lock fails at once naming the holder and the
force-unlock command that works from where the user stands, or with -lock-timeout waits
for it and then applies on top of what the first recorded (nothing lost); the lock of a
holder killed with SIGKILL is taken over by the next apply, which says whose it was; the
lock is released on every way out of a run.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from providers.azurelocal.app import Emulator
from reconciler.cli.main import main
from reconciler.cli.output import Output
from state.backends.local import LocalBackend
from state.lock import lock_path_for

FIXTURE = Path(__file__).parents[1] / "fixtures" / "crash" / "identities"
CHILD = [sys.executable, "-c", "import sys; from reconciler.cli.main import main; sys.exit(main())"]


@pytest.fixture
def estate(tmp_path, monkeypatch):
    work = tmp_path / "cfg"
    shutil.copytree(FIXTURE, work)
    db = tmp_path / "az.db"
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(db))
    emulator = Emulator(db)
    emulator.configure_faults(latency_ms=250)
    emulator.store.close()
    return work, db


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


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


def _state(work: Path):
    return LocalBackend(work / "vaultform.tfstate").read()


def test_second_apply_fails_naming_the_holder_or_waits_and_loses_nothing(estate):
    work, db = estate
    first = _start(["apply", "-auto-approve", "-no-color", "-parallelism=1", str(work)])
    try:
        _wait_for(first, "Creating...")
        assert LocalBackend(work / "vaultform.tfstate").lock_info().pid == first.pid
        code, _out, err = _run("apply", "-auto-approve", "-no-color", "-var", "markers=4", str(work))
        assert first.poll() is None, "the holder ended too early for this test"
        assert code == 1, _out + err
        assert "The state is locked by another run" in err
        assert f"pid {first.pid}" in err and "(apply," in err
        assert "-lock-timeout" in err

        # the same run with -lock-timeout waits for the first and applies on top of it
        code, out, err = _run(
            "apply", "-auto-approve", "-no-color", "-lock-timeout=120s", "-var", "markers=4", str(work)
        )
        assert code == 0, out + err
        assert "2 added, 0 changed" in out, "the waiting run did not start from what the holder recorded"
    finally:
        first.communicate(timeout=120)
    assert first.returncode == 0
    state = _state(work)
    assert {a for a in state.addresses() if a.startswith("terraform_data")} == {
        f"terraform_data.marker[{i}]" for i in range(4)
    }
    assert len([a for a in state.addresses() if a.startswith("azurerm_user_assigned_identity")]) == 8
    assert not os.path.exists(lock_path_for(work / "vaultform.tfstate"))
    code, out, _err = _run("plan", "-detailed-exitcode", "-no-color", "-var", "markers=4", str(work))
    assert code == 0, out


def test_plan_waits_for_the_lock_too(estate):
    work, _db = estate
    first = _start(["apply", "-auto-approve", "-no-color", "-parallelism=1", str(work)])
    try:
        _wait_for(first, "Creating...")
        code, _out, err = _run("plan", "-no-color", str(work))
        assert code == 1 and "The state is locked by another run" in err
    finally:
        first.communicate(timeout=120)


def _temporaries(work: Path) -> list[str]:
    return sorted(p.name for p in work.iterdir() if p.name.endswith(".tmp"))


def test_a_killed_holders_lock_is_taken_over_by_the_next_apply(estate, tmp_path, monkeypatch):
    work, db = estate
    first = _start(["apply", "-auto-approve", "-no-color", "-parallelism=1", str(work)])
    _wait_for(first, "Creation complete")
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    info = LocalBackend(work / "vaultform.tfstate").lock_info()
    assert info is not None and info.pid == first.pid

    monkeypatch.chdir(tmp_path)
    code, out, err = _run("apply", "-auto-approve", "-no-color", "cfg")
    assert code == 0, out + err
    assert f"Took over the state lock of {info.who}" in err
    assert "(apply, since " in err and info.id in err
    assert f"process {first.pid} on {info.host} is no longer running" in err
    assert "force-unlock" not in err
    assert len(_state(work).addresses()) == 11
    assert not os.path.exists(lock_path_for(work / "vaultform.tfstate"))
    assert _temporaries(work) == []


def _second_apply_refused(*args: str) -> str:
    code, out, err = _run("apply", "-auto-approve", "-no-color", *args)
    assert code == 1, out + err
    assert "The state is locked by another run" in err
    return err


def test_a_live_holder_blocks_with_the_force_unlock_command_that_works_from_here(
    estate, tmp_path, monkeypatch
):
    work, _db = estate
    first = _start(["apply", "-auto-approve", "-no-color", "-parallelism=1", str(work)])
    try:
        _wait_for(first, "Creating...")
        lock_id = LocalBackend(work / "vaultform.tfstate").lock_info().id
        monkeypatch.chdir(tmp_path)
        expected = {
            ("cfg",): f"vaultform force-unlock cfg {lock_id}",
            (
                "-state=cfg/vaultform.tfstate",
                "cfg",
            ): f"vaultform force-unlock -state=cfg/vaultform.tfstate {lock_id}",
            (str(work),): f"vaultform force-unlock {work} {lock_id}",
        }
        for args, command in expected.items():
            err = _second_apply_refused(*args)
            assert f"pid {first.pid}" in err
            assert command in err, err
        code, out, err = _run("-chdir=cfg", "apply", "-auto-approve", "-no-color")
        assert code == 1 and f"vaultform -chdir=cfg force-unlock {lock_id}" in err, out + err
        assert first.poll() is None, "the holder ended too early for this test"
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    # the command printed for the directory argument removes the lock, run from here
    words = expected[("cfg",)].split()
    code, out, err = _run(words[1], "-force", *words[2:])
    assert code == 0 and "successfully unlocked" in out, out + err
    assert LocalBackend(work / "vaultform.tfstate").lock_info() is None


@pytest.mark.parametrize(
    "args",
    [
        ("apply", "-auto-approve", "-no-color", "-var", "identities=-1"),  # the plan is refused
        ("apply", "-auto-approve", "-no-color", "-var", "identities=0"),  # success
        ("plan", "-no-color"),  # plan
        ("destroy", "-auto-approve", "-no-color"),  # destroy
    ],
)
def test_the_lock_is_released_on_every_way_out(estate, args):
    work, _db = estate
    _run(*args, str(work))
    assert not os.path.exists(lock_path_for(work / "vaultform.tfstate"))
    assert LocalBackend(work / "vaultform.tfstate").lock_info() is None

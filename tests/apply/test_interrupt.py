"""Ctrl-C during apply: SIGINT (or SIGTERM, a CI runner's cancel) sent to a `vaultform apply` child.

The first interrupt stops new operations; those in flight finish and their results
are in state; the run exits 1 saying so; the lock is released; nothing is pending;
every object the local Azure holds is in state; and a re-run completes the rest.
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
from providers.azurelocal.store import Kind
from reconciler.cli.main import main
from reconciler.cli.output import Output
from state.backends.local import LocalBackend
from state.lock import lock_path_for

FIXTURE = Path(__file__).parents[1] / "fixtures" / "crash" / "identities"
MANY = 20
CHILD = [sys.executable, "-c", "import sys; from reconciler.cli.main import main; sys.exit(main())"]


def _identities_in_cloud(db: Path) -> set[str]:
    env = Emulator(db)
    try:
        return {o["id"].lower() for o in env.store.list(Kind.IDENTITY) if "/rg-lock/" in o["id"].lower()}
    finally:
        env.store.close()


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# "ignored": started as a shell without job control starts a background command (`vaultform apply &`,
# a CI step's children) - SIGINT ignored - which Ctrl-C must stop all the same, as it stops terraform
# SIGTERM: what a CI runner, systemd or Kubernetes sends to cancel; terraform treats it as an interrupt
@pytest.mark.parametrize(
    "signum, inherited",
    [(signal.SIGINT, "default"), (signal.SIGINT, "ignored"), (signal.SIGTERM, "default")],
    ids=["sigint", "sigint-ignored", "sigterm"],
)
def test_first_ctrl_c_finishes_running_operations_and_saves_state(tmp_path, monkeypatch, signum, inherited):
    work = tmp_path / "cfg"
    shutil.copytree(FIXTURE, work)
    db = tmp_path / "az.db"
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(db))
    emulator = Emulator(db)
    emulator.configure_faults(latency_ms=150)
    emulator.store.close()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # Twenty creates two at a time at 150 ms a call leave seconds between the first
    # "Creating..." and the last, so the interrupt lands mid-run even on a loaded machine.
    child = subprocess.Popen(
        CHILD
        + ["apply", "-auto-approve", "-no-color", "-parallelism=2", f"-var=identities={MANY}", str(work)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        preexec_fn=_ignore_sigint if inherited == "ignored" else None,
    )
    lines = []
    for line in child.stdout:
        lines.append(line)
        if "azurerm_user_assigned_identity.id[0]: Creating..." in line:
            child.send_signal(signum)
            break
    rest, err = child.communicate(timeout=120)
    out = "".join(lines) + rest

    assert child.returncode == 1, out + err
    assert "Interrupt received" in out
    assert "operations that had started finished and are recorded in state" in err
    # as terraform's: an interrupted apply is no "Apply complete!" but "execution halted"
    assert "Apply complete!" not in out and "Error: execution halted" in err
    assert "Traceback" not in err
    assert not os.path.exists(lock_path_for(work / "vaultform.tfstate")), "the lock was not released"

    state = LocalBackend(work / "vaultform.tfstate").read()
    recorded = {
        str(inst.attributes["id"]).lower()
        for _a, res, inst in state.instances()
        if res.type == "azurerm_user_assigned_identity"
    }
    assert not any(inst.pending for _a, _r, inst in state.instances())
    assert "azurerm_user_assigned_identity.id[0]" in state.addresses(), "the running create was not kept"
    assert recorded == _identities_in_cloud(db)
    assert len(recorded) < MANY, "the interrupt stopped nothing"

    code = main(
        ["apply", "-auto-approve", "-no-color", f"-var=identities={MANY}", str(work)],
        output=Output(out=io.StringIO(), err=io.StringIO(), no_color=True),
    )
    assert code == 0
    assert len(_identities_in_cloud(db)) == MANY


def test_second_ctrl_c_stops_at_once_while_a_step_waits_to_retry(tmp_path, monkeypatch):
    """The first interrupt lets running operations finish; one waiting out a late grant (here two
    minutes away) would keep the run going for minutes. The second interrupt abandons that wait:
    the run ends at once, and the next apply finishes the job."""
    work = tmp_path / "cfg"
    shutil.copytree(Path(__file__).parents[2] / "examples" / "quickstart", work)
    db = tmp_path / "az.db"
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(db))
    emulator = Emulator(db)
    emulator.configure_faults(grant_propagation_seconds=120)
    emulator.store.close()
    child = subprocess.Popen(
        [*CHILD, "apply", "-auto-approve", "-no-color", str(work)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
    )
    lines = []
    assert child.stdout is not None
    for line in child.stdout:
        lines.append(line)
        if "Attempt 1 failed" in line:
            child.send_signal(signal.SIGINT)
        if "Press Ctrl-C again" in line:
            break
    child.send_signal(signal.SIGINT)
    try:  # the retries would go on for two minutes; stopping at once takes a moment
        rest, err = child.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        pytest.fail("the second interrupt did not stop the run:\n" + "".join(lines))
    # as terraform 1.11's second interrupt: "Error: operation canceled", exit 1 (not a signal's 130)
    assert child.returncode == 1, "".join(lines) + rest + err
    assert "Error: operation canceled" in err and "Traceback" not in err
    assert not os.path.exists(lock_path_for(work / "vaultform.tfstate")), "the lock was not released"

    emulator = Emulator(db)
    emulator.configure_faults(grant_propagation_seconds=0)
    emulator.store.close()
    assert (
        main(["apply", "-auto-approve", "-no-color", str(work)], output=Output(io.StringIO(), io.StringIO()))
        == 0
    )
    again = io.StringIO()
    assert (
        main(["plan", "-detailed-exitcode", "-no-color", str(work)], output=Output(again, io.StringIO())) == 0
    )

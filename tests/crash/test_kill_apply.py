"""Acceptance: `vaultform apply` and `destroy` killed (SIGKILL) at 20 distinct moments.

The estate (tests/fixtures/crash/estate, 52 objects, 46 of them on the local Azure,
which answers every call 20 ms late) is applied and destroyed in turns; each run is
killed after a different number of progress lines, a few milliseconds apart, so the
kills land before requests, while they are in flight, between a result and its
write, and during writes. After every kill:

* the state file parses,
* a re-run takes over the killed run's lock, saying whose it was (no force-unlock),
  and converges: it completes, and a plan right after it has no changes,
* the local Azure holds exactly the objects the state records - none missing from
  state, none twice (a key created twice would hold two versions).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from crash_harness import (
    clean_env,
    cloud_ids,
    lock_holder_pid,
    read_state,
    run_and_kill,
    state_ids,
    vaultform,
)

from providers.azurelocal.app import Emulator

FIXTURE = Path(__file__).parents[1] / "fixtures" / "crash" / "estate"
MARKER = "rg-crash-"
# (operation, kill after this many progress lines, extra milliseconds)
KILLS = [
    ("apply", n, ms)
    for n, ms in ((1, 0), (4, 3), (9, 11), (15, 0), (22, 7), (30, 2), (41, 13), (52, 0), (63, 5), (77, 17))
] + [
    ("destroy", n, ms)
    for n, ms in ((2, 0), (6, 9), (11, 1), (19, 14), (27, 0), (36, 6), (48, 3), (58, 19), (70, 0), (85, 8))
]


def _schedule():
    """Apply and destroy kills in turns, so every destroy starts from a full estate."""
    applies = [k for k in KILLS if k[0] == "apply"]
    destroys = [k for k in KILLS if k[0] == "destroy"]
    for a, d in zip(applies, destroys):
        yield a
        yield d


@pytest.mark.slow
def test_kill_at_twenty_moments(tmp_path, monkeypatch):
    work = tmp_path / "estate"
    shutil.copytree(FIXTURE, work)
    db = tmp_path / "local-azure.db"
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(db))
    emulator = Emulator(db)
    emulator.configure_faults(latency_ms=20)
    emulator.store.close()
    env = clean_env(db)
    state_path = work / "vaultform.tfstate"
    moments = set()
    pending_left = 0
    recovered: list[str] = []
    for operation, lines, ms in _schedule():
        killed = run_and_kill([operation, "-auto-approve", "-no-color", str(work)], env, lines, ms / 1000)
        assert not killed.finished, (
            f"{operation} finished before {lines} progress lines; pick an earlier moment"
        )
        moments.add((operation, killed.progress_lines, ms))

        after_kill = read_state(state_path)  # parses
        pending_left += sum(1 for _a, _r, inst in after_kill.instances() if inst.pending)
        left_lock = lock_holder_pid(state_path) == killed.pid
        code, out, err = vaultform(operation, "-auto-approve", "-no-color", str(work))
        assert code == 0, f"re-run of {operation} after a kill at line {lines}:\n{out}\n{err}"
        assert ("Took over the state lock" in err) == left_lock, err
        assert not [p.name for p in work.iterdir() if p.name.endswith(".tmp")], "a temporary file was left"
        recovered += [line for line in out.splitlines() if line.startswith("Recovered ")]
        plan_args = ["plan", "-detailed-exitcode", "-no-color"] + (
            ["-destroy"] if operation == "destroy" else []
        )
        code, out, err = vaultform(*plan_args, str(work))
        assert code == 0, (
            f"plan after converging {operation} (kill at line {lines}) has changes:\n{out}\n{err}"
        )

        state = read_state(state_path)
        in_state = state_ids(state)
        in_cloud, versions = cloud_ids(db, MARKER)
        assert len(in_state) == len(set(in_state)), "an object is recorded twice"
        assert sorted(in_cloud) == sorted(in_state), (
            f"after a kill during {operation} at line {lines}: missing from state "
            f"{sorted(set(in_cloud) - set(in_state))}, missing from the cloud {sorted(set(in_state) - set(in_cloud))}"
        )
        assert all(n == 1 for n in versions.values()), f"a key was created twice: {versions}"
        assert not any(inst.pending for _a, _r, inst in state.instances()), "a pending operation was left"
        expected = 46 if operation == "apply" else 0
        assert len(in_state) == expected
    assert len(moments) >= 20
    print(f"{pending_left} pending operations left by the kills; resolved:", *recovered, sep="\n  ")
    assert pending_left > 0 and recovered, "no kill landed inside an operation: the test proves nothing"

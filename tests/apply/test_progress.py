"""Apply progress lines: event scripts in tests/fixtures/render/apply_<case>/events.json,
the expected output in expected.txt beside them; the clock is a fake the script moves."""

from __future__ import annotations

import io
import json
import re
import threading
from pathlib import Path

import pytest

from reconciler.apply.progress import Failure, Progress, format_duration, wording
from reconciler.diagnostics import error
from reconciler.plan.model import Action

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "render"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "events.json").is_file())
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def play(case: str, *, color: bool = False) -> str:
    out, clock = io.StringIO(), FakeClock()
    progress = Progress(out, color=color, clock=clock)
    for name, *args in json.loads((FIXTURES / case / "events.json").read_text()):
        if name == "clock":
            clock.now = float(args[0])
        elif name == "summary":
            counts, failures, skipped = (args + [None, ()])[:3]
            progress.summary(counts, failures, skipped=skipped)
        else:
            getattr(progress, name)(*args)
    return out.getvalue()


@pytest.mark.parametrize("case", CASES)
def test_progress_matches_expected(case):
    """Only compares; after a deliberate wording change run tests/plan/update_render_goldens.py."""
    assert play(case) == (FIXTURES / case / "expected.txt").read_text()


@pytest.mark.parametrize("case", CASES)
def test_colour_only_decorates(case):
    colored = play(case, color=True)
    assert "\x1b[" in colored
    assert ANSI.sub("", colored) == play(case)


def test_heartbeat_once_per_interval_per_operation():
    out, clock = io.StringIO(), FakeClock()
    progress = Progress(out, color=False, clock=clock)
    progress.started("a.one", Action.CREATE)
    clock.now = 5
    progress.started("a.two", Action.DELETE)
    for now in (9.99, 10, 10.5, 14.9, 15, 19.99, 20, 29.9, 30):
        progress.heartbeat(now)
    lines = out.getvalue().splitlines()[2:]
    assert lines == [
        "a.one: Still creating... [10s elapsed]",
        "a.two: Still destroying... [10s elapsed]",
        "a.one: Still creating... [20s elapsed]",
        "a.two: Still destroying... [24s elapsed]",
        "a.one: Still creating... [30s elapsed]",
    ]
    progress.finished("a.one", Action.CREATE, 30)
    progress.heartbeat(100)
    assert out.getvalue().splitlines()[-1] == "a.two: Still destroying... [1m35s elapsed]"


def test_summary_from_reported_failures_and_diagnostics():
    out = io.StringIO()
    progress = Progress(out, color=False, clock=FakeClock())
    progress.failed("azurerm_key_vault.kv", "create", 2, "Conflict")
    progress.summary({"added": 0, "changed": 0, "destroyed": 0})
    assert out.getvalue().splitlines()[-2:] == [
        "Apply failed: 1 operation failed. Resources: 0 added, 0 changed, 0 destroyed.",
        "  - azurerm_key_vault.kv: Conflict",
    ]
    out.truncate(0)
    out.seek(0)
    progress.summary(
        {"added": 1},
        [
            ("azurerm_recovery_services_vault.v", error("R4", "Key is disabled", "Enable the key.")),
            Failure("azurerm_role_assignment.r", "Forbidden"),
        ],
    )
    assert out.getvalue().splitlines()[1:] == [
        "Apply failed: 2 operations failed. Resources: 1 added, 0 changed, 0 destroyed.",
        "  - azurerm_recovery_services_vault.v: Key is disabled",  # its detail comes with the error
        "  - azurerm_role_assignment.r: Forbidden",
    ]


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0s"), (0.9, "0s"), (9.99, "9s"), (60, "1m0s"), (61.5, "1m1s"), (3600, "1h0m0s"), (3725, "1h2m5s")],
)
def test_durations_read_like_terraform(seconds, text):
    assert format_duration(seconds) == text


def test_every_action_and_the_key_assignment_have_words():
    assert wording(Action.UPDATE).doing == "Modifying"
    assert wording("update").noun == "Modifications"
    assert wording("encryption").still == "Still assigning the encryption key"
    assert wording("delete").noun == "Destruction"
    assert wording("network_rules").doing == "Applying network_rules"


def test_lines_never_interleave_across_threads():
    out, clock = io.StringIO(), FakeClock()
    progress = Progress(out, color=False, clock=clock)
    clock.now = 0

    def worker(n: int) -> None:
        for i in range(50):
            address = f"azurerm_role_assignment.r{n}_{i}"
            progress.started(address, "create")
            progress.heartbeat(clock.now + 10 * (i + 1))
            progress.finished(address, "create", 1, f"/id/{n}/{i}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = out.getvalue().splitlines()
    assert sum(1 for ln in lines if ln.endswith(": Creating...")) == 300
    assert sum(1 for ln in lines if ": Creation complete after 1s [id=/id/" in ln) == 300
    assert all(
        re.fullmatch(
            r"azurerm_role_assignment\.r\d+_\d+: (Creating\.\.\.|Creation complete after 1s "
            r"\[id=/id/\d+/\d+\]|Still creating\.\.\. \[[0-9hms]+ elapsed\])",
            ln,
        )
        for ln in lines
    )

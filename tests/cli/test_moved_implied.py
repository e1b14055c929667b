"""The moves terraform makes without a moved block when ``count`` is added or removed.

Each case under tests/fixtures/implied_moves/ is applied as ``step1.tf`` (in each module
directory), optionally has ``state_mv`` ("FROM TO") run on its state, then is planned as
``step2.tf``. ``expected.txt`` holds what terraform 1.11's plan said for the same steps: its
``# ...`` comment lines and the summary, in order, and the moves it could not make. Applying
the plan must then leave nothing to do.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output

CASES = Path(__file__).parents[1] / "fixtures" / "implied_moves"
SHOWN = re.compile(r"^  # |^Plan:|could not move to|^No changes\.")


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), output=Output(out=out, err=out))
    return code, out.getvalue()


def _use(case: Path, step: str, work: Path) -> None:
    for tf in case.rglob(step):
        where = work / tf.parent.relative_to(case)
        where.mkdir(parents=True, exist_ok=True)
        shutil.copy(tf, where / "main.tf")


def _shown(lines: list[str]) -> tuple[list[str], list[str]]:
    """The comment and summary lines in order, and the moves the plan could not make."""
    blocked = sorted(line for line in lines if "could not move to" in line)
    return [line for line in lines if "could not move to" not in line], blocked


@pytest.mark.parametrize("case", sorted(p for p in CASES.iterdir() if p.is_dir()), ids=lambda p: p.name)
def test_implied_move_matches_terraform(case: Path, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _use(case, "step1.tf", tmp_path)
    assert run("apply", "-auto-approve", "-no-color")[0] == 0
    if (case / "state_mv").exists():
        source, target = (case / "state_mv").read_text().split()
        assert run("state", "mv", source, target)[0] == 0
    _use(case, "step2.tf", tmp_path)

    code, text = run("plan", "-no-color", "-detailed-exitcode")
    assert code == 2, text
    shown = [line.strip() for line in text.splitlines() if SHOWN.search(line)]
    assert _shown(shown) == _shown((case / "expected.txt").read_text().splitlines()), text
    assert "None" not in text

    assert run("apply", "-auto-approve", "-no-color")[0] == 0
    code, text = run("plan", "-no-color", "-detailed-exitcode")
    assert code == 0, text

"""Every ordering rule (O1-O5) and refusal (R1-R18) seen from the command line.

Each case is a directory under tests/fixtures/plan_rules/: ``.tf`` files laid over the shared
``_base`` configuration (after the files of ``_shared/`` its ``SHARED`` file names, one a line),
optional ``stepN/`` overlays, and ``steps.txt`` (see tests/e2e/steps.py).
The ordering cases assert the order in which apply finished its steps and the order of the local
Azure's activity log; the refusal cases assert the diagnostic and its code at plan time and that
neither plan nor apply changed the state file or the cloud.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.harness import REPO, Workspace
from tests.e2e.steps import Runner, parse_steps, xfail_reason

CASES = REPO / "tests" / "fixtures" / "plan_rules"
BASE = CASES / "_base"
SHARED = CASES / "_shared"  # files several cases use as they are (a policy and a protected VM)


def _cases():
    for case in sorted(p for p in CASES.iterdir() if (p / "steps.txt").is_file()):
        reason = xfail_reason(parse_steps(case / "steps.txt"))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(case, id=case.name, marks=marks)


def _workspace(tmp_path: Path, case: Path) -> Workspace:
    ws = Workspace(tmp_path, BASE)
    wanted = (case / "SHARED").read_text().split() if (case / "SHARED").exists() else []
    for name in wanted:
        shutil.copy(SHARED / name, ws.dir / name)
    for tf in case.glob("*.tf"):
        shutil.copy(tf, ws.dir / tf.name)
    return ws


def test_every_rule_has_a_case():
    names = {p.name.split("_")[0] for p in CASES.iterdir() if (p / "steps.txt").is_file()}
    wanted = {f"O{i}" for i in range(1, 6)} | {f"R{i}" for i in range(1, 17)}
    assert wanted <= names, f"no CLI fixture for {sorted(wanted - names)}"


@pytest.mark.parametrize("case", list(_cases()))
def test_plan_rule(case: Path, tmp_path: Path):
    Runner(_workspace(tmp_path, case), case).play(parse_steps(case / "steps.txt"))

"""Resource change blocks read as terraform's, side by side with the terraform binary.

Each case in tests/fixtures/change_parity holds a ``before.tf`` and an ``after.tf`` (and any
modules they call; files under ``after/`` replace theirs for the second plan). Both tools apply ``before.tf``, then plan ``after.tf``; the change blocks of
the two plans must be the same lines, object ids aside (terraform_data's are random). Then both
apply ``after.tf`` and must be left with the same objects in state.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output

FIXTURES = Path(__file__).parents[1] / "fixtures" / "change_parity"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())

pytestmark = pytest.mark.skipif(
    shutil.which("terraform") is None, reason="install terraform to compare with it"
)

_ID = re.compile(r'"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"')
_HEADLINE = re.compile(r"^ {1,2}# \S")


def change_blocks(plan: str) -> list[list[str]]:
    """Each change block of a plan: its comment lines, the object's lines and its closing brace."""
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in plan.splitlines():
        if current is None and _HEADLINE.match(line):
            current = []
        if current is not None:
            current.append(_ID.sub('"<id>"', line).replace("by Terraform", "by vaultform"))
            if line == "    }":
                blocks.append(current)
                current = None
    return blocks


def forgotten(plan: str) -> list[str]:
    """The addresses the warning about objects no longer managed lists."""
    return sorted(re.findall(r"^ +- (\S+)$", plan, re.MULTILINE))


@pytest.mark.parametrize("case", CASES)
def test_change_blocks_read_as_terraforms(case, tmp_path, monkeypatch):
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    run = {"cwd": theirs, "env": env, "capture_output": True, "text": True}

    def terraform(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(["terraform", *argv], **run)

    def vaultform(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        code = main(list(argv), output=Output(out=out, err=out, no_color=True))
        return code, out.getvalue()

    for directory in (theirs, ours):
        shutil.copytree(FIXTURES / case, directory, ignore=shutil.ignore_patterns("after"))
        (directory / "main.tf").write_text((FIXTURES / case / "before.tf").read_text())
        for name in ("before.tf", "after.tf"):
            (directory / name).unlink()
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "azure.db"))
    monkeypatch.chdir(ours)
    assert terraform("init").returncode == 0
    assert terraform("apply", "-auto-approve").returncode == 0
    assert vaultform("apply", "-auto-approve")[0] == 0

    for directory in (theirs, ours):
        (directory / "main.tf").write_text((FIXTURES / case / "after.tf").read_text())
        if (FIXTURES / case / "after").is_dir():
            shutil.copytree(FIXTURES / case / "after", directory, dirs_exist_ok=True)
    planned_t = terraform("plan", "-no-color", "-detailed-exitcode")
    code_v, planned_v = vaultform("plan", "-no-color", "-detailed-exitcode")
    assert (code_v, planned_t.returncode) == (2, 2), planned_v + planned_t.stderr
    assert change_blocks(planned_v) == change_blocks(planned_t.stdout)
    assert change_blocks(planned_v), planned_v
    assert forgotten(planned_v) == forgotten(planned_t.stdout)

    assert terraform("apply", "-auto-approve").returncode == 0
    assert vaultform("apply", "-auto-approve")[0] == 0
    listed_t = terraform("state", "list").stdout.split()
    code, listed_v = vaultform("state", "list")
    assert code == 0 and sorted(listed_v.split()) == sorted(listed_t)
    assert terraform("plan", "-detailed-exitcode").returncode == 0
    assert vaultform("plan", "-detailed-exitcode")[0] == 0

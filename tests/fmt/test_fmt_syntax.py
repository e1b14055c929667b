"""`fmt -check` refuses what terraform's parser refuses, side by side with the terraform binary.

Values side by side with nothing between them (``a = 1 2``, ``[1 2]``, ``l = 0x10``) and a block
header without braces used to pass ``fmt -check`` with exit 0, or be rewritten into other wrong
code (``0 x10``). Each fixture file is checked by both tools: same exit code, same error summary.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fmt_syntax"
CASES = sorted(p.name for p in FIXTURES.glob("*.tf"))

pytestmark = pytest.mark.skipif(
    shutil.which("terraform") is None, reason="install terraform to compare with it"
)


def _error_summary(text: str) -> str:
    found = re.search(r"Error: ([^\n\[]+?)\s*(\[[a-z_]+\])?$", text, re.MULTILINE)
    return found.group(1).strip() if found else ""


@pytest.mark.parametrize("name", CASES)
def test_fmt_check_refuses_what_terraform_refuses(name, tmp_path):
    source = FIXTURES / name
    env = {"TF_CLI_CONFIG_FILE": "/dev/null", "CHECKPOINT_DISABLE": "1", "PATH": os.environ["PATH"]}
    for tool in ("tf", "vf"):
        (tmp_path / tool).mkdir()
        shutil.copy(source, tmp_path / tool / name)
    theirs = subprocess.run(
        ["terraform", "fmt", "-check", "-no-color", name],
        cwd=tmp_path / "tf",
        env=env,
        capture_output=True,
        text=True,
    )
    ours = subprocess.run(
        [sys.executable, "-m", "reconciler.cli.main", "fmt", "-check", "-no-color", name],
        cwd=tmp_path / "vf",
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
    )
    assert ours.returncode == theirs.returncode, ours.stdout + ours.stderr
    assert _error_summary(ours.stderr) == _error_summary(theirs.stderr), ours.stderr + theirs.stderr
    assert (tmp_path / "vf" / name).read_bytes() == source.read_bytes()  # -check writes nothing

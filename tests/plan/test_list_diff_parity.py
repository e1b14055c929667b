"""List changes in a plan as terraform shows them: element by element with the unchanged ones
around each change for context (renderers/list.go), side by side with the terraform binary."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output

FIXTURE = Path(__file__).parents[1] / "fixtures" / "list_diffs"
CASES = json.loads((FIXTURE / "cases.json").read_text())

pytestmark = pytest.mark.skipif(
    shutil.which("terraform") is None, reason="install terraform to compare with it"
)


def _input_lines(plan: str) -> list[str]:
    """The lines of the input attribute's change, from ``~ input`` to its closing bracket."""
    lines = plan.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("~ input"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i] == "        ]")
    return lines[start : end + 1]


@pytest.mark.parametrize("before,after", CASES, ids=[str(i) for i in range(len(CASES))])
def test_list_changes_read_as_terraforms(before, after, tmp_path, monkeypatch):
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    shutil.copytree(FIXTURE, theirs)
    shutil.copytree(FIXTURE, ours)
    run = {"cwd": theirs, "env": env, "capture_output": True, "text": True}
    first, second = f"-var=items={json.dumps(before)}", f"-var=items={json.dumps(after)}"
    assert subprocess.run(["terraform", "init"], **run).returncode == 0
    assert subprocess.run(["terraform", "apply", "-auto-approve", first], **run).returncode == 0
    planned_t = subprocess.run(["terraform", "plan", "-no-color", second], **run).stdout

    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "azure.db"))
    monkeypatch.chdir(ours)

    def vaultform(*argv: str) -> str:
        out = io.StringIO()
        assert main(list(argv), output=Output(out=out, err=out, no_color=True)) in (0, 2), out.getvalue()
        return out.getvalue()

    vaultform("apply", "-auto-approve", first)
    planned_v = vaultform("plan", "-no-color", second)
    assert _input_lines(planned_v) == _input_lines(planned_t)

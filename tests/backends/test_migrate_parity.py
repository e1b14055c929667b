"""``init`` over a changed backend, side by side with the terraform binary (offline: a local
backend moving to another path): the same questions, refusals and kept lineage and serial, and a
plan against a changed block that says to run init in Terraform's words."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parents[1] / "fixtures" / "migrate"
TERRAFORM = shutil.which("terraform")

pytestmark = pytest.mark.skipif(TERRAFORM is None, reason="install terraform (1.11) to compare with it")

MOVED = 'terraform {\n  backend "local" {\n    path = "moved/here.tfstate"\n  }\n}\n'
MOVED_AGAIN = MOVED.replace("moved/here", "again/there")


class Side:
    """One tool in its own copy of the fixture."""

    def __init__(self, tool: str, work: Path):
        self.tool, self.work = tool, work
        shutil.copytree(FIXTURES / "estate", work)

    def run(self, *args: str, answers: str = "") -> tuple[int, str]:
        env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
        env.pop("TF_WORKSPACE", None)
        command = (
            [TERRAFORM or "terraform"]
            if self.tool == "terraform"
            else [sys.executable, "-c", "import sys; from reconciler.cli.main import main; sys.exit(main())"]
        )
        done = subprocess.run(
            [*command, *args, "-no-color"],
            cwd=self.work,
            env=env,
            input=answers,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return done.returncode, _words(done.stdout + "\n" + done.stderr, self.tool)

    def state(self, relative: str) -> dict:
        doc: dict = json.loads((self.work / relative).read_text())
        return doc

    @property
    def default_file(self) -> str:
        return f"{self.tool}.tfstate"


def _words(text: str, tool: str) -> str:
    """The output's words, the tool's name made neutral, so wrapping and naming don't differ."""
    text = re.sub(r"\b(terraform|vaultform|Terraform)\b", "TOOL", text)
    text = re.sub(r" \[[a-z_]+\]$", "", text, flags=re.M)  # vaultform's diagnostic codes
    return " ".join(text.split())


@pytest.fixture
def sides(tmp_path):
    tf, vf = Side("terraform", tmp_path / "tf"), Side("vaultform", tmp_path / "vf")
    assert tf.run("init", "-input=false")[0] == 0
    for side in (tf, vf):
        code, out = side.run("apply", "-auto-approve", "-input=false")
        assert code == 0, out
    return tf, vf


def _between(text: str, start: str, end: str) -> str:
    head = text.index(start)
    return text[head : text.index(end, head)]


def test_first_set_up_asks_to_copy_and_keeps_lineage_and_serial(sides):
    question = "Do you want to copy existing state to the new backend?"
    results = {}
    for side in sides:
        before = side.state(side.default_file)
        (side.work / "backend.tf").write_text(MOVED)
        code, refused = side.run("init", "-input=false")
        assert code == 1
        assert "Can't ask approval for state migration when interactive input is disabled." in refused
        code, out = side.run("init", answers="yes\n")
        assert code == 0, out
        after = side.state("moved/here.tfstate")
        assert (after["lineage"], after["serial"]) == (before["lineage"], before["serial"])
        assert [r["name"] for r in after["resources"]] == [r["name"] for r in before["resources"]]
        # the old local state is kept as the backup (terraform also leaves an empty file beside it)
        backup = side.state(side.default_file + ".backup")
        assert (backup["lineage"], backup["serial"]) == (before["lineage"], before["serial"])
        results[side.tool] = _between(out, question, "Enter a value")
    assert results["vaultform"] == results["terraform"]


def test_a_changed_block_stops_plan_and_init_until_told_what_to_do(sides):
    for side in sides:
        (side.work / "backend.tf").write_text(MOVED)
        assert side.run("init", answers="yes\n")[0] == 0
        (side.work / "backend.tf").write_text(MOVED_AGAIN)
    planned = [side.run("plan", "-input=false") for side in sides]
    for code, _ in planned:
        assert code == 1
    tf_plan, vf_plan = (
        _between(out, "Backend initialization required", "have been made.") for _, out in planned
    )
    assert vf_plan == tf_plan
    assert "Reason: Backend configuration block has changed" in vf_plan
    for side in sides:  # apply says the same
        code, out = side.run("apply", "-auto-approve", "-input=false")
        assert code == 1 and "Backend initialization required: please run" in out

    inits = [side.run("init", "-input=false") for side in sides]
    tf_init, vf_init = (_between(out, "Backend configuration changed", "-reconfigure") for _, out in inits)
    assert [code for code, _ in inits] == [1, 1] and vf_init == tf_init

    for side in sides:
        kept = side.state("moved/here.tfstate")
        # "no" sets the new backend up without copying (no error), as terraform does
        code, out = side.run("init", "-migrate-state", answers="no\n")
        assert code == 0 and "Do you want to copy existing state to the new backend?" in out, out
        assert not (side.work / "again" / "there.tfstate").exists()
        # back again: the source (the new, empty place) has nothing to copy, so nothing is asked
        (side.work / "backend.tf").write_text(MOVED)
        code, out = side.run("init", "-migrate-state", "-input=false")
        assert code == 0 and "Do you want" not in out, out
        assert side.state("moved/here.tfstate") == kept
        code, out = side.run("plan", "-input=false", "-detailed-exitcode")
        assert code == 0, out

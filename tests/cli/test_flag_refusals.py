"""Flag combinations terraform refuses before reading anything: the same diagnostics, the same exit code.

Each case is what terraform 1.11 streams under -json (its words, "terraform" read as "vaultform"),
checked against vaultform's stream and, when the terraform binary is on the PATH, against terraform's.
Without -json the same diagnostics go to standard error; under -json nothing does.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output

TERRAFORM = shutil.which("terraform")
CONFIG = 'resource "terraform_data" "a" {\n  input = "x"\n}\n'

MODES = ("Incompatible plan mode options", "The -destroy and -refresh-only options are mutually-exclusive.")
APPROVAL = (
    "Plan file or auto-approve required",
    "vaultform cannot ask for interactive approval when -json is set. You can either apply a saved "
    "plan file, or enable the -auto-approve option.",
)

# (arguments, the diagnostics in order as (summary, detail))
CASES: dict[str, tuple[list[str], list[tuple[str, str]]]] = {
    "plan -destroy -refresh-only": (["plan", "-destroy", "-refresh-only"], [MODES]),
    "apply -destroy -refresh-only": (["apply", "-destroy", "-refresh-only", "-auto-approve"], [MODES]),
    "destroy -refresh-only": (
        ["destroy", "-refresh-only", "-auto-approve"],
        [("Invalid mode option", 'The -refresh-only option is not valid for "vaultform destroy".')],
    ),
    "apply -json": (["apply", "-json"], [APPROVAL]),
    "destroy -json": (["destroy", "-json"], [APPROVAL]),
    "apply -json -destroy -refresh-only": (
        ["apply", "-json", "-destroy", "-refresh-only"],
        [APPROVAL, MODES],
    ),
}


def _vaultform(cwd: Path, args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        code = main(args, output=Output(out=out, err=err, no_color=True))
    finally:
        os.chdir(previous)
    return code, out.getvalue(), err.getvalue()


def _terraform(cwd: Path, args: list[str]) -> tuple[int, str]:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    assert TERRAFORM is not None
    done = subprocess.run([TERRAFORM, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout


def _diagnostics(stream: str) -> list[tuple[str, str]]:
    messages = [json.loads(line) for line in stream.splitlines() if line.strip()]
    return [
        (m["diagnostic"]["summary"], re.sub("[Tt]erraform ", "vaultform ", m["diagnostic"]["detail"]))
        for m in messages
        if m["type"] == "diagnostic"
    ]


@pytest.mark.parametrize("case", sorted(CASES))
def test_vaultform_refuses_as_terraform_does(tmp_path, case):
    args, expected = CASES[case]
    (tmp_path / "main.tf").write_text(CONFIG)
    code, out, err = _vaultform(tmp_path, [*args, "-json"] if "-json" not in args else args)
    assert (code, _diagnostics(out), err) == (1, expected, "")
    if "-json" not in args:  # the same diagnostics as text on standard error
        code, out, err = _vaultform(tmp_path, args)
        assert code == 1
        for summary, detail in expected:
            assert f"Error: {summary}" in err and detail in err
    assert not (tmp_path / "vaultform.tfstate").exists()


@pytest.mark.skipif(TERRAFORM is None, reason="install terraform to compare with it")
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_cases_are_what_terraform_says(tmp_path, case):
    args, expected = CASES[case]
    (tmp_path / "main.tf").write_text(CONFIG)
    code, out = _terraform(tmp_path, [*args, "-json"] if "-json" not in args else args)
    assert (code, _diagnostics(out)) == (1, expected)

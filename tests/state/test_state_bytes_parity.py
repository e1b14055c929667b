"""The state file vaultform writes is byte for byte the one terraform writes for the same
configuration, apart from what differs by nature (ids, lineage, versions, serial)."""

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

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "state_parity"
TERRAFORM = shutil.which("terraform")
TF_ENV = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
_VARYING = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "UUID"),
    (re.compile(r'"terraform_version": "[^"]*"'), '"terraform_version": "X"'),
    (re.compile(r'"serial": \d+'), '"serial": N'),
    (re.compile(r',\n  "vaultform_version": "[^"]*"'), ""),  # vaultform's own member, ignored by terraform
]


def normalized(text: str) -> str:
    for pattern, replacement in _VARYING:
        text = pattern.sub(replacement, text)
    return text


def vaultform_apply(cwd: Path) -> str:
    out = io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        code = main(
            ["apply", "-auto-approve", "-input=false"], output=Output(out=out, err=out, no_color=True)
        )
    finally:
        os.chdir(previous)
    assert code == 0, out.getvalue()
    return (cwd / "vaultform.tfstate").read_text(encoding="utf-8")


def terraform_apply(cwd: Path) -> str:
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        done = subprocess.run(
            [TERRAFORM, *args], cwd=cwd, env=TF_ENV, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return (cwd / "terraform.tfstate").read_text(encoding="utf-8")


@pytest.mark.skipif(TERRAFORM is None, reason="needs the terraform binary")
@pytest.mark.parametrize("case", sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()))
def test_state_file_matches_terraform(case, tmp_path):
    ours, theirs = tmp_path / "vaultform", tmp_path / "terraform"
    shutil.copytree(FIXTURES / case, ours)
    shutil.copytree(FIXTURES / case, theirs)
    assert normalized(vaultform_apply(ours)) == normalized(terraform_apply(theirs))


def test_go_escapes_are_written():
    """Without terraform at hand: <, >, & and the JavaScript line separators are escaped as Go does."""
    from state.format import _dump

    assert (
        _dump({"s": "<a&b> \u2028\u2029 é"}, 0) == '{\n  "s": "\\u003ca\\u0026b\\u003e \\u2028\\u2029 é"\n}'
    )


def test_dependencies_are_written_keyless_and_read_back_exact():
    """terraform's ``dependencies`` name resources without instance keys; vaultform reads back the
    exact instances (its deletions are ordered by them)."""
    import json

    from state.format import decode_state, encode_state
    from state.model import InstanceState, ResourceState, State, parse_address

    exact = (parse_address('module.m["a"].terraform_data.x'), parse_address("terraform_data.y[0]"))
    inst = InstanceState(attributes={"id": "1"}, dependencies=exact)
    state = State(
        lineage="l",
        serial=1,
        resources=(ResourceState("managed", "terraform_data", "z", 'module.m["a"]', "terraform", (inst,)),),
    )
    text = encode_state(state)
    written = json.loads(text)["resources"][0]["instances"][0]["dependencies"]
    assert written == ["module.m.terraform_data.x", "terraform_data.y"]
    assert decode_state(text).resources[0].instances[0].dependencies == tuple(sorted(exact, key=str))

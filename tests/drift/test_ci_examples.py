"""The GitOps examples parse as YAML, and every `vaultform ...` line they run names a command of
vaultform's parser with flags it accepts."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from reconciler.cli.flags import UsageError
from reconciler.cli.main import build_parser

EXAMPLES = Path(__file__).parent.parent.parent / "examples" / "ci"
PIPELINES = [EXAMPLES / "github" / "vaultform.yml", EXAMPLES / "azure" / "azure-pipelines.yml"]
SHELL_STOPS = {">", ">>", "|", "||", "&&", ";", "2>", "2>&1"}


def _strings(node):
    if isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)
    elif isinstance(node, str):
        yield node


def vaultform_lines(doc) -> list[list[str]]:
    out = []
    for text in _strings(doc):
        for line in text.replace("\\\n", " ").splitlines():  # a line continued with a backslash is one
            words = shlex.split(line, comments=True) if line.strip() else []
            if len(words) < 2 or words[0] != "vaultform":  # a bare "vaultform" is a name, not a command
                continue
            argv = []
            for w in words[1:]:
                if w in SHELL_STOPS:
                    break
                argv.append(w)
            out.append(argv)
    return out


@pytest.mark.parametrize("path", PIPELINES, ids=lambda p: p.parent.name)
def test_pipeline_commands_parse(path):
    assert (path.parent / "README.md").read_text().strip()
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict)
    lines = vaultform_lines(doc)
    commands = {argv[0] for argv in lines}
    # plan on PR, apply the saved plan on merge, drift nightly
    assert {"plan", "apply", "drift"} <= commands, commands
    assert any(a[0] == "plan" and "-out" in a and "-markdown" in a for a in lines)
    assert any(a[0] == "apply" and a[-1].endswith("tfplan") for a in lines)
    parser = build_parser()
    for argv in lines:
        try:
            args = parser.parse_args(argv)
        except UsageError as exc:
            pytest.fail(f"{path.name}: `vaultform {' '.join(argv)}` is not accepted: {exc}")
        assert args.command == argv[0]


def test_a_bad_flag_is_caught():
    doc = {"steps": [{"run": "vaultform drift infra -no-such-flag"}]}
    [argv] = vaultform_lines(doc)
    with pytest.raises(UsageError):
        build_parser().parse_args(argv)


def test_github_triggers_and_exit_code_handling():
    doc = yaml.safe_load(PIPELINES[0].read_text())
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"pull_request", "push", "schedule"} <= set(triggers)
    drift_steps = [s for s in doc["jobs"]["drift"]["steps"] if "vaultform drift" in s.get("run", "")]
    assert any("exit $code" in s["run"] for s in drift_steps)

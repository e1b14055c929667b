"""`vaultform console`: expressions evaluated against a configuration and its applied state,
printed as `terraform console` prints them (the terraform binary is run beside it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent.parent / "fixtures" / "console" / "basic"
TERRAFORM = shutil.which("terraform")
VAULTFORM = [sys.executable, "-c", "import sys; from reconciler.cli.main import main; sys.exit(main())"]
TF_ENV = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}

# expressions whose printed form does not depend on generated ids
EXPRESSIONS = [
    "var.name",
    "local.tags",
    "local.zones",
    "local.label",
    "terraform_data.key.output",
    "terraform_data.key.input.size",
    "var.secret",
    'upper(var.name) == "VAULT"',
    "1 + 2",
    "1.5",
    "null",
    "terraform.workspace",
    "[]",
    "{}",
    '{a = [1, {b = "x\\ty"}], "with space" = true}',
    'sensitive(["x"])',
    # lists, sets and maps are wrapped as terraform console wraps them; tuples and objects are not
    'toset(["b", "a"])',
    "tolist(local.zones)",
    "tomap(local.tags)",
    "toset([])",
    "tolist([])",
    "tomap({})",
    '[toset(["x"])]',
    '{a = toset(["x"])}',
    "tolist([{a = 1}])",
    'tomap({a = ["x"]})',
    'tomap({a = tomap({b = "c"})})',
    'toset([tolist(["z"])])',
    'tolist(["a", 1])',
    'setunion(["a"], ["b"])',
    'split(",", "a,b")',
    'sort(["b", "a"])',
    "range(2)",
    'chunklist(["a"], 1)',
    'transpose({a = ["b"]})',
]


def _applied(tmp_path: Path, name: str, command: list[str], env=None) -> Path:
    work = tmp_path / name
    shutil.copytree(FIXTURE, work)
    for step in command:
        subprocess.run(step, shell=True, cwd=work, env=env, check=True, capture_output=True, timeout=120)
    return work


@pytest.fixture(scope="module")
def vaultform_dir(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("console") / "vf"
    shutil.copytree(FIXTURE, work)
    subprocess.run([*VAULTFORM, "apply", "-auto-approve", "."], cwd=work, check=True, capture_output=True)
    return work


def _console(work: Path, stdin: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*VAULTFORM, "console", "-no-color", *args],
        cwd=work,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_piped_expression_prints_its_value_and_exits_0(vaultform_dir):
    done = _console(vaultform_dir, "local.label\n")
    assert (done.returncode, done.stdout, done.stderr) == (0, '"vault-2"\n', "")


def test_resource_attributes_come_from_the_state(vaultform_dir):
    state = json.loads((vaultform_dir / "vaultform.tfstate").read_text())
    recorded = state["resources"][0]["instances"][0]["attributes"]["id"]
    done = _console(vaultform_dir, "terraform_data.key.id\n")
    assert done.stdout == f'"{recorded}"\n'


def test_variables_from_the_command_line_are_used(vaultform_dir):
    done = _console(vaultform_dir, "local.label\n", "-var", "name=other")
    assert done.stdout == '"other-2"\n'


def test_piped_lines_print_the_last_value_as_terraform(vaultform_dir):
    done = _console(vaultform_dir, "var.name\nlength(local.zones)\n")
    assert (done.returncode, done.stdout) == (0, "2\n")


def test_a_bad_expression_is_a_diagnostic_and_exit_1(vaultform_dir):
    done = _console(vaultform_dir, "nosuch.thing\n1\n")
    assert done.returncode == 1
    assert done.stdout == ""
    assert "Reference to undeclared resource" in done.stderr
    assert "<console-input> line 1" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_syntax_error_is_a_diagnostic(vaultform_dir):
    done = _console(vaultform_dir, "length(\n")
    assert done.returncode == 1
    assert "<console-input>" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.skipif(TERRAFORM is None, reason="install terraform to compare console output with it")
def test_values_print_as_terraform_console_prints_them(vaultform_dir, tmp_path):
    tf_dir = _applied(tmp_path, "tf", ["terraform init -no-color", "terraform apply -auto-approve"], TF_ENV)
    for expression in EXPRESSIONS:
        ours = _console(vaultform_dir, expression + "\n")
        theirs = subprocess.run(
            [TERRAFORM, "console", "-no-color"],
            cwd=tf_dir,
            env=TF_ENV,
            input=expression + "\n",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout), expression


def test_on_a_terminal_each_line_is_answered_and_an_error_does_not_end_the_session(vaultform_dir):
    import pty
    import time

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [*VAULTFORM, "console", "-no-color"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=vaultform_dir,
    )
    os.close(follower)
    os.write(leader, b"var.name\nnosuch.x\nlength(local.zones)\nexit\n")
    seen, deadline = b"", time.time() + 60
    while time.time() < deadline:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=60) == 0
    text = seen.decode()
    assert '> "vault"' in text
    assert "Reference to undeclared resource" in text
    assert "> 2" in text.replace("\r", "")


def _terminal(work: Path, typed: bytes) -> str:
    import pty
    import time

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [*VAULTFORM, "console", "-no-color"], stdin=follower, stdout=follower, stderr=follower, cwd=work
    )
    os.close(follower)
    os.write(leader, typed)
    seen, deadline = b"", time.time() + 60
    while time.time() < deadline:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=60) == 0
    return seen.decode().replace("\r", "")


def test_on_a_terminal_an_open_bracket_continues_the_expression_on_the_next_line(vaultform_dir):
    """terraform console (console_interactive.go, repl/continuation.go): while a bracket is open the
    entry goes on at a ": " prompt; a blank line ends it early, and a closer that matches nothing
    is evaluated at once."""
    text = _terminal(vaultform_dir, b'tolist([\n  "a",\n])\n{\n  k = local.zones\n}\n[\n\n)\nexit\n')
    # what the console writes (the terminal echoes the typed lines first): two ": " prompts, then the value
    answers = text[text.index("exit\n") + len("exit\n") :]
    assert answers.startswith('> : : tolist([\n  "a",\n])\n')
    assert '> : : {\n  "k" = [\n    "1",\n    "2",\n  ]\n}\n' in answers
    # "[" then a blank line: evaluated as it stands (an error), and the session goes on
    assert "> : \nError: Unclosed list" in answers
    # a closer that matches nothing is evaluated at once, at the first prompt
    assert answers.count("Error:") == 2 and answers.endswith("> ")

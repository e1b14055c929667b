"""TF_CLI_ARGS and TF_CLI_ARGS_<command> as terraform reads them, side by side with the binary."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.cli.env_args import EnvArgsError, with_env_args

COMMANDS = {"plan", "apply", "state", "force-unlock", "workspace"}


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        (["plan"], {"TF_CLI_ARGS": "-no-color"}, ["plan", "-no-color"]),
        (
            ["-chdir=x", "plan", "-out=p"],
            {"TF_CLI_ARGS": "-input=false", "TF_CLI_ARGS_plan": "-lock-timeout=1m -var 'a=b c'"},
            ["-chdir=x", "plan", "-lock-timeout=1m", "-var", "a=b c", "-input=false", "-out=p"],
        ),
        (
            ["state", "mv", "a", "b"],
            {"TF_CLI_ARGS_state_mv": "-lock=false"},
            ["state", "mv", "-lock=false", "a", "b"],
        ),
        (["force-unlock", "1"], {"TF_CLI_ARGS_force_unlock": "-force"}, ["force-unlock", "-force", "1"]),
        (["apply"], {"TF_CLI_ARGS_plan": "-no-color"}, ["apply"]),
        (["-version"], {"TF_CLI_ARGS": "-no-color"}, ["-version"]),
    ],
)
def test_arguments_go_right_after_the_command(argv, environ, expected):
    assert with_env_args(argv, COMMANDS, environ) == expected


def test_unreadable_arguments_name_the_variable():
    with pytest.raises(EnvArgsError, match="TF_CLI_ARGS_plan"):
        with_env_args(["plan"], COMMANDS, {"TF_CLI_ARGS_plan": '-var "x'})


@pytest.mark.skipif(shutil.which("terraform") is None, reason="install terraform to compare with it")
def test_plan_takes_detailed_exitcode_from_the_environment_as_terraform_does(tmp_path):
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    env["VAULTFORM_LOCAL_AZURE"] = str(tmp_path / "azure.db")
    codes = []
    for tool in (["terraform"], [sys.executable, "-m", "reconciler.cli.main"]):
        work = tmp_path / tool[0].rsplit("/", 1)[-1]
        work.mkdir()
        Path(work, "main.tf").write_text('resource "terraform_data" "a" {\n  input = 1\n}\n')
        if tool == ["terraform"]:
            subprocess.run([*tool, "init"], cwd=work, env=env, capture_output=True, check=True)
        done = subprocess.run(
            [*tool, "plan"],
            cwd=work,
            env={**env, "TF_CLI_ARGS_plan": "-detailed-exitcode"},
            capture_output=True,
        )
        codes.append(done.returncode)
    assert codes == [2, 2]


def test_tf_input_false_turns_prompts_off_on_a_terminal(tmp_path):
    """On a terminal a missing variable is asked for; TF_INPUT=false makes it an error instead,
    as terraform's TF_INPUT does (and wins over -input)."""
    import pty
    import select
    import time

    (tmp_path / "main.tf").write_text('variable "region" {\n  type = string\n}\n')
    leader, follower = pty.openpty()
    env = {**os.environ, "TF_INPUT": "false", "VAULTFORM_LOCAL_AZURE": str(tmp_path / "azure.db")}
    child = subprocess.Popen(
        [sys.executable, "-m", "reconciler.cli.main", "plan", "-no-color", "-input=true"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=tmp_path,
        env=env,
    )
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and b"Enter a value" not in seen:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if leader in ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif child.poll() is not None:
            break
    if child.poll() is None:
        child.kill()
    os.close(leader)
    text = seen.decode(errors="replace")
    assert child.wait(timeout=60) == 1, text
    assert "Enter a value" not in text
    assert "No value for required variable" in text


def test_a_missing_variable_is_read_from_piped_input(tmp_path, monkeypatch):
    """terraform asks for a required variable on its input even when it is a pipe
    (``echo hello | terraform plan``); an input that ends first leaves it unset, an error."""
    import io

    from reconciler.cli.main import main
    from reconciler.cli.output import Output

    (tmp_path / "main.tf").write_text(
        'variable "req" {\n  type = string\n}\noutput "o" {\n  value = var.req\n}\n'
    )
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "azure.db"))
    monkeypatch.delenv("TF_INPUT", raising=False)
    out = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO("hello\n"))
    assert main(["plan", "-no-color", str(tmp_path)], output=Output(out=out, err=out)) == 0
    assert "var.req" in out.getvalue() and '+ o = "hello"' in out.getvalue()
    out = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["plan", "-no-color", str(tmp_path)], output=Output(out=out, err=out)) == 1
    assert "No value for required variable" in out.getvalue()

"""Terraform's command-line habits: help, version, exit codes, boolean flags, -chdir, completion.

Where terraform has the same behaviour, the terraform binary on the PATH is run beside
vaultform and the exit codes compared.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.cli.main import COMMANDS, main
from reconciler.cli.output import Output

TERRAFORM = shutil.which("terraform")
CONFIG = 'resource "terraform_data" "a" {\n  input = "x"\n}\n'


def _run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


def _terraform(args: list[str], cwd: Path) -> int:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    return subprocess.run([TERRAFORM, *args], cwd=cwd, env=env, capture_output=True, timeout=60).returncode


@pytest.mark.skipif(TERRAFORM is None, reason="install terraform to compare exit codes with it")
@pytest.mark.parametrize(
    "args",
    [[], ["-help"], ["-h"], ["-version"], ["-v"], ["version"], ["version", "-json"]]
    + [
        [command, "-help"]
        for command in ("plan", "apply", "validate", "fmt", "show", "output", "graph", "destroy")
    ],
    ids=lambda a: " ".join(a) or "(none)",
)
def test_exit_codes_match_terraform(tmp_path, monkeypatch, args):
    (tmp_path / "main.tf").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    assert _run(args)[0] == _terraform(args, tmp_path)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_answers_help_on_stdout(command):
    for form in (["-help"], ["-h"], ["--help"]):
        code, out, err = _run([command, *form])
        assert (code, err) == (0, "")
        assert out.startswith(f"usage: vaultform {command}")
    assert _run(["help", command])[:2] == _run([command, "-help"])[:2]


def test_cloud_subcommands_answer_help():
    code, out, _err = _run(["cloud", "backup", "-help"])
    assert code == 0 and "usage:" in out and "backup" in out


def test_no_command_lists_the_commands_and_exits_127():
    code, out, _err = _run([])
    assert code == 127
    for command in ("plan", "apply", "fmt", "version"):
        assert f"\n    {command} " in out


def test_version_json_names_version_platform_and_providers():
    code, out, _err = _run(["version", "-json"])
    info = json.loads(out)
    assert code == 0
    assert info["vaultform_version"] and info["platform"].count("_") == 1
    assert "registry.terraform.io/hashicorp/azurerm" in info["provider_selections"]
    assert json.loads(_run(["-version", "-json"])[1]) == info


def test_an_unknown_flag_prints_that_commands_usage(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _out, err = _run(["plan", "-bogus"])
    assert code == 1
    assert "flag provided but not defined: -bogus" in err
    assert "usage: vaultform plan" in err and "vaultform plan -help" in err


@pytest.mark.parametrize(
    "spelling, expected", [("-lock=false", False), ("-lock=true", True), ("-lock", True)]
)
def test_boolean_flags_take_equals_values_and_never_the_next_word(spelling, expected):
    from reconciler.cli.main import build_parser

    plan = build_parser(["plan"]).command_parsers["plan"]
    args = plan.parse_args([spelling, "dir-after-flag"])
    assert args.lock is expected
    assert args.dir == "dir-after-flag"


def test_an_invalid_boolean_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _out, err = _run(["plan", "-refresh=maybe"])
    assert code == 1 and "invalid boolean value for -refresh" in err


@pytest.mark.parametrize("form", [["-chdir", "cfg"], ["-chdir=cfg"]])
def test_chdir_with_or_without_equals(tmp_path, monkeypatch, form):
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "main.tf").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    code, out, _err = _run([*form, "validate"])
    assert code == 0 and "The configuration is valid" in out
    assert Path.cwd() == tmp_path


def _complete(line: str, cwd: Path) -> list[str]:
    env = {**os.environ, "COMP_LINE": line, "COMP_POINT": str(len(line))}
    code = "import sys; from reconciler.cli.main import main; sys.exit(main())"
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_completion_offers_commands_flags_and_configuration_paths(tmp_path):
    (tmp_path / "envs").mkdir()
    (tmp_path / "main.tf").write_text(CONFIG)
    assert _complete("vaultform pl", tmp_path) == ["plan"]
    assert _complete("vaultform plan -refr", tmp_path) == ["-refresh", "-refresh-only"]
    assert _complete("vaultform plan ", tmp_path) == ["envs/", "main.tf"]


def test_install_and_uninstall_autocomplete_edit_the_shell_files(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".bashrc").write_text("alias ll='ls -l'\n")
    assert _run(["-install-autocomplete"])[0] == 0
    text = (tmp_path / ".bashrc").read_text()
    assert (
        text.startswith("alias ll='ls -l'\n")
        and "complete -o nospace -C" in text
        and text.count("vaultform") >= 2
    )
    assert _run(["-install-autocomplete"])[1] == "Nothing to change.\n"  # once only
    assert _run(["-uninstall-autocomplete"])[0] == 0
    assert (tmp_path / ".bashrc").read_text() == "alias ll='ls -l'\n"
    assert not (tmp_path / ".zshrc").exists()


@pytest.mark.parametrize(
    "flag, text, summary",
    [
        ("-target", "terraform_data.a[", 'Invalid target "terraform_data.a["'),
        ("-target", "terraform_data", 'Invalid target "terraform_data"'),
        ("-replace", "module.net", 'Invalid replace "module.net"'),
    ],
)
def test_an_invalid_target_or_replace_address_is_an_error(tmp_path, monkeypatch, flag, text, summary):
    (tmp_path / "main.tf").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    code, _out, err = _run(["plan", f"{flag}={text}"])
    assert code == 1 and summary in err


def test_compact_warnings_lists_summaries_and_places(tmp_path, monkeypatch):
    (tmp_path / "main.tf").write_text(
        'terraform {\n  required_providers {\n    azurerm = {\n      source  = "hashicorp/azurerm"\n'
        '      version = "~> 4.0"\n    }\n  }\n}\n'
        'resource "azurerm_resource_group" "rg" {\n  name     = "rg-compact"\n  location = "westeurope"\n}\n'
        'resource "azurerm_key_vault" "kv" {\n  name                      = "kv-compact-warn"\n'
        '  location                  = "westeurope"\n  resource_group_name       = azurerm_resource_group.rg.name\n'
        '  tenant_id                 = "00000000-0000-0000-0000-000000000000"\n  sku_name = "standard"\n'
        "  enable_rbac_authorization = true\n}\n"
    )
    monkeypatch.chdir(tmp_path)
    code, out, _err = _run(["plan", "-compact-warnings"])
    assert code == 0
    assert 'Warnings:\n\n- Deprecated argument "enable_rbac_authorization"\n  on main.tf line 19' in out
    assert "Warnings and advisories" not in out


def test_input_prompts_for_missing_variables_on_a_terminal(tmp_path):
    import pty
    import select
    import time

    (tmp_path / "main.tf").write_text(
        'variable "region" {\n  type        = string\n  description = "Where the vault lives"\n}\n'
        'variable "n" {\n  type = number\n}\n'
        'resource "terraform_data" "a" {\n  input = "${var.region}-${var.n + 1}"\n}\n'
    )
    main_fd, child_fd = pty.openpty()
    code = "import sys; from reconciler.cli.main import main; sys.exit(main())"
    child = subprocess.Popen(
        [sys.executable, "-c", code, "plan", "-no-color"],
        stdin=child_fd,
        stdout=child_fd,
        stderr=child_fd,
        cwd=tmp_path,
    )
    os.close(child_fd)
    seen, answers = b"", [b"westeurope\n", b"2\n"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main_fd], [], [], 0.5)
        if main_fd in ready:
            try:
                chunk = os.read(main_fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if answers and seen.count(b"Enter a value:") == 3 - len(answers):
                os.write(main_fd, answers.pop(0))
        elif child.poll() is not None:
            break
    os.close(main_fd)
    text = seen.decode(errors="replace")
    assert child.wait(timeout=60) == 0, text
    assert "var.region\r\n  Where the vault lives" in text
    assert 'input  = "westeurope-3"' in text


def test_input_false_names_every_missing_variable(tmp_path, monkeypatch):
    (tmp_path / "main.tf").write_text('variable "a" {}\nvariable "b" {}\n')
    monkeypatch.chdir(tmp_path)
    code, _out, err = _run(["plan", "-input=false"])
    assert code == 1 and 'variable "a"' in err and 'variable "b"' in err


def _terraform_output(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    done = subprocess.run([TERRAFORM, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


def _warnings(text: str) -> list[str]:
    return [line.split(" [")[0].strip("│ ") for line in text.splitlines() if "Warning: " in line]


@pytest.mark.skipif(TERRAFORM is None, reason="install terraform to compare -target's warnings with it")
def test_target_warns_at_plan_and_after_apply_as_terraform_does(tmp_path, monkeypatch):
    config = 'resource "terraform_data" "a" {}\nresource "terraform_data" "b" {}\n'
    ours, theirs = tmp_path / "vf", tmp_path / "tf"
    for d in (ours, theirs):
        d.mkdir()
        (d / "main.tf").write_text(config)
    monkeypatch.chdir(ours)
    args = ["-target=terraform_data.a", "-no-color"]
    code, out, err = _run(["plan", *args])
    assert code == 0
    assert (
        _warnings(out + err)
        == _warnings(_terraform_output(["plan", *args], theirs))
        == ["Warning: Resource targeting is in effect"]
    )
    code, out, err = _run(["apply", "-auto-approve", *args])
    assert code == 0 and "vaultform plan" in out + err
    assert (
        _warnings(out + err)
        == _warnings(_terraform_output(["apply", "-auto-approve", *args], theirs))
        == [
            "Warning: Resource targeting is in effect",
            "Warning: Applied changes may be incomplete",
        ]
    )

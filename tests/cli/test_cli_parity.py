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

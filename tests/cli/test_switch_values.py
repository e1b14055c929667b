"""Every switch is a boolean as Go's flag package has it: ``-json``, ``-json=true`` and
``-json=false`` all work, as they do for terraform 1.11 (``terraform plan -json=true``)."""

from __future__ import annotations

import argparse

import pytest

from reconciler.cli.main import build_parser
from tests.e2e.harness import Workspace

PARSER = build_parser()
SWITCHES = sorted(
    (command, option[1:])
    for command, sub in PARSER.command_parsers.items()
    for action in sub._actions
    if isinstance(action, argparse._StoreTrueAction)
    for option in action.option_strings
    if option.startswith("-") and not option.startswith("--")
)


def test_there_are_switches_to_check():
    assert (
        ("plan", "json") in SWITCHES and ("audit", "json") in SWITCHES and ("drift", "no-color") in SWITCHES
    )


@pytest.mark.parametrize(("command", "name"), SWITCHES, ids=[f"{c} -{n}" for c, n in SWITCHES])
def test_a_switch_takes_true_and_false(command, name):
    sub = PARSER.command_parsers[command]
    dest = next(a.dest for a in sub._actions if f"-{name}" in a.option_strings)
    words = ["a", "b"]  # for the commands that require arguments (taint ADDRESS); others leave them
    on, _ = sub.parse_known_args([f"-{name}=true", *words])
    off, _ = sub.parse_known_args([f"-{name}=false", *words])
    bare, _ = sub.parse_known_args([f"-{name}", *words])
    assert (getattr(on, dest), getattr(off, dest), getattr(bare, dest)) == (True, False, True)


def test_detailed_exitcode_written_with_a_value(tmp_path):
    ws = Workspace(tmp_path)
    (ws.dir / "main.tf").write_text('resource "terraform_data" "a" {\n  input = "x"\n}\n')
    assert ws.vf("plan", "-detailed-exitcode=true").code == 2
    assert ws.vf("plan", "-detailed-exitcode=false").code == 0


def test_drift_refuses_parallelism_below_one(tmp_path):
    ws = Workspace(tmp_path)
    (ws.dir / "main.tf").write_text('resource "terraform_data" "a" {\n  input = "x"\n}\n')
    run = ws.vf("drift", "-parallelism", "0")
    assert run.code == 1 and "must be at least 1" in run.text, run.explain()


def test_version_and_local_azure_switches_take_values_too(tmp_path):
    ws = Workspace(tmp_path)
    on = ws.run("-version", "-json=true")
    assert on.code == 0 and on.out.lstrip().startswith("{"), on.explain()
    off = ws.run("-version", "-json=false")
    assert off.code == 0 and off.out.startswith("vaultform v"), off.explain()
    shown = ws.run("cloud", "show", "-json=false")
    assert shown.code == 0 and shown.out.startswith("tenant "), shown.explain()
    assert ws.run("cloud", "show", "-json=true").out.lstrip().startswith("{")


@pytest.mark.parametrize("argv", [("state", "list"), ("workspace", "list"), ("console",)])
def test_a_command_without_the_switch_names_it_as_written(tmp_path, argv):
    """Only the words before the command are the top level's own: a command that has no -json
    names that flag, without its value, as terraform 1.11 does."""
    run = Workspace(tmp_path).run(*argv, "-json=false")
    assert run.code == 1, run.explain()
    assert "flag provided but not defined: -json\n" in run.err, run.explain()
    assert "--json:false" not in run.out + run.err

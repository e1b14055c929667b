"""Values printed as terraform prints them: apply's "Outputs:", `output`, `output NAME` and
`console`, side by side with the terraform binary, byte for byte."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output

FIXTURE = Path(__file__).parents[1] / "fixtures" / "value_text"
NAMES = [
    "ids",
    "versions",
    "nested",
    "heredoc",
    "inner_heredoc",
    "escapes",
    "numbers",
    "empty",
    "typed",
    "typed_empty",
    "sorted",
    "flag",
    "from_functions",
    "from_module",
]
CONSOLE = [
    '"$${a}"',
    '"x\\ny"',
    '{a = "x\\ny", b = ["EOT\\nEOT_\\nz"]}',
    'tolist(["a"])',
    "tomap({b = 1, a = 2})",
    'toset(["b", "a"])',
    '"\\u00e9\\t\\u0001\\u00a0"',
    "[1e20, 0.25, -3]",
    "keys(var.owners)",
    "keys({a = 1})",
    "values(var.owners)",
    "concat(var.zones, var.zones)",
    'concat(var.zones, ["3"])',
    "merge(var.owners, var.owners)",
    "merge(var.owners, {c = 1})",
    "reverse(var.zones)",
    "slice(var.zones, 0, 1)",
    "var.zones[*]",
    "zipmap(var.zones, var.zones)",
    'true ? toset(["a"]) : []',
    'true ? ["a"] : []',
    'true ? ["a"] : ["b"]',
    "false ? var.zones : []",
    "true ? var.owners : {}",
    'true ? var.zones : toset(["z"])',
    "true ? {a = 1} : {}",
    "true ? {a = 1} : {a = 2}",
    'true ? [["a"]] : []',
    'zipmap(["a"], ["b"])',
    "var.zones",
]

pytestmark = pytest.mark.skipif(
    shutil.which("terraform") is None, reason="install terraform to compare with it"
)


def _vaultform(*args: str, stdin: str | None = None) -> str:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        import sys

        old = sys.stdin
        sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(args), output=Output(out=out, err=err, no_color=True))
    finally:
        if stdin is not None:
            sys.stdin = old
    assert code == 0, err.getvalue()
    return out.getvalue()


@pytest.fixture(scope="module")
def side_by_side(tmp_path_factory):
    root = tmp_path_factory.mktemp("values")
    theirs, ours = root / "tf", root / "vf"
    shutil.copytree(FIXTURE, theirs)
    shutil.copytree(FIXTURE, ours)
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}

    def terraform(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            ["terraform", *args], cwd=theirs, env=env, input=stdin, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    terraform("init", "-no-color")
    applied_t = terraform("apply", "-auto-approve", "-no-color")
    cwd = os.getcwd()
    os.chdir(ours)
    try:
        applied_v = _vaultform("apply", "-auto-approve")
        yield terraform, applied_t, applied_v
    finally:
        os.chdir(cwd)


def _outputs_section(text: str) -> str:
    return text[text.index("\nOutputs:\n") :]


def test_apply_prints_outputs_as_terraform_does(side_by_side):
    _terraform, applied_t, applied_v = side_by_side
    assert _outputs_section(applied_v) == _outputs_section(applied_t)
    assert "secret = <sensitive>\n" in applied_v


def test_output_lists_every_output_as_terraform_does(side_by_side):
    terraform, _t, _v = side_by_side
    assert _vaultform("output", "-no-color") == terraform("output", "-no-color")


def test_output_json_records_the_types_terraform_does(side_by_side):
    # a list, set or map (tolist, toset, tomap, split, sort) keeps its type beside the value
    terraform, _t, _v = side_by_side
    assert _vaultform("output", "-json") == terraform("output", "-json")


@pytest.mark.parametrize("name", NAMES + ["secret"])
def test_output_name_prints_the_value_as_terraform_does(side_by_side, name):
    terraform, _t, _v = side_by_side
    assert _vaultform("output", "-no-color", name) == terraform("output", "-no-color", name)


@pytest.mark.parametrize("expression", CONSOLE)
def test_console_prints_values_as_terraform_does(side_by_side, expression):
    terraform, _t, _v = side_by_side
    assert _vaultform("console", stdin=expression + "\n") == terraform("console", stdin=expression + "\n")


def test_show_prints_resources_and_outputs_as_terraform_does(side_by_side):
    terraform, _t, _v = side_by_side

    def without_ids(text: str) -> str:
        return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("id "))

    assert without_ids(_vaultform("show", "-no-color")) == without_ids(terraform("show", "-no-color"))

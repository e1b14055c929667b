"""plan -json and apply -json stream Terraform's machine-readable UI; show -json PLANFILE is the plan.

Compared side by side with the terraform binary on terraform_data configurations: the same
message types in the same order, the same messages and hook fields, and the same
resource_changes in ``show -json`` (ids aside).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output

TERRAFORM = shutil.which("terraform")
needs_terraform = pytest.mark.skipif(TERRAFORM is None, reason="install terraform to compare with it")
CONFIG = """resource "terraform_data" "a" {
  input = "%s"
}
resource "terraform_data" "b" {
  input = terraform_data.a.output
}
resource "terraform_data" "each" {
  for_each = toset(["x", "y"])
  input    = each.key
}
output "o" {
  value = terraform_data.b.output
}
"""


def _vaultform(cwd: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        code = main(list(args), output=Output(out=out, err=err, no_color=True))
    finally:
        os.chdir(previous)
    return code, out.getvalue(), err.getvalue()


def _terraform(cwd: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    done = subprocess.run([TERRAFORM, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout


def _vaultform_both(cwd: Path, *args: str) -> tuple[int, str]:
    """vaultform's exit code and what it wrote to stdout and stderr, as one text in order."""
    both = io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        code = main(list(args), output=Output(out=both, err=both, no_color=True))
    finally:
        os.chdir(previous)
    return code, both.getvalue()


def _terraform_both(cwd: Path, *args: str) -> tuple[int, str]:
    """terraform's exit code and its stdout and stderr as one text, in the order written."""
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    done = subprocess.run(
        [TERRAFORM, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout


def _messages(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _both(
    tmp_path: Path, files: str | dict[str, str], *, applied: tuple[str, ...] | None = None
) -> tuple[Path, Path]:
    """The same configuration (one main.tf, or files by path) for terraform (tmp_path/tf, init'ed)
    and for vaultform (tmp_path/vf); with ``applied``, applied by both with those arguments."""
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    for d in (theirs, ours):
        for name, text in ({"main.tf": files} if isinstance(files, str) else files).items():
            (d / name).parent.mkdir(parents=True, exist_ok=True)
            (d / name).write_text(text)
    assert _terraform(theirs, "init", "-no-color")[0] == 0
    if applied is not None:
        assert _terraform(theirs, "apply", "-auto-approve", *applied)[0] == 0
        assert _vaultform(ours, "apply", "-auto-approve", *applied)[0] == 0
    return theirs, ours


def _shape(messages: list[dict]) -> list[tuple]:
    """What must agree: type, message (ids blanked), and the hook/change resource and action."""
    out = []
    for m in messages:
        if m["type"] == "version":
            out.append(("version",))
            continue
        body = m.get("hook") or m.get("change") or {}
        text = m["@message"]
        if "[id=" in text:
            text = text[: text.index("[id=")]
        out.append((m["type"], text, json.dumps(body.get("resource")), body.get("action"), m.get("changes")))
    return out


def _pair(tmp_path: Path, value: str) -> tuple[Path, Path]:
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    for d in (theirs, ours):
        d.mkdir(exist_ok=True)
        (d / "main.tf").write_text(CONFIG % value)
    return theirs, ours


@needs_terraform
def test_plan_and_apply_json_stream_what_terraform_streams(tmp_path):
    theirs, ours = _pair(tmp_path, "one")
    assert _terraform(theirs, "init", "-no-color")[0] == 0
    for step, value in enumerate(("one", "two")):
        _pair(tmp_path, value)
        for command in (("plan", "-json"), ("apply", "-auto-approve", "-json")):
            code_t, out_t = _terraform(theirs, *command)
            code_v, out_v, err_v = _vaultform(ours, *command)
            assert code_v == code_t, err_v
            theirs_msgs, ours_msgs = _messages(out_t), _messages(out_v)

            # refresh order differs between two parallel readers; compare refreshes as a set
            def split(msgs):
                refresh = sorted(json.dumps(s) for s in _shape(msgs) if s[0].startswith("refresh"))
                return refresh, [s for s in _shape(msgs) if not s[0].startswith("refresh")]

            assert split(ours_msgs)[0] == split(theirs_msgs)[0], (step, command)
            plan_t = [s for s in split(theirs_msgs)[1] if not s[0].startswith("apply")]
            plan_v = [s for s in split(ours_msgs)[1] if not s[0].startswith("apply")]
            assert sorted(map(json.dumps, plan_v)) == sorted(map(json.dumps, plan_t)), (step, command)
            applies = lambda msgs: sorted(json.dumps(s) for s in _shape(msgs) if s[0].startswith("apply"))  # noqa: E731
            assert applies(ours_msgs) == applies(theirs_msgs), (step, command)
            assert [m["@level"] for m in ours_msgs] == [
                m["@level"] for m in ours_msgs if m["@level"] == "info"
            ]


@needs_terraform
def test_show_json_planfile_resource_changes_match_terraform(tmp_path):
    theirs, ours = _pair(tmp_path, "one")
    assert _terraform(theirs, "init", "-no-color")[0] == 0
    assert _terraform(theirs, "plan", "-out", "p.tfplan")[0] == 0
    assert _vaultform(ours, "plan", "-out", "p.tfplan")[0] == 0
    plan_t = json.loads(_terraform(theirs, "show", "-json", "p.tfplan")[1])
    plan_v = json.loads(_vaultform(ours, "show", "-json", "p.tfplan")[1])
    assert plan_v["format_version"] == plan_t["format_version"]
    assert plan_v["resource_changes"] == plan_t["resource_changes"]
    assert plan_v["output_changes"] == plan_t["output_changes"]
    assert plan_v["planned_values"] == plan_t["planned_values"]


def test_diagnostics_under_json_are_json(tmp_path):
    (tmp_path / "main.tf").write_text('resource "terraform_data" "a" {\n  input = var.missing\n}\n')
    code, out, _err = _vaultform(tmp_path, "plan", "-json")
    messages = _messages(out)
    assert code == 1
    (diag,) = [m for m in messages if m["type"] == "diagnostic"]
    assert diag["@level"] == "error" and diag["diagnostic"]["range"]["start"]["line"] == 2
    assert diag["diagnostic"]["range"]["filename"].endswith("main.tf")


def test_an_update_plans_what_reads_its_output_in_the_same_apply(tmp_path):
    """terraform_data's output echoes its input: a changed input makes it unknown, so the
    resource reading it is updated in the same apply and the next plan has nothing to do."""
    (tmp_path / "main.tf").write_text(CONFIG % "one")
    assert _vaultform(tmp_path, "apply", "-auto-approve")[0] == 0
    (tmp_path / "main.tf").write_text(CONFIG % "two")
    code, out, _ = _vaultform(tmp_path, "apply", "-auto-approve")
    assert code == 0 and "0 added, 2 changed" in out
    assert _vaultform(tmp_path, "plan", "-detailed-exitcode")[0] == 0


def test_plan_says_which_objects_it_refreshes(tmp_path):
    (tmp_path / "main.tf").write_text(CONFIG % "one")
    assert _vaultform(tmp_path, "apply", "-auto-approve")[0] == 0
    _code, out, _ = _vaultform(tmp_path, "plan")
    refreshed = [line.split(":")[0] for line in out.splitlines() if ": Refreshing state... [id=" in line]
    assert sorted(refreshed) == sorted(
        ["terraform_data.a", "terraform_data.b", 'terraform_data.each["x"]', 'terraform_data.each["y"]']
    )


IMPORTING = """resource "terraform_data" "x" {
}

import {
  to = terraform_data.x
  id = "abc"
}

resource "terraform_data" "y" {
  input = 1
}
"""


def _normal(text: str) -> list[str]:
    """Every message whole, as sorted JSON, without what differs by nature (time, tool, ids)."""
    out = []
    for m in _messages(text):
        if m["type"] == "version":
            continue
        for key in ("@timestamp", "@module"):
            m.pop(key)
        out.append(
            re.sub(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", "UUID", json.dumps(m, sort_keys=True))
        )
    return sorted(out)


def _human_lines(text: str, *words: str) -> list[str]:
    """The progress lines of objects and the summary that say ``words`` (vaultform's own lines,
    such as its summary per type, are left out)."""
    return [
        line
        for line in text.splitlines()
        if line.startswith(("terraform_data.", "Plan:", "Apply complete")) and any(w in line for w in words)
    ]


@needs_terraform
def test_an_import_plans_and_applies_as_terraform_shows_it(tmp_path):
    # the read an import makes is a refresh (terraform's refresh_start / refresh_complete and its
    # "Preparing import..." and "Refreshing state..." lines), the planned change's action is
    # "import" with no reason, the summary counts it ("1 to import, "), and apply says
    # "Importing..." / "Import complete" (text only) and streams "Outputs: 0"
    theirs, ours = _both(tmp_path, IMPORTING)
    for command in (("plan", "-json"), ("apply", "-auto-approve", "-json")):
        code_t, out_t = _terraform(theirs, *command)
        code_v, out_v, err_v = _vaultform(ours, *command)
        assert code_v == code_t == 0, err_v
        assert _normal(out_v) == _normal(out_t), command
    for d in (theirs, ours):
        (d / "terraform.tfstate").unlink(missing_ok=True)
        (d / "vaultform.tfstate").unlink(missing_ok=True)
    words = ("import", "Import", "Refreshing state")
    for command in (("plan", "-no-color"), ("apply", "-auto-approve", "-no-color")):
        code_t, out_t = _terraform(theirs, *command)
        code_v, out_v, err_v = _vaultform(ours, *command)
        assert code_v == code_t == 0, err_v
        assert _human_lines(out_v, *words) == _human_lines(out_t, *words), command


@needs_terraform
def test_apply_destroy_reports_as_apply_and_destroy_as_destroy(tmp_path):
    # terraform's `apply -destroy` ends "Apply complete! Resources: 0 added, 0 changed, 2 destroyed."
    # (operation "apply", then "Outputs: 0"); its `destroy` ends "Destroy complete! ..." with no outputs
    theirs, ours = _both(tmp_path, CONFIG % "one")
    for command in (
        ("apply", "-destroy", "-auto-approve", "-json"),
        ("destroy", "-auto-approve", "-json"),
        ("apply", "-destroy", "-auto-approve", "-no-color"),
        ("destroy", "-auto-approve", "-no-color"),
    ):
        for d, run in ((theirs, _terraform), (ours, _vaultform)):
            assert run(d, "apply", "-auto-approve", "-no-color")[0] == 0
        code_t, out_t = _terraform(theirs, *command)
        code_v, out_v, err_v = _vaultform(ours, *command)
        assert code_v == code_t == 0, err_v
        if "-json" in command:
            ends = lambda text: [m for m in _normal(text) if '"change_summary"' in m or '"outputs"' in m]  # noqa: E731
            assert ends(out_v) == ends(out_t), command
        else:
            assert out_v.rstrip().splitlines()[-1] == out_t.rstrip().splitlines()[-1], command


def _from(text: str, word: str) -> str:
    """``text`` from ``word`` on, its line breaks as spaces (terraform wraps its long lines)."""
    return " ".join(text[text.index(word) :].split()).replace("Terraform", "vaultform")


def _without_ids(text: str) -> str:
    return re.sub(r"\[id=[^\]]*\]", "[id=ID]", text)


@needs_terraform
def test_applies_with_nothing_to_do_end_as_terraforms_do(tmp_path):
    # a saved plan with no changes ends "Apply complete! Resources: 0 added, ..." and its outputs
    # (it said "No changes. The saved plan holds nothing to apply."); a saved destroy plan's apply
    # starts with its first step; apply -destroy and destroy with nothing in state say terraform's
    # "No objects need to be destroyed." and end as their command does
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    for d in (theirs, ours):
        d.mkdir()
        (d / "main.tf").write_text(
            'resource "terraform_data" "y" {\n  input = 1\n}\n\noutput "o" {\n  value = 1\n}\n'
        )
    assert _terraform(theirs, "init", "-no-color")[0] == 0
    steps = [
        (("apply", "-auto-approve", "-no-color"), None),
        (("plan", "-out", "p.bin", "-no-color"), "Saved the plan"),
        (("apply", "-no-color", "p.bin"), ""),
        (("plan", "-destroy", "-out", "p.bin", "-no-color"), None),
        (("apply", "-no-color", "p.bin"), ""),
        (("apply", "-destroy", "-auto-approve", "-no-color"), "No changes."),
        (("destroy", "-auto-approve", "-no-color"), "No changes."),
    ]
    for command, compared in steps:
        code_t, out_t = _terraform(theirs, *command)
        code_v, out_v, err_v = _vaultform(ours, *command)
        assert code_v == code_t == 0, (command, err_v)
        if compared == "Saved the plan":  # nothing to apply: terraform doesn't offer to apply it
            assert compared not in out_t and compared not in out_v
        elif compared == "":
            assert _without_ids(out_v) == _without_ids(out_t), command
        elif compared is not None:
            assert _from(out_v, compared) == _from(out_t, compared), command


@needs_terraform
def test_a_refresh_only_run_shows_and_records_what_state_holds(tmp_path):
    # with more instances configured than state holds, a refresh-only plan plans none of them: its
    # outputs are the refreshed objects' (no "+ (known after apply)"), it has no changes (exit 0),
    # says terraform's words for that, and its apply ends "Apply complete! ..." with the outputs
    config = (
        'variable "n" {\n  type = number\n}\n\n'
        'resource "terraform_data" "c" {\n  count = var.n\n  input = "item-${count.index}"\n}\n\n'
        'output "items" {\n  value = terraform_data.c[*].output\n}\n'
    )
    theirs, ours = _both(
        tmp_path,
        config,
        applied=(
            "-var",
            "n=2",
        ),
    )
    for command in (
        ("plan", "-refresh-only", "-detailed-exitcode", "-no-color", "-var", "n=3"),
        ("apply", "-refresh-only", "-auto-approve", "-no-color", "-var", "n=3"),
    ):
        code_t, out_t = _terraform(theirs, *command)
        code_v, out_v, err_v = _vaultform(ours, *command)
        assert code_v == code_t == 0, (command, out_v, err_v)
        assert _from(out_v, "No changes.") == _from(out_t, "No changes."), command


@needs_terraform
def test_create_before_destroy_reaches_what_such_a_resource_depends_on(tmp_path):
    # terraform forces create_before_destroy on the dependencies of a resource that has it (they
    # would otherwise make a cycle): a tainted dependency is created again before it is destroyed,
    # "+/- create replacement and then destroy", under terraform's headline for a tainted object
    config = (
        'resource "terraform_data" "base" {\n  count = 2\n  input = count.index\n}\n\n'
        'resource "terraform_data" "user" {\n  input = terraform_data.base[0].output\n\n'
        "  lifecycle {\n    create_before_destroy = true\n  }\n}\n"
    )
    theirs, ours = _both(tmp_path, config)
    for command in (("apply", "-auto-approve"), ("taint", "terraform_data.base[1]")):
        assert _terraform(theirs, *command)[0] == 0
        assert _vaultform(ours, *command)[0] == 0, command
    code_t, out_t = _terraform(theirs, "plan", "-no-color")
    code_v, out_v, err_v = _vaultform(ours, "plan", "-no-color")
    assert code_v == code_t == 0, err_v
    assert _actions(out_v) == _actions(out_t)
    # the old object goes after the new one is made, named as terraform names it
    code_t, out_t = _terraform(theirs, "apply", "-auto-approve", "-no-color")
    code_v, out_v, err_v = _vaultform(ours, "apply", "-auto-approve", "-no-color")
    assert code_v == code_t == 0, err_v
    deposed = lambda text: re.sub(r"object [0-9a-f]{8}\)", "object KEY)", _without_ids(text))  # noqa: E731
    assert _human_lines(deposed(out_v), "deposed") == _human_lines(deposed(out_t), "deposed") != []


def _actions(text: str) -> list[str]:
    """A human plan's symbols legend, headlines and resource lines."""
    wanted = ("+/-", "-/+", "# terraform_data")
    return [line.strip() for line in text.splitlines() if line.strip().startswith(wanted)]


@needs_terraform
def test_the_symbols_legend_lists_them_in_terraforms_order(tmp_path):
    config = (
        'variable "v" {\n  default = 1\n}\n\nvariable "n" {\n  default = 2\n}\n\n'
        'resource "terraform_data" "u" {\n  input = var.v\n}\n\n'
        'resource "terraform_data" "c" {\n  count            = var.n\n  triggers_replace = [var.v]\n}\n\n'
        'resource "terraform_data" "k" {\n  count            = var.n\n  triggers_replace = [var.v]\n\n'
        "  lifecycle {\n    create_before_destroy = true\n  }\n}\n\n"
        'resource "terraform_data" "new" {\n  count = var.v - 1\n}\n'
    )
    theirs, ours = _both(tmp_path, config, applied=())
    command = ("plan", "-no-color", "-var", "v=2", "-var", "n=1")
    legend = lambda text: text.split("symbols:\n", 1)[1].split("\n\n", 1)[0]  # noqa: E731
    assert legend(_vaultform(ours, *command)[1]) == legend(_terraform(theirs, *command)[1])


@needs_terraform
@pytest.mark.parametrize(
    "call",
    [
        'module "unit" {\n  source   = "./unit"\n  for_each = { a = 0, b = 1 }\n  size     = each.value\n}\n',
        'module "fixed" {\n  source = "./unit"\n  size   = -1\n}\n',
    ],
    ids=["for_each", "single"],
)
def test_a_module_variable_validation_refuses_the_value_a_call_gives_it(tmp_path, call):
    # terraform checks a module's variable validation against the value each call (each instance of
    # a for_each call) gives it, and points at the argument; vaultform checked only the root's
    module = (
        'variable "size" {\n  type = number\n\n  validation {\n    condition     = var.size > 0\n'
        '    error_message = "size must be positive."\n  }\n}\n\n'
        'resource "terraform_data" "part" {\n  count = var.size\n}\n'
    )
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    for d in (theirs, ours):
        (d / "unit").mkdir(parents=True)
        (d / "unit" / "main.tf").write_text(module)
        (d / "main.tf").write_text(call)
    assert _terraform(theirs, "init", "-no-color")[0] == 0
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    done = subprocess.run(
        [TERRAFORM, "plan", "-no-color"], cwd=theirs, env=env, capture_output=True, text=True
    )
    code_v, out_v, err_v = _vaultform(ours, "plan", "-no-color")
    assert code_v == done.returncode == 1, out_v + err_v
    where = [line.strip() for line in done.stderr.splitlines() if line.strip().startswith("on main.tf")]
    text = out_v + err_v
    assert text.count("Invalid value for variable") == 1 and where and where[0] in text
    assert "size must be positive." in text and "checked by the validation rule at unit/main.tf:4" in text


@needs_terraform
def test_plans_and_state_list_order_addresses_as_terraform_does(tmp_path):
    # the root module's objects first, then shallower modules before deeper ones; keys as numbers
    files = {
        "main.tf": 'resource "terraform_data" "z" {\n}\n\nresource "terraform_data" "a" {\n  count = 11\n}\n\n'
        'module "m" {\n  source = "./mod"\n  count  = 2\n}\n\nmodule "b" {\n  source = "./mod"\n}\n',
        "mod/main.tf": 'resource "terraform_data" "x" {\n  count = 2\n}\n\nmodule "inner" {\n  source = "./inner"\n}\n',
        "mod/inner/main.tf": 'resource "terraform_data" "y" {\n}\n',
    }
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    for d in (theirs, ours):
        for name, text in files.items():
            (d / name).parent.mkdir(parents=True, exist_ok=True)
            (d / name).write_text(text)
    assert _terraform(theirs, "init", "-no-color")[0] == 0
    headlines = lambda text: [line for line in text.splitlines() if line.startswith("  # ")]  # noqa: E731
    assert headlines(_vaultform(ours, "plan", "-no-color")[1]) == headlines(
        _terraform(theirs, "plan", "-no-color")[1]
    )
    assert _terraform(theirs, "apply", "-auto-approve")[0] == 0
    assert _vaultform(ours, "apply", "-auto-approve")[0] == 0
    assert _vaultform(ours, "state", "list")[1] == _terraform(theirs, "state", "list")[1]


CHECKED = """variable "n" {
  type = number
}

resource "terraform_data" "c" {
  count = var.n
}

check "enough" {
  assert {
    condition     = length(terraform_data.c) >= 2
    error_message = "fewer than two."
  }
}
"""


@needs_terraform
def test_a_check_block_warns_in_plan_and_after_apply_as_terraform_does(tmp_path):
    theirs, ours = _both(tmp_path, CHECKED)
    for n, warned in (("2", False), ("1", True)):
        for command in (
            ("plan", "-no-color", "-var", f"n={n}"),
            ("apply", "-auto-approve", "-no-color", "-var", f"n={n}"),
        ):
            code_t, out_t = _terraform_both(theirs, *command)
            code_v, out_v = _vaultform_both(ours, *command)
            assert code_v == code_t == 0, out_v
            for text in (out_t, out_v):
                assert ("Warning: Check block assertion failed" in text) is warned, (command, text)
                assert ("fewer than two." in text) is warned
            if warned and command[0] == "apply":  # after the apply's steps, before its summary, once
                for text in (out_t, out_v):
                    at = text.index("Warning: Check block assertion failed")
                    assert text.count("Warning: Check block assertion failed") == 1
                    assert text.rindex("Destruction complete") < at < text.index("Apply complete!")


@needs_terraform
def test_attributes_gone_from_an_object_read_as_terraform_shows_them(tmp_path):
    # an attribute taken out of an object is "- b = 2"; one set to null, "~ b = {...} -> null" and
    # "~ p = 2 -> null"
    config = (
        'variable "m" {\n  default = true\n}\n\nresource "terraform_data" "x" {\n  input = {\n'
        "    obj = var.m ? { a = 1, b = { c = 2 }, p = 2 } : { a = 1, b = null, p = null }\n"
        '    map = var.m ? tomap({ a = "1", b = "2" }) : tomap({ a = "1" })\n'
        "    lst = var.m ? [1, 2] : [1]\n  }\n}\n"
    )
    theirs, ours = _both(tmp_path, config, applied=())
    command = ("plan", "-no-color", "-var", "m=false")
    body = lambda text: text[text.index("~ input") : text.index("~ output")]  # noqa: E731
    assert body(_vaultform(ours, *command)[1]) == body(_terraform(theirs, *command)[1])


@needs_terraform
def test_a_targeted_run_plans_and_records_only_the_outputs_made_of_its_targets(tmp_path):
    # terraform keeps an output in a targeted plan when its value comes from targeted objects only
    # (through locals too), and an apply leaves the others as state holds them
    config = (
        'variable "v" {\n  default = 1\n}\n\n'
        'resource "terraform_data" "a" {\n  input = var.v\n}\n\n'
        'resource "terraform_data" "b" {\n  input = var.v\n}\n\n'
        'resource "terraform_data" "c" {\n  input = terraform_data.a.output\n}\n\n'
        "locals {\n  l = terraform_data.a.output\n}\n\n"
        'output "o1" {\n  value = terraform_data.a.output\n}\n\n'
        'output "o2" {\n  value = terraform_data.b.output\n}\n\n'
        'output "o3" {\n  value = terraform_data.c.output\n}\n\n'
        'output "o4" {\n  value = local.l\n}\n\n'
        'output "o5" {\n  value = var.v\n}\n'
    )
    theirs, ours = _both(tmp_path, config, applied=())
    targeted = ("-no-color", "-var", "v=2", "-target=terraform_data.a")
    outputs = lambda text: text[text.index("Changes to Outputs:") :].split("\n\n")[0].strip()  # noqa: E731
    assert outputs(_vaultform(ours, "plan", *targeted)[1]) == outputs(
        _terraform(theirs, "plan", *targeted)[1]
    )
    assert _terraform(theirs, "apply", "-auto-approve", *targeted)[0] == 0
    assert _vaultform(ours, "apply", "-auto-approve", *targeted)[0] == 0
    assert _vaultform(ours, "output", "-json")[1] == _terraform(theirs, "output", "-json")[1]


@needs_terraform
def test_a_check_blocks_warning_streams_as_terraforms(tmp_path):
    # the same diagnostic, its snippet's context the check's header, with no address (vaultform
    # adds its code; terraform adds the values of the expression's references)
    theirs, ours = _both(tmp_path, CHECKED)

    def warned(text: str) -> list[dict]:
        found = [m["diagnostic"] for m in _messages(text) if m["type"] == "diagnostic"]
        for diag in found:
            diag.pop("code", None)
            diag["snippet"].pop("values")
        return found

    command = ("plan", "-json", "-var", "n=1")
    assert warned(_vaultform(ours, *command)[1]) == warned(_terraform(theirs, *command)[1]) != []


@needs_terraform
@pytest.mark.parametrize(
    ("before", "after", "moved"),
    [
        (  # for_each put on a resource: its one object becomes an instance
            'resource "terraform_data" "one" {\n  input = "x"\n}\n',
            'resource "terraform_data" "many" {\n  for_each = toset(["x"])\n  input    = each.key\n}\n',
            'moved {\n  from = terraform_data.one\n  to   = terraform_data.many["x"]\n}\n',
        ),
        (  # count taken off: its instance [0] becomes the resource's one object
            'resource "terraform_data" "c" {\n  count = 1\n  input = "x"\n}\n',
            'resource "terraform_data" "single" {\n  input = "x"\n}\n',
            "moved {\n  from = terraform_data.c[0]\n  to   = terraform_data.single\n}\n",
        ),
    ],
    ids=["into_an_instance", "out_of_an_instance"],
)
def test_a_move_between_a_resource_and_one_instance_keeps_the_object(tmp_path, before, after, moved):
    # vaultform moved terraform_data.one to terraform_data.many (no key), then destroyed it
    # ("key [None] is not in for_each") and created many["x"]: a real object would have gone
    theirs, ours = _both(tmp_path, before, applied=())
    for d in (theirs, ours):
        (d / "main.tf").write_text(after + "\n" + moved)
    code_t, out_t = _terraform(theirs, "plan", "-no-color", "-detailed-exitcode")
    code_v, out_v, err_v = _vaultform(ours, "plan", "-no-color", "-detailed-exitcode")
    assert code_v == code_t, out_v + err_v
    assert _actions(out_v) == _actions(out_t)
    assert (
        "Plan: 0 to add, 0 to change, 0 to destroy." in out_t
        and "Plan: 0 to add, 0 to change, 0 to destroy." in out_v
    )


@needs_terraform
def test_terraform_data_without_input_plans_no_output(tmp_path):
    # terraform plans the echo of a null input as null (not shown), not "(known after apply)"
    theirs, ours = _both(tmp_path, 'resource "terraform_data" "r" {\n}\n')
    body = lambda text: text[text.index("  # terraform_data.r") :].split("\n\n")[0]  # noqa: E731
    assert body(_vaultform(ours, "plan", "-no-color")[1]) == body(_terraform(theirs, "plan", "-no-color")[1])


def _piped(command: list[str], cwd: Path, answer: str) -> tuple[int, str]:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1", "NO_COLOR": "1"}
    done = subprocess.run(
        command, cwd=cwd, env=env, input=answer, capture_output=True, text=True, timeout=120
    )
    return done.returncode, done.stdout + done.stderr


@needs_terraform
@pytest.mark.parametrize("answer", ["yes\n", "no\n"])
@pytest.mark.parametrize("command", [("apply",), ("destroy",), ("apply", "-destroy")])
def test_the_approval_is_asked_and_answered_on_standard_input_as_terraforms(tmp_path, command, answer):
    # `echo yes | terraform apply` applies; vaultform refused any input but a terminal's
    vaultform = shutil.which("vaultform") or str(Path(sys.executable).parent / "vaultform")
    theirs, ours = _both(tmp_path, 'resource "terraform_data" "r" {\n  input = 1\n}\n')
    if command[-1] != "apply":  # something to destroy
        assert _terraform(theirs, "apply", "-auto-approve")[0] == 0
        assert _vaultform(ours, "apply", "-auto-approve")[0] == 0
    code_v, out_v = _piped([vaultform, *command, "-no-color"], ours, "")  # the input ends: no answer
    assert code_v == 1 and "the input ended before an answer" in out_v
    code_t, out_t = _piped([TERRAFORM, *command, "-no-color"], theirs, answer)
    code_v, out_v = _piped([vaultform, *command, "-no-color"], ours, answer)
    assert code_v == code_t, out_v
    question = lambda text: text[text.rindex("\nDo you") :].replace("Terraform", "vaultform")  # noqa: E731
    if answer == "no\n":
        assert question(out_v) == question(out_t)
    else:
        assert "complete! Resources:" in out_v and "complete! Resources:" in out_t


@needs_terraform
def test_a_null_output_is_an_unchanged_output_of_the_plan(tmp_path):
    # terraform plans an output that stays null as unchanged: it lines the names up over it and
    # lists it in show -json's output_changes ("no-op")
    config = (
        'resource "terraform_data" "r" {\n  input = 1\n}\n\n'
        'output "n" {\n  value = terraform_data.r.output\n}\n\n'
        'output "nothing" {\n  value = null\n}\n'
    )
    theirs, ours = _both(tmp_path, config)
    section = lambda text: text[text.index("Changes to Outputs:") :].split("\n\n")[0].strip()  # noqa: E731
    assert section(_vaultform(ours, "plan", "-no-color", "-out", "p.bin")[1]) == section(
        _terraform(theirs, "plan", "-no-color", "-out", "p.bin")[1]
    )
    changes = lambda text: json.loads(text)["output_changes"]  # noqa: E731
    assert changes(_vaultform(ours, "show", "-json", "p.bin")[1]) == changes(
        _terraform(theirs, "show", "-json", "p.bin")[1]
    )


@needs_terraform
def test_changed_outputs_line_up_with_the_unchanged_ones(tmp_path):
    config = 'variable "v" {\n  default = 1\n}\n\noutput "a" {\n  value = var.v\n}\n\noutput "unchanged_long" {\n  value = 5\n}\n'
    theirs, ours = _both(tmp_path, config, applied=())
    section = lambda text: text[text.index("Changes to Outputs:") :].split("\n\n")[0].strip()  # noqa: E731
    command = ("plan", "-no-color", "-var", "v=2")
    assert section(_vaultform(ours, *command)[1]) == section(_terraform(theirs, *command)[1])


@needs_terraform
@pytest.mark.parametrize("lowest", ["0", "-5"])  # the validation refuses -1; or lets it reach count
def test_a_refused_module_input_or_count_is_the_only_error_and_destroys_nothing(tmp_path, lowest):
    # a module input its validation refused was still used (a follow-on count error), and a count
    # that failed listed the resource's objects in state as destroyed by the refused plan
    module = (
        'variable "n" {\n  type = number\n  validation {\n'
        f"    condition     = var.n >= {lowest}\n"
        '    error_message = "n is too small."\n  }\n}\n'
        'resource "terraform_data" "r" {\n  count = var.n\n}\n'
    )
    call = 'module "m" {\n  source = "./m"\n  n      = N\n}\n'
    theirs, ours = _both(tmp_path, {"main.tf": call.replace("N", "2"), "m/main.tf": module}, applied=())
    for d in (theirs, ours):
        (d / "main.tf").write_text(call.replace("N", "-1"))
    code_t, out_t = _terraform_both(theirs, "plan", "-no-color")
    code_v, out_v = _vaultform_both(ours, "plan", "-no-color")
    errors = lambda text: sorted(  # noqa: E731
        line.split(" [")[0] for line in text.splitlines() if line.startswith("Error: ")
    )
    assert code_v == code_t == 1
    assert errors(out_v) == errors(out_t), out_v
    assert "destroy" not in out_v.replace("0 to destroy", ""), out_v


_CONDITION_VALUES = """
variable "n" {
  type    = number
  default = 3
  validation {
    condition     = var.n < 3 || var.n == length(local.names)
    error_message = "n is not the number of names."
  }
}
variable "tags" {
  type    = map(string)
  default = { team = "a" }
}
variable "ids" {
  type    = list(string)
  default = []
}
variable "secret" {
  type      = string
  default   = "hunter2"
  sensitive = true
}
locals {
  names = ["a", "b"]
  one   = { only = true }
}
resource "terraform_data" "keyed" {
  for_each = toset(local.names)
  input    = each.key
  lifecycle {
    precondition {
      condition     = each.key == "a" && var.secret != "" && length(var.ids) > 0
      error_message = "only a."
    }
  }
}
resource "terraform_data" "tagged" {
  input = 1.5
  lifecycle {
    precondition {
      condition     = var.tags["team"] == "b" && local.one.only == false || length(var.tags) > 4 && local.one == null
      error_message = "wrong team."
    }
  }
}
check "names" {
  assert {
    condition     = length(local.names) > 2 && var.n == 1
    error_message = "too few names."
  }
}
"""


@needs_terraform
def test_a_failed_condition_lists_what_its_references_held_as_terraforms(tmp_path):
    # terraform prints "var.n is 3", "local.names is tuple with 2 elements" under a failed
    # condition (and in JSON, snippet.values); vaultform printed nothing of them
    theirs, ours = _both(tmp_path, _CONDITION_VALUES)

    def values(text: str) -> list[tuple]:
        out = []
        for m in _messages(text):
            d = m.get("diagnostic")
            if d and d.get("snippet"):
                out.append((d["summary"].split(" failed")[0], d["snippet"]["values"]))
        return sorted(out, key=repr)

    code_t, out_t = _terraform(theirs, "plan", "-json")
    code_v, out_v, _ = _vaultform(ours, "plan", "-json")
    assert code_v == code_t == 1
    assert values(out_v) == values(out_t)
    assert len(values(out_t)) == 4  # the validation, the two instances' and one more precondition
    code_v, text = _vaultform_both(ours, "plan", "-no-color")
    assert (
        "      ├────────────────\n      │ local.names is tuple with 2 elements\n      │ var.n is 3\n" in text
    ), text
    assert "hunter2" not in out_v + text
    # a check block's assertion: a warning, with the same lines
    check_only = (
        'variable "n" {\n  default = 2\n}\nlocals {\n  names = ["a"]\n}\n'
        + (_CONDITION_VALUES[_CONDITION_VALUES.index('check "names"') :])
    )
    theirs, ours = _both(tmp_path / "check", check_only)
    code_t, out_t = _terraform(theirs, "plan", "-json")
    code_v, out_v, _ = _vaultform(ours, "plan", "-json")
    assert code_v == code_t == 0
    assert values(out_v) == values(out_t) != []


@needs_terraform
def test_an_empty_collection_of_a_declared_type_records_its_element_type_as_terraform(tmp_path):
    # list(string) = [] was recorded ["list", "dynamic"]; terraform records ["list", "string"]
    config = (
        'variable "ids" {\n  type    = list(string)\n  default = []\n}\n'
        'variable "m" {\n  type    = map(list(number))\n  default = {}\n}\n'
        'output "o" {\n  value = var.ids\n}\noutput "p" {\n  value = var.m\n}\n'
    )
    theirs, ours = _both(tmp_path, config, applied=())
    code_t, out_t = _terraform(theirs, "output", "-json")
    code_v, out_v, _ = _vaultform(ours, "output", "-json")
    assert code_v == code_t == 0
    assert json.loads(out_v) == json.loads(out_t)
    assert json.loads(out_v)["p"]["type"] == ["map", ["list", "number"]]


_EVALUATION_ERRORS = """
locals {
  l = ["a", "b"]
  o = { a = 1 }
}
resource "terraform_data" "a" {
  input = local.l[5]
}
resource "terraform_data" "c" {
  input = local.o.zz
}
resource "terraform_data" "f" {
  input = [for x in local.l : x * 2]
}
resource "terraform_data" "g" {
  input = upper(local.o)
}
"""


@needs_terraform
def test_an_evaluation_error_lists_what_the_failing_expression_read_as_terraforms(tmp_path):
    # "local.l is tuple with 2 elements" under an invalid index; nothing under x * 2 (x is the
    # for expression's own name)
    theirs, ours = _both(tmp_path, _EVALUATION_ERRORS)

    def values(text: str) -> list[tuple]:
        found = [m["diagnostic"] for m in _messages(text) if m.get("diagnostic", {}).get("snippet")]
        return sorted({(d["range"]["start"]["line"], repr(d["snippet"]["values"])) for d in found})

    code_t, out_t = _terraform(theirs, "plan", "-json")
    code_v, out_v, _ = _vaultform(ours, "plan", "-json")
    assert code_v == code_t == 1
    assert values(out_v) == values(out_t)
    assert [line for line, shown in values(out_v) if shown != "[]"] == [7, 10, 16]


def test_an_error_while_validating_a_sensitive_variable_does_not_print_it(tmp_path):
    (tmp_path / "main.tf").write_text(
        'variable "secret" {\n  default   = "hunter2"\n  sensitive = true\n  validation {\n'
        '    condition     = tonumber(var.secret) > 0\n    error_message = "not a number."\n  }\n}\n'
    )
    code, text = _vaultform_both(tmp_path, "plan", "-no-color")
    assert code == 1 and "tonumber" in text
    assert "hunter2" not in text, text


@needs_terraform
def test_refresh_reads_records_the_outputs_and_asks_nothing_as_terraforms(tmp_path):
    # `terraform refresh` (apply -refresh-only -auto-approve) was an unknown command
    config = 'resource "terraform_data" "r" {\n  input = 1\n}\noutput "o" {\n  value = terraform_data.r.output\n}\n'
    theirs, ours = _both(tmp_path, config)
    code_t, out_t = _terraform_both(theirs, "refresh", "-no-color")
    code_v, out_v = _vaultform_both(ours, "refresh", "-no-color")
    assert code_v == code_t == 0
    assert "Empty or non-existent state" in out_v and "Empty or non-existent state" in out_t
    for d in (theirs, ours):
        (d / "main.tf").write_text(config)
    assert _terraform(theirs, "apply", "-auto-approve")[0] == 0
    assert _vaultform(ours, "apply", "-auto-approve")[0] == 0
    for d in (theirs, ours):  # an output added since: refresh records it
        (d / "main.tf").write_text(config + 'output "p" {\n  value = terraform_data.r.input + 1\n}\n')
    code_t, out_t = _terraform_both(theirs, "refresh", "-no-color")
    code_v, out_v = _vaultform_both(ours, "refresh", "-no-color")
    assert code_v == code_t == 0
    tail = lambda text: text[text.index("\nOutputs:") :]  # noqa: E731
    assert tail(out_v) == tail(out_t)
    assert "Apply complete" not in out_v and "Do you" not in out_v
    assert json.loads(_vaultform(ours, "output", "-json")[1]) == json.loads(
        _terraform(theirs, "output", "-json")[1]
    )
    _, stream_t = _terraform(theirs, "refresh", "-json")
    _, stream_v, _ = _vaultform(ours, "refresh", "-json")
    assert _shape(_messages(stream_v)) == _shape(_messages(stream_t))


@needs_terraform
def test_get_installs_modules_and_names_what_it_installs_as_terraforms(tmp_path):
    files = {"main.tf": 'module "m" {\n  source = "./m"\n}\n', "m/main.tf": "locals {\n  a = 1\n}\n"}
    theirs, ours = _both(tmp_path, files)
    for args in (("get", "-no-color"), ("get", "-update", "-no-color")):
        code_t, out_t = _terraform_both(theirs, *args)
        code_v, out_v = _vaultform_both(ours, *args)
        assert (code_v, out_v) == (code_t, out_t), args


@needs_terraform
def test_every_function_names_its_parameters_as_terraforms_signatures_do():
    # the names show in "Invalid value for "str" parameter" and "while calling upper(str)"
    from reconciler.config.functions import BUILTINS

    code, text = _terraform(Path("."), "metadata", "functions", "-json")
    assert code == 0
    theirs = json.loads(text)["function_signatures"]
    # join and setunion take their first list as a parameter of its own here (same arity rules)
    differ = []
    for name, spec in sorted(BUILTINS.items()):
        if name not in theirs or name in ("join", "setunion"):
            continue
        names = [p["name"] for p in theirs[name].get("parameters", [])]
        variadic = theirs[name].get("variadic_parameter", {}).get("name")
        if [p.name for p in spec.params] != names or (
            spec.variadic.name if spec.variadic else None
        ) != variadic:
            differ.append(name)
    assert differ == []


@needs_terraform
def test_a_failed_function_call_names_the_function_as_terraform_does(tmp_path):
    theirs, ours = _both(
        tmp_path, 'locals {\n  o = { a = 1 }\n}\noutput "x" {\n  value = upper(local.o)\n}\n'
    )
    _, out_t = _terraform_both(theirs, "plan", "-no-color")
    _, out_v = _vaultform_both(ours, "plan", "-no-color")
    assert "│ while calling upper(str)\n" in out_t
    assert "│ while calling upper(str)\n" in out_v, out_v


_FOR_EACH_TAKEN = {
    "try_of_a_list": "try(var.names, [])",
    "try_falls_back_to_a_set": 'try(var.settings.missing, toset(["x"]))',
    "conditional_of_two_tuple_locals": "var.on ? local.left : local.right",
    "conditional_of_two_sets": 'var.on ? toset(local.left) : toset(["z"])',
    # a splat over a set was let through; terraform: a list of string (over a tuple: a tuple)
    "splat_of_a_set": "toset(var.names)[*]",
    "splat_of_a_set_of_objects": 'toset([{ n = "a" }, { n = "b" }])[*].n',
    "splat_of_a_tuple": '["a", "b"][*]',
    "set_of_a_splat": "toset(var.names[*])",
}


@needs_terraform
@pytest.mark.parametrize("case", sorted(_FOR_EACH_TAKEN))
def test_for_each_through_try_a_conditional_or_a_splat_is_judged_by_its_type(tmp_path, case):
    # try(var.names, []) with names a list(string) was let through; terraform refuses it
    config = (
        'variable "names" {\n  type    = list(string)\n  default = ["a", "b"]\n}\n'
        'variable "settings" {\n  type    = object({ name = string })\n  default = { name = "n" }\n}\n'
        'variable "on" {\n  default = true\n}\n'
        'locals {\n  left  = [for n in var.names : n]\n  right = [for n in var.names : "${n}2"]\n}\n'
        f'resource "terraform_data" "r" {{\n  for_each = {_FOR_EACH_TAKEN[case]}\n  input    = each.key\n}}\n'
    )
    theirs, ours = _both(tmp_path, config)
    code_t, out_t = _terraform_both(theirs, "plan", "-no-color")
    code_v, out_v = _vaultform_both(ours, "plan", "-no-color")
    assert code_v == code_t, out_v
    assert ("Invalid for_each argument" in out_v) == ("Invalid for_each argument" in out_t), out_t


@needs_terraform
def test_an_output_through_try_or_coalescelist_has_the_type_of_what_it_took(tmp_path):
    # try(var.names, []) printed as a tuple and was recorded ["tuple", ...]; terraform: tolist([...])
    config = (
        'variable "names" {\n  type    = list(string)\n  default = ["a", "b"]\n}\n'
        'output "t" {\n  value = try(var.names, [])\n}\n'
        'output "k" {\n  value = coalescelist(var.names, ["z"])\n}\n'
    )
    theirs, ours = _both(tmp_path, config)
    code_t, out_t = _terraform_both(theirs, "apply", "-auto-approve", "-no-color")
    code_v, out_v = _vaultform_both(ours, "apply", "-auto-approve", "-no-color")
    assert code_v == code_t == 0
    assert out_v[out_v.index("\nOutputs:") :] == out_t[out_t.index("\nOutputs:") :]
    # an apply that only records outputs: one blank line before its summary, as terraform's
    assert "\n\n\nApply complete!" not in out_v and "\n\n\nApply complete!" not in out_t
    types = lambda text: {k: v["type"] for k, v in json.loads(text).items()}  # noqa: E731
    assert types(_vaultform(ours, "output", "-json")[1]) == types(_terraform(theirs, "output", "-json")[1])


def test_plan_json_lists_the_outputs_that_stay_as_they_are(tmp_path):
    # as terraform 1.11: the outputs message names every output the plan has a change for, and
    # "noop" ones too (a plan with nothing to do still streams "Outputs: 1")
    _, ours = _pair(tmp_path, "one")
    assert _vaultform(ours, "apply", "-auto-approve")[0] == 0
    code, out, err = _vaultform(ours, "plan", "-json")
    assert code == 0, err
    (outputs,) = [m for m in _messages(out) if m["type"] == "outputs"]
    assert outputs["@message"] == "Outputs: 1"
    assert outputs["outputs"] == {"o": {"sensitive": False, "action": "noop"}}

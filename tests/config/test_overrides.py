"""Terraform's override files (``override.tf``, ``*_override.tf`` and their .tf.json), merged into
the blocks they override (reconciler.config.overrides).

Each case of ``tests/fixtures/overrides/<case>/`` with an ``expected/`` directory holds a module with
override files, and in ``expected/`` the merged configuration written out by hand: both must load
into the same modules (positions and file names aside) and plan the same; terraform plans the
terraform_data cases as vaultform does. ``errors/`` marks each line of an override file that must
draw an error (``# ERROR: <words of the summary>``); terraform finds the same errors there.
"""

from __future__ import annotations

import dataclasses
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
from reconciler.config import ast
from reconciler.config.convert_model import decode_module
from reconciler.config.directory import load_directory
from reconciler.config.loader import parse_text
from reconciler.config.modules import load_module_tree
from reconciler.config.overrides import MISSING_CODE, UNSUPPORTED_CODE, is_override_file, merge_overrides
from reconciler.validate import validate_directory

FIXTURES = Path(__file__).parents[1] / "fixtures" / "overrides"
MERGED = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected").is_dir())
PLANNED = ["azurerm_vault", "child_module", "terraform_data"]
WITH_TERRAFORM = ["child_module", "terraform_data"]  # terraform_data only: terraform plans it offline
MARK = re.compile(r"#\s*ERROR:\s*(.+?)\s*$")
needs_terraform = pytest.mark.skipif(shutil.which("terraform") is None, reason="install terraform to compare")


def _without_places(obj):
    """A model with every position, file name and directory left out."""
    if isinstance(obj, ast.Pos):
        return None
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return (type(obj).__name__,) + tuple(
            (f.name, _without_places(getattr(obj, f.name)))
            for f in dataclasses.fields(obj)
            if f.name not in ("files", "directory")
        )
    if isinstance(obj, dict):
        return {k: _without_places(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return tuple(_without_places(x) for x in obj)
    return obj


def _modules(directory: Path) -> dict:
    tree, diags = load_module_tree(directory, cache=False)
    assert [d for d in diags if d.is_error] == []
    return {module.path: _without_places(module.module) for module in tree.walk()}


# --------------------------------------------------------------------------- the fixture cases


def test_the_cases_are_there():
    assert set(PLANNED) <= set(MERGED)
    assert {"terraform_block"} <= set(MERGED)
    for case in MERGED:
        assert [p for p in (FIXTURES / case).rglob("*") if is_override_file(p.name)], case
        assert not [p for p in (FIXTURES / case / "expected").rglob("*") if is_override_file(p.name)], case


@pytest.mark.parametrize("case", MERGED)
def test_override_files_load_as_the_configuration_written_out(case):
    merged, expected = _modules(FIXTURES / case), _modules(FIXTURES / case / "expected")
    assert list(merged) == list(expected)  # the same module tree
    for path in merged:
        assert merged[path] == expected[path], f"module {path!r} of {case} differs"


@pytest.mark.parametrize("case", MERGED)
def test_the_merged_module_keeps_its_override_files_and_their_places(case):
    tree, _ = load_module_tree(FIXTURES / case, cache=False)
    for module in tree.walk():
        names = sorted(p.name for p in module.directory.iterdir() if p.name.endswith((".tf", ".tf.json")))
        assert sorted(Path(f).name for f in module.module.files) == names


def test_merged_content_keeps_the_position_of_the_file_it_comes_from():
    tree, _ = load_module_tree(FIXTURES / "terraform_data", cache=False)
    module = tree.module
    counted = module.resources["terraform_data.counted"]
    assert Path(counted.pos.file).name == "main.tf"  # the block is main.tf's
    (text,) = [a for a in counted.body.attributes if a.name == "input"]
    assert (Path(text.pos.file).name, text.pos.line) == ("b_override.tf.json", 11)
    assert (Path(counted.count.pos.file).name, counted.count.pos.line) == ("a_override.tf", 11)
    assert Path(module.locals["greeting"].pos.file).name == "a_override.tf"
    assert Path(module.locals["kept"].pos.file).name == "main.tf"
    app = module.resources["terraform_data.app"]
    assert app.lifecycle.prevent_destroy and app.lifecycle.create_before_destroy
    assert [Path(e.pos.file).name for e in app.lifecycle.ignore_changes] == ["main.tf"]
    assert module.outputs["greeting"].description == "the base description"


_SOURCE_PLACE = re.compile(r"^\s+on \S+ line \d+(, in [^:]+)?:\n\s+\d+: .*\n", re.M)


def _vaultform(directory: Path, *argv: str, env: dict[str, str]) -> tuple[int, str]:
    out = io.StringIO()
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        code = main(["-chdir=" + str(directory), *argv], output=Output(out=out, err=out, no_color=True))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return code, out.getvalue()


@pytest.mark.parametrize("case", PLANNED)
def test_override_files_plan_as_the_configuration_written_out(case, tmp_path):
    plans = {}
    for kind, source in (("merged", FIXTURES / case), ("expected", FIXTURES / case / "expected")):
        directory = tmp_path / kind
        shutil.copytree(source, directory, ignore=shutil.ignore_patterns("expected"))
        env = {"VAULTFORM_LOCAL_AZURE": str(tmp_path / f"{kind}-azure.db")}
        code, text = _vaultform(directory, "plan", "-no-color", env=env)
        assert code == 0, text
        text = text.replace(str(tmp_path / f"{kind}-azure.db"), "<db>")
        plans[kind] = _SOURCE_PLACE.sub("", text.replace(str(directory), "<dir>"))
    assert "will be created" in plans["merged"]
    assert plans["merged"] == plans["expected"]


def _terraform(directory: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(
        ["terraform", *argv], cwd=directory, env=env, capture_output=True, text=True, timeout=300
    )


def _changes(plan: str) -> str:
    """From the first resource through the outputs (terraform's plan ends with a rule, then a note)."""
    start = plan.index("\n  # ")
    end = plan.find("\n─")
    body = plan[start : end if end >= 0 else len(plan)]
    return "\n".join(line for line in body.splitlines() if not re.match(r"  \w+: \d+ to ", line)).strip()


@needs_terraform
@pytest.mark.parametrize("case", WITH_TERRAFORM)
def test_terraform_plans_the_override_files_as_vaultform_does(case, tmp_path):
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    for target in (theirs, ours):
        shutil.copytree(FIXTURES / case, target, ignore=shutil.ignore_patterns("expected"))
    assert _terraform(theirs, "init", "-no-color").returncode == 0
    planned = _terraform(theirs, "plan", "-no-color")
    assert planned.returncode == 0, planned.stderr
    code, text = _vaultform(ours, "plan", "-no-color", env={"VAULTFORM_LOCAL_AZURE": str(tmp_path / "az.db")})
    assert code == 0, text
    assert _changes(text) == _changes(planned.stdout)
    assert "Changes to Outputs:" in _changes(text)


# --------------------------------------------------------------------------- errors


def _marks(case: Path) -> dict[tuple[str, int], str]:
    found = {}
    for f in sorted(case.rglob("*.tf")):
        for n, line in enumerate(f.read_text().splitlines(), 1):
            if m := MARK.search(line):
                found[(f.name, n)] = m.group(1)
    return found


def test_each_override_terraform_refuses_is_an_error_at_its_line():
    case = FIXTURES / "errors"
    marks = _marks(case)
    errors = validate_directory(case).diagnostics.errors
    got = {(Path(d.range.file).name, d.range.line): d for d in errors if d.range is not None}
    assert len(got) == len(errors), [d.summary for d in errors]  # every error names its place
    assert sorted(got) == sorted(marks)
    for place, words in marks.items():
        assert words in got[place].summary, (place, got[place].summary)
        assert got[place].detail, got[place].summary
    assert {d.code for d in errors if Path(d.range.file).name == "override.tf"} == {
        MISSING_CODE,
        UNSUPPORTED_CODE,
    }


@needs_terraform
def test_terraform_refuses_the_same_override_blocks(tmp_path):
    shutil.copytree(FIXTURES / "errors", tmp_path / "errors")
    checked = _terraform(tmp_path / "errors", "validate", "-json", "-no-color")
    assert checked.returncode == 1, checked.stderr
    theirs = {
        (d["range"]["filename"], d["range"]["start"]["line"], d["summary"])
        for d in json.loads(checked.stdout)["diagnostics"]
        if d["severity"] == "error"
    }
    ours = {
        (Path(d.range.file).name, d.range.line, d.summary)
        for d in validate_directory(FIXTURES / "errors").diagnostics.errors
    }
    # The one difference: an override's type that its base default doesn't fit. vaultform checks
    # the merged variable and points at the default (in main.tf), terraform at the override block.
    assert ours - theirs == {("main.tf", 10, "Invalid default value for variable")}
    assert theirs - ours == {("override.tf", 47, "Invalid default value for variable")}


def test_a_syntax_error_in_an_override_file_names_it():
    found = validate_directory(FIXTURES / "syntax_error").diagnostics.errors
    assert [(d.code, Path(d.range.file).name, d.range.line) for d in found] == [
        ("syntax", "broken_override.tf", 3)
    ]


def test_a_primary_file_that_cant_be_read_leaves_out_the_missing_bases(tmp_path):
    (tmp_path / "main.tf").write_text('resource "terraform_data" "a" {\n  input = [\n}\n')
    (tmp_path / "override.tf").write_text('resource "terraform_data" "a" {\n  input = 1\n}\n')
    found = validate_directory(tmp_path).diagnostics.errors
    assert [(d.code, Path(d.range.file).name) for d in found] == [("syntax", "main.tf")]


def test_a_changed_override_file_is_validated_again(tmp_path):
    (tmp_path / "main.tf").write_text('resource "terraform_data" "a" {\n  input = 1\n}\n')
    (tmp_path / "override.tf").write_text('resource "terraform_data" "a" {\n  input = 2\n}\n')
    assert validate_directory(tmp_path).diagnostics.errors == []
    (tmp_path / "override.tf").write_text('resource "terraform_data" "b" {\n  input = 2\n}\n')
    found = validate_directory(tmp_path).diagnostics.errors
    assert [(d.summary, Path(d.range.file).name, d.range.line) for d in found] == [
        ("Missing resource to override", "override.tf", 1)
    ]


# --------------------------------------------------------------------------- the merge, rule by rule


def _merge(primary: str, *overrides: tuple[str, str]):
    """The module decoded from ``main.tf`` and the ``(name, text)`` override files, and all problems."""
    files = []
    for name, text in (("main.tf", primary), *overrides):
        node, diags = parse_text(text, name)
        assert node is not None and diags == [], diags
        files.append(node)
    merged, found = merge_overrides(files[:1], files[1:])
    module, decoded = decode_module(merged)
    return module, found + decoded


def _attrs(body: ast.Body) -> dict[str, object]:
    return {a.name: getattr(a.expr, "value", a.expr) for a in body.attributes}


def test_override_file_names():
    for name in ("override.tf", "override.tf.json", "x_override.tf", "_override.tf", "a_b_override.tf.json"):
        assert is_override_file(name), name
    for name in ("main.tf", "overrides.tf", "my-override.tf", "override_x.tf", "xoverride.tf"):
        assert not is_override_file(name), name


def test_overrides_apply_in_lexical_order_of_name_whatever_order_they_come_in():
    primary = 'resource "terraform_data" "a" {\n  input = "main"\n}\n'
    b = ("b_override.tf", 'resource "terraform_data" "a" {\n  input = "b"\n}\n')
    a = ("a_override.tf", 'resource "terraform_data" "a" {\n  input = "a"\n}\n')
    module, found = _merge(primary, b, a)
    assert found == []
    assert _attrs(module.resources["terraform_data.a"].body) == {"input": "b"}


def test_blocks_for_the_same_object_compound_in_file_order():
    over = (
        'resource "terraform_data" "a" {\n  input = 1\n}\nresource "terraform_data" "a" {\n  input = 2\n}\n'
    )
    module, found = _merge(
        'resource "terraform_data" "a" {\n  triggers_replace = []\n}\n', ("override.tf", over)
    )
    assert found == []
    assert set(_attrs(module.resources["terraform_data.a"].body)) == {"triggers_replace", "input"}
    assert _attrs(module.resources["terraform_data.a"].body)["input"] == 2


def test_a_nested_block_type_replaces_the_dynamic_blocks_of_that_type_and_the_other_way_round():
    primary = """
resource "azurerm_key_vault" "kv" {
  access_policy {
    object_id = "a"
  }
  dynamic "access_policy" {
    for_each = var.more
    content {
      object_id = access_policy.value
    }
  }
  network_acls {
    bypass = "None"
  }
  dynamic "contact" {
    for_each = var.contacts
    content {
      email = contact.value
    }
  }
}
"""
    over = """
resource "azurerm_key_vault" "kv" {
  access_policy {
    object_id = "b"
  }
  dynamic "contact" {
    for_each = var.other
    content {
      email = contact.value
    }
  }
}
"""
    module, found = _merge(primary, ("override.tf", over))
    assert found == []
    blocks = module.resources["azurerm_key_vault.kv"].body.blocks
    assert [(b.type, b.labels) for b in blocks] == [
        ("access_policy", ()),
        ("network_acls", ()),
        ("dynamic", ("contact",)),
    ]
    assert _attrs(blocks[0].body) == {"object_id": "b"}
    assert [Path(b.pos.file).name for b in blocks] == ["override.tf", "main.tf", "override.tf"]
    over = 'resource "azurerm_key_vault" "kv" {\n  dynamic "access_policy" {\n    for_each = []\n    content {}\n  }\n}\n'
    module, found = _merge(primary, ("override.tf", over))
    assert [(b.type, b.labels) for b in module.resources["azurerm_key_vault.kv"].body.blocks] == [
        ("dynamic", ("access_policy",)),
        ("network_acls", ()),
        ("dynamic", ("contact",)),
    ]


def test_lifecycle_is_merged_argument_by_argument_as_terraform_merges_it():
    def lifecycle(base: str, over: str):
        primary = f'resource "terraform_data" "a" {{\n  lifecycle {{\n{base}\n  }}\n}}\n'
        module, found = _merge(
            primary, ("override.tf", f'resource "terraform_data" "a" {{\n  lifecycle {{\n{over}\n  }}\n}}\n')
        )
        return module.resources["terraform_data.a"].lifecycle, found

    got, found = lifecycle("ignore_changes = all", "ignore_changes = [input]")
    assert got.ignore_all_changes and found == []  # terraform keeps "all": the override only adds
    got, _ = lifecycle("ignore_changes = [input]", "ignore_changes = all")
    assert got.ignore_all_changes
    got, _ = lifecycle("ignore_changes = [input]", "ignore_changes = []")
    assert [e.name for e in got.ignore_changes] == ["input"]  # an empty list changes nothing
    got, _ = lifecycle("ignore_changes = [input]", "ignore_changes = [triggers_replace]")
    assert [e.name for e in got.ignore_changes] == ["triggers_replace"]
    got, _ = lifecycle("prevent_destroy = true", "create_before_destroy = true")
    assert got.prevent_destroy and got.create_before_destroy
    got, found = lifecycle(
        "replace_triggered_by = [terraform_data.b]", "replace_triggered_by = [terraform_data.c]"
    )
    assert [e.obj.name for e in got.replace_triggered_by] == ["terraform_data"]
    assert [e.name for e in got.replace_triggered_by] == ["b"]  # terraform ignores the override's
    assert [(d.severity.value, d.range.file, d.range.line) for d in found] == [("warning", "override.tf", 3)]
    module, found = _merge(
        'resource "terraform_data" "a" {}\n',
        (
            "override.tf",
            'resource "terraform_data" "a" {\n  lifecycle {\n    prevent_destroy = true\n  }\n}\n',
        ),
    )
    assert module.resources["terraform_data.a"].lifecycle.prevent_destroy and found == []


def test_a_data_source_scoped_to_a_check_block_is_overridden_too():
    primary = """
check "health" {
  data "http" "probe" {
    url = "https://example.com"
  }
  assert {
    condition     = data.http.probe.status_code == 200
    error_message = "down"
  }
}
"""
    module, found = _merge(
        primary, ("override.tf", 'data "http" "probe" {\n  url = "https://example.org"\n}\n')
    )
    assert found == []
    probe = module.resources["data.http.probe"]
    assert probe.check == "health" and _attrs(probe.body) == {"url": "https://example.org"}


def test_providers_are_matched_by_name_and_alias_and_a_new_default_one_is_added():
    primary = (
        'provider "azurerm" {\n  features {}\n}\nprovider "azurerm" {\n  alias = "west"\n  features {}\n}\n'
    )
    over = (
        'provider "azurerm" {\n  alias = "west"\n  subscription_id = "s"\n}\n'
        'provider "random" {}\n'
        'provider "random" {\n  version = "3.6"\n}\n'
    )
    module, found = _merge(primary, ("override.tf", over))
    assert found == []
    assert [(p.name, p.alias, sorted(_attrs(p.body))) for p in module.providers] == [
        ("azurerm", None, []),
        ("azurerm", "west", ["subscription_id"]),
        ("random", None, ["version"]),
    ]


def test_terraform_settings_merge_without_a_base_terraform_block():
    over = (
        'terraform {\n  required_version = ">= 1.6"\n  required_providers {\n    random = {\n'
        '      source = "hashicorp/random"\n    }\n  }\n  backend "azurerm" {}\n}\n'
    )
    module, found = _merge('resource "terraform_data" "a" {}\n', ("override.tf", over))
    assert found == []
    assert [p.name for p in module.terraform.required_providers] == ["random"]
    assert [e.value for e in module.terraform.required_version] == [">= 1.6"]
    assert module.terraform.backend is not None and module.terraform.backend.type == "azurerm"


def test_a_later_override_file_replaces_what_an_earlier_one_set():
    first = ("a_override.tf", 'terraform {\n  required_version = ">= 1.6"\n  backend "local" {}\n}\n')
    second = ("b_override.tf", 'terraform {\n  required_version = ">= 1.7"\n  backend "azurerm" {}\n}\n')
    module, found = _merge('terraform {\n  required_version = ">= 1.5"\n}\n', first, second)
    assert found == []
    assert [e.value for e in module.terraform.required_version] == [">= 1.7"]
    assert module.terraform.backend is not None and module.terraform.backend.type == "azurerm"


def test_what_terraform_ignores_in_an_override_file_is_a_warning_and_what_vaultform_cant_merge_an_error():
    over = (
        "removed {\n  from = terraform_data.gone\n}\n"
        'terraform {\n  provider_meta "azurerm" {}\n  encryption {}\n}\n'
    )
    module, found = _merge('resource "terraform_data" "a" {}\n', ("override.tf", over))
    assert module.removed == () and module.terraform.encryption is None
    assert [(d.severity.value, d.summary, d.range.line) for d in found] == [
        ("warning", "removed blocks in override files are ignored", 1),
        ("warning", "provider_meta in an override file is ignored", 5),
        ("error", "Can't override encryption blocks", 6),
    ]


def test_what_the_decoder_refuses_in_an_override_file_it_refuses_there():
    over = 'bogus = 1\nunknown "x" {}\nresource "terraform_data" {}\nlocals {\n  inner {}\n}\n'
    _, found = _merge('resource "terraform_data" "a" {}\n', ("override.tf", over))
    assert [(d.code, d.range.file, d.range.line) for d in found] == [
        ("unexpected-argument", "override.tf", 1),
        ("unknown-block", "override.tf", 2),
        ("label-count", "override.tf", 3),
        ("unsupported-block", "override.tf", 5),
    ]


def test_a_module_call_keeps_its_providers_and_an_output_its_description_when_the_override_sets_them_empty():
    primary = (
        'module "m" {\n  source = "./m"\n  providers = { azurerm = azurerm }\n}\n'
        'output "o" {\n  value = 1\n  description = "kept"\n}\n'
    )
    over = 'module "m" {\n  providers = {}\n}\noutput "o" {\n  description = ""\n}\n'
    module, found = _merge(primary, ("override.tf", over))
    assert found == []
    assert module.module_calls["m"].providers is not None
    assert module.outputs["o"].description == "kept"


def test_load_directory_returns_the_merged_files_and_the_override_files_last(tmp_path):
    (tmp_path / "main.tf").write_text('resource "terraform_data" "a" {\n  input = 1\n}\n')
    (tmp_path / "a_override.tf").write_text('resource "terraform_data" "a" {\n  input = 2\n}\n')
    (tmp_path / "z.tf.json").write_text('{"resource": {"terraform_data": {"b": {}}}}\n')
    files, diags = load_directory(tmp_path, cache=False)
    assert diags == []
    assert [Path(f.path).name for f in files] == ["main.tf", "z.tf.json", "a_override.tf"]
    assert files[2].body.blocks == ()  # merged into main.tf's block: nothing of its own
    assert _attrs(files[0].body.blocks[0].body) == {"input": 2}

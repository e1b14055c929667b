"""Terraform's JSON configuration syntax (``*.tf.json``, reconciler.config.json_syntax).

Each case of ``tests/fixtures/json_syntax/<case>/`` holds one configuration twice: ``hcl/`` in the
native syntax and ``json/`` in the JSON syntax. Both must load into the same modules (positions and
file names aside), validate with the same diagnostics and plan the same. Then: problems in a JSON
file name it, with the JSON line (and column); terraform itself applies a JSON fixture to the same
outputs as vaultform.
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
from hypothesis import given
from hypothesis import strategies as st

from reconciler.cli.main import main
from reconciler.cli.output import Output
from reconciler.config import ast
from reconciler.config.cache import ParseCache
from reconciler.config.directory import list_config_files, load_directory
from reconciler.config.json_syntax import _Fragments, _plain_traversal, parse_json_config
from reconciler.config.loader import parse_bytes, parse_text
from reconciler.config.modules import load_module_tree
from reconciler.validate import validate_directory

FIXTURES = Path(__file__).parents[1] / "fixtures" / "json_syntax"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
PLANNED = ["azurerm_cmk", "child_module", "moved_import_removed", "terraform_data"]


def _without_places(obj):
    """A model with every position, file name and directory left out, for comparing two syntaxes."""
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


def _parse(text: str, name: str = "main.tf.json"):
    return parse_json_config(text, name)


def _only_error(text: str, name: str = "main.tf.json"):
    node, diags = _parse(text, name)
    errors = [d for d in diags if d.is_error]
    assert len(errors) == 1, diags
    return node, errors[0]


# --------------------------------------------------------------------------- the fixture pairs


def test_every_case_has_both_syntaxes():
    assert set(PLANNED) <= set(CASES)
    for case in CASES:
        assert list((FIXTURES / case / "hcl").glob("*.tf")), case
        assert list((FIXTURES / case / "json").glob("*.tf.json")), case
        assert not list((FIXTURES / case / "json").glob("*.tf")), case  # the JSON side is all JSON


@pytest.mark.parametrize("case", CASES)
def test_json_and_native_syntax_load_the_same_modules(case):
    hcl, js = _modules(FIXTURES / case / "hcl"), _modules(FIXTURES / case / "json")
    assert list(hcl) == list(js)  # the same module tree
    for path in hcl:
        assert hcl[path] == js[path], f"module {path!r} of {case} differs"


@pytest.mark.parametrize("case", CASES)
def test_json_and_native_syntax_validate_the_same(case):
    def found(kind: str):
        diags = validate_directory(FIXTURES / case / kind).diagnostics
        for d in diags:
            if d.range is not None:  # each names the file of its own syntax
                assert d.range.file.endswith(".tf.json" if kind == "json" else ".tf"), d
        return sorted((d.severity.value, d.code, d.summary, d.detail) for d in diags)

    assert found("hcl") == found("json")


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
def test_json_and_native_syntax_plan_the_same(case, tmp_path):
    plans = {}
    for kind in ("hcl", "json"):
        directory = tmp_path / kind
        shutil.copytree(FIXTURES / case / kind, directory)
        env = {"VAULTFORM_LOCAL_AZURE": str(tmp_path / f"{kind}-azure.db")}
        code, text = _vaultform(directory, "plan", "-no-color", env=env)
        assert code == 0, text
        plans[kind] = _SOURCE_PLACE.sub("", text.replace(str(tmp_path / kind), "<dir>"))
    assert "will be" in plans["json"]
    assert plans["hcl"] == plans["json"]


# --------------------------------------------------------------------------- terraform, side by side


def _terraform(directory: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(
        ["terraform", *argv], cwd=directory, env=env, capture_output=True, text=True, timeout=300
    )


def _values(doc: str) -> dict:
    return {name: (o["sensitive"], o["value"]) for name, o in json.loads(doc).items()}


@pytest.mark.skipif(shutil.which("terraform") is None, reason="install terraform to compare with it")
def test_terraform_applies_the_json_configuration_to_the_same_outputs(tmp_path):
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    shutil.copytree(FIXTURES / "terraform_data" / "json", theirs)
    shutil.copytree(FIXTURES / "terraform_data" / "json", ours)
    assert _terraform(theirs, "init", "-no-color").returncode == 0
    applied = _terraform(theirs, "apply", "-auto-approve", "-no-color")
    assert applied.returncode == 0, applied.stderr
    env = {"VAULTFORM_LOCAL_AZURE": str(tmp_path / "az.db")}
    code, text = _vaultform(ours, "apply", "-auto-approve", "-no-color", env=env)
    assert code == 0, text
    code, doc = _vaultform(ours, "output", "-json", env=env)
    assert code == 0, doc
    shown = _terraform(theirs, "output", "-json")
    assert shown.returncode == 0, shown.stderr
    ours_values, theirs_values = _values(doc), _values(shown.stdout)
    assert ours_values["text"][1][0] == "alpha;beta;${not_a_reference};"  # a literal default
    assert ours_values == theirs_values


@pytest.mark.skipif(shutil.which("terraform") is None, reason="install terraform to compare with it")
def test_terraform_plans_json_moved_import_and_removed_blocks_as_vaultform_does(tmp_path):
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    shutil.copytree(FIXTURES / "moved_import_removed" / "json", theirs)
    shutil.copytree(FIXTURES / "moved_import_removed" / "json", ours)
    assert _terraform(theirs, "init", "-no-color").returncode == 0
    planned = _terraform(theirs, "plan", "-no-color")
    assert planned.returncode == 0, planned.stderr
    code, text = _vaultform(ours, "plan", "-no-color", env={"VAULTFORM_LOCAL_AZURE": str(tmp_path / "az.db")})
    assert code == 0, text

    def changes(plan: str) -> str:  # from the first resource to the summary line
        start = plan.index("\n  # ")
        return plan[start : plan.index("\n", plan.index("\nPlan: ") + 1)]

    assert changes(text) == changes(planned.stdout)
    assert "Plan: 3 to import, 1 to add, 3 to change, 0 to destroy." in text


# --------------------------------------------------------------------------- the directory


def test_json_files_are_configuration_files_and_json_override_files_merge(tmp_path):
    (tmp_path / "main.tf").write_text('resource "terraform_data" "a" {}\n')
    (tmp_path / "extra.tf.json").write_text('{"resource": {"terraform_data": {"b": {}}}}\n')
    (tmp_path / "override.tf.json").write_text('{"resource": {"terraform_data": {"a": {"input": 1}}}}\n')
    (tmp_path / "b_override.tf.json").write_text("{}\n")
    (tmp_path / "notes.json").write_text("not configuration\n")
    assert [p.name for p in list_config_files(tmp_path)] == [
        "b_override.tf.json",
        "extra.tf.json",
        "main.tf",
        "override.tf.json",
    ]
    files, diags = load_directory(tmp_path, cache=False)
    assert [Path(f.path).name for f in files] == [
        "extra.tf.json",
        "main.tf",
        "b_override.tf.json",
        "override.tf.json",
    ]
    assert diags == []
    tree, found = load_module_tree(tmp_path)
    assert [d for d in found if d.is_error] == []
    overridden = tree.module.resources["terraform_data.a"].body.attribute("input")
    assert overridden is not None and Path(overridden.pos.file).name == "override.tf.json"


def test_a_module_directory_of_json_files_only_is_a_module(tmp_path):
    (tmp_path / "main.tf.json").write_text('{"module": {"m": {"source": "./m"}}}')
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "main.tf.json").write_text('{"output": {"o": {"value": 1}}}')
    tree, diags = load_module_tree(tmp_path, cache=False)
    assert diags == []
    assert list(tree.children) == ["m"] and list(tree.children["m"].module.outputs) == ["o"]


@pytest.mark.parametrize("parallel", [False, True])
def test_json_files_skip_the_parse_cache_but_not_the_digest(tmp_path, parallel):
    """A JSON file's tree depends on the provider schemas, which the parse cache's key doesn't
    cover; so it is parsed every time (in this process or in the pool's workers). Its digest is
    still recorded for the validate cache."""
    from reconciler.config.loader_parallel import content_digest, parse_many

    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "a.tf").write_text('resource "terraform_data" "a" {}\n')
    (conf / "b.tf.json").write_text('{"resource": {"terraform_data": {"b": {}}}}\n')
    store = ParseCache(tmp_path / "cache")
    paths = [str(conf / "a.tf"), str(conf / "b.tf.json")]
    files, diags = parse_many(paths, store, parallel=parallel)
    assert diags == [] and [Path(f.path).name for f in files] == ["a.tf", "b.tf.json"]
    assert store.stats.writes == 1  # a.tf only
    assert len(list((tmp_path / "cache").rglob("*.pickle"))) == 1
    assert content_digest(paths[1]) is not None
    again = ParseCache(tmp_path / "cache")
    parse_many(paths, again, parallel=False)
    assert again.stats.hits == 1 and again.stats.writes == 0


def test_parse_bytes_reads_json_by_name_and_parse_text_stays_native():
    data = b'{"locals": {"a": 1}}'
    node, diags = parse_bytes(data, "x.tf.json")
    assert diags == [] and node is not None and node.body.blocks[0].body.attributes[0].name == "a"
    node, diags = parse_text(data.decode(), "template.tf.json")  # e.g. templatefile's: never JSON
    assert node is None and diags[0].code == "syntax"


# --------------------------------------------------------------------------- problems name the JSON file


@pytest.mark.parametrize(
    ("text", "summary", "line", "column"),
    [
        ('{\n  "locals": {"a": 1,}\n}\n', "Trailing comma in object", 2, 20),
        ('{\n  "locals": {"a": [1, 2,]}\n}\n', "Trailing comma in array", 2, 24),
        ('{\n  "locals": {"a": 1 "b": 2}\n}\n', "Missing comma between properties", 2, 21),
        ('{\n  "locals": {"a" 1}\n}\n', "Missing property value colon", 2, 18),
        ('{\n  "locals": {a: 1}\n}\n', "Invalid JSON property name", 2, 14),
        ('{\n  "locals": {"a": 01}\n}\n', "Invalid JSON number", 2, 19),
        ('{\n  "locals": {"a": +1}\n}\n', "Invalid JSON number", 2, 19),
        ('{\n  "locals": {"a": True}\n}\n', "Invalid JSON keyword", 2, 19),
        ('{\n  "locals": {"a": NaN}\n}\n', "Invalid JSON keyword", 2, 19),
        ('{\n  "locals": {"a": \'x\'}\n}\n', "Invalid JSON value", 2, 19),
        ('{\n  // a comment\n  "locals": {}\n}\n', "Invalid JSON property name", 2, 3),
        ('{\n  "locals": {"a": // no\n 1}\n}\n', "Invalid JSON value", 2, 19),
        ('{\n  "locals": {"a": "x\\qy"}\n}\n', "Invalid JSON string", 2, 21),
        ('{\n  "locals": {"a": "tab\there"}\n}\n', "Invalid JSON string", 2, 23),
        ('{\n  "locals": {"a": "open\n}\n', "Unterminated string", 2, 19),
        ('{\n  "locals": {"a": 1}\n', "Unclosed object", 1, 1),
        ('{\n  "locals": {"a": [1\n', "Unclosed array", 2, 19),
        ('{"locals": {}}\n{"locals": {}}\n', "Extraneous data after value", 2, 1),
        ("", "Missing value", 1, 1),
        ('"just a string"', "Root value must be object", 1, 1),
        ("[1]", "Incorrect JSON value type", 1, 2),
    ],
)
def test_invalid_json_is_one_error_naming_file_line_and_column(text, summary, line, column):
    node, err = _only_error(text, "dir/main.tf.json")
    assert node is None
    assert (err.code, err.summary) == ("syntax", summary)
    assert err.detail
    assert err.range is not None
    assert (err.range.file, err.range.line, err.range.column) == ("dir/main.tf.json", line, column)


def test_too_deep_json_is_refused_without_a_traceback():
    node, err = _only_error('{"locals": {"a": ' + "[" * 500 + "]" * 500 + "}}")
    assert node is None and err.summary == "JSON nested too deeply"


@pytest.mark.parametrize(
    ("text", "summary", "line"),
    [
        ('{\n"variable": {\n  "x": "s"\n}}', "Incorrect JSON value type", 3),
        ('{\n"variable": {}\n}', "Missing block label", 2),
        ('{\n"resource": {\n  "terraform_data": null\n}}', "Missing block label", 3),
        ('{\n"variable": [\n  1\n]}', "Incorrect JSON value type", 3),
        ('{\n"locals": "x"\n}', "Incorrect JSON value type", 2),
        ('{\n"output": {"o": {\n  "value": "${1 +}"\n}}}', "Invalid expression in string template", 3),
        ('{\n"output": {"o": {\n  "value": "${x"\n}}}', "Unterminated template sequence", 3),
        ('{\n"output": {"o": {\n  "value": "%{bogus}"\n}}}', "Invalid template directive", 3),
        ('{\n"output": {"o": {\n  "value": "%{if true}x"\n}}}', "Unterminated template directive", 3),
        ('{\n"locals": {\n  "big": 1e400\n}}', "Number out of range", 3),
        ('{\n"variable": {"v": {\n  "type": "list(string"\n}}}', 'Invalid type constraint in "type"', 3),
    ],
)
def test_json_that_is_no_configuration_is_an_error_at_its_line(text, summary, line):
    node, err = _only_error(text)
    assert node is None
    assert err.summary.startswith(summary) and err.range is not None
    assert (err.range.file, err.range.line) == ("main.tf.json", line)


def test_a_whole_number_with_an_exponent_is_exact_as_terraform_reads_it():
    node, diags = _parse('{"locals": {"a": 1e23, "b": 1.5e30, "c": 2.5e-3}}')
    assert diags == [] and node is not None
    values = {a.name: a.expr.value for a in node.body.blocks[0].body.attributes}
    assert values == {
        "a": 10**23,
        "b": 15 * 10**29,
        "c": 0.0025,
    }  # a float would make 1e23 99999999999999991611392


def test_a_template_in_a_native_syntax_place_is_refused_as_terraform_refuses_it():
    text = '{"resource": {"terraform_data": {"a": {},\n "b": {"depends_on": ["${terraform_data.a}"]}}}}'
    node, err = _only_error(text)
    assert err.summary == 'Invalid reference in "depends_on"'
    assert 'without "${" and "}"' in err.detail and '"terraform_data.a"' in err.detail
    assert (err.range.line, err.range.column) == (2, 23)  # the string, quotes and all


def test_unknown_block_types_and_arguments_are_reported_at_the_json_line(tmp_path):
    (tmp_path / "main.tf.json").write_text(
        "{\n"
        '  "resourc": {},\n'
        '  "resource": {\n'
        '    "terraform_data": {\n'
        '      "a": {\n'
        '        "inptu": 1\n'
        "      }\n"
        "    }\n"
        "  },\n"
        '  "variable": {"v": {"defualt": 1}}\n'
        "}\n"
    )
    found = {
        (d.code, d.summary): (Path(d.range.file).name, d.range.line, d.range.column)
        for d in validate_directory(tmp_path).diagnostics.errors
        if d.range is not None
    }
    assert found[("unknown-block", 'Unknown block type "resourc"')] == ("main.tf.json", 2, 3)
    assert found[("unsupported_argument", "Unsupported argument")] == ("main.tf.json", 6, 9)
    assert found[("unsupported-argument", 'Unsupported argument "defualt" in variable block')] == (
        "main.tf.json",
        10,
        22,
    )


def test_an_error_inside_a_string_points_at_its_column_through_escapes(tmp_path):
    line = '  "output": {"o": {"value": "\\"q\\" \\u00e9 ${var.nope}"}}'
    (tmp_path / "main.tf.json").write_text("{\n" + line + "\n}\n")
    errors = validate_directory(tmp_path).diagnostics.errors
    assert [d.summary for d in errors] == ["Reference to undeclared input variable"]
    where = errors[0].range
    assert (Path(where.file).name, where.line) == ("main.tf.json", 2)
    assert where.column == line.index("var.nope") + 1
    assert where.end_column == line.index("var.nope") + len("var.nope") + 1


def test_cli_output_names_the_json_file_and_shows_its_line(tmp_path):
    (tmp_path / "main.tf.json").write_text(
        '{\n  "resource": {"terraform_data": {"a": {\n    "inptu": 1\n  }}}\n}\n'
    )
    code, text = _vaultform(tmp_path, "validate", "-no-color", env={})
    assert code == 1
    assert "on main.tf.json line 3" in text and '"inptu": 1' in text
    assert "Traceback" not in text


def test_a_syntax_error_in_a_json_child_module_names_its_file(tmp_path):
    (tmp_path / "main.tf").write_text('module "m" {\n  source = "./m"\n}\n')
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "main.tf.json").write_text('{"output": {"o": {"value": 1,}}}')
    diags = validate_directory(tmp_path).diagnostics.errors
    assert [(d.summary, Path(d.range.file).name, d.range.line) for d in diags] == [
        ("Trailing comma in object", "main.tf.json", 1)
    ]
    assert Path(diags[0].range.file).parent.name == "m"


def test_an_argument_set_twice_is_an_error_and_the_first_is_kept():
    node, diags = _parse('{"locals": {"a": 1,\n "a": 2}}')
    assert [(d.code, d.summary, d.range.line) for d in diags] == [
        ("duplicate-attribute", 'Duplicate argument "a"', 2)
    ]
    assert node is not None
    (attr,) = node.body.blocks[0].body.attributes
    assert attr.expr == ast.Literal(1, attr.expr.pos)


# --------------------------------------------------------------------------- terraform's readings of JSON


def _block_attrs(text: str) -> dict[str, ast.Expr]:
    node, diags = _parse(text)
    assert diags == [] and node is not None
    (block,) = node.body.blocks
    return {a.name: a.expr for a in block.body.attributes}


def test_literal_settings_take_strings_as_written():
    attrs = _block_attrs('{"variable": {"v": {"default": {"k": ["${x}", "%{y}"]}, "description": "${d}"}}}')
    assert isinstance(attrs["description"], ast.Literal) and attrs["description"].value == "${d}"
    default = attrs["default"]
    assert isinstance(default, ast.ObjectCons)
    ((key, value),) = default.items
    assert isinstance(key, ast.Literal) and key.value == "k"
    assert [item.value for item in value.items] == ["${x}", "%{y}"]
    attrs = _block_attrs('{"module": {"m": {"source": "./${x}", "version": "${v}", "input": "${var.i}"}}}')
    assert (attrs["source"].value, attrs["version"].value) == ("./${x}", "${v}")
    assert isinstance(attrs["input"], ast.GetAttr)  # other module arguments are expressions
    attrs = _block_attrs('{"terraform": {"required_version": "${v}"}}')
    assert attrs["required_version"].value == "${v}"


def test_expressions_are_templates_and_a_lone_interpolation_is_its_expression():
    attrs = _block_attrs(
        '{"locals": {"a": "${var.x}", "b": "x${var.x}", "c": "$${var.x}", "d": "%%{x}", '
        '"e": {"${var.k}": 1, "//": 2}, "f": "${1}"}}'
    )
    assert isinstance(attrs["a"], ast.GetAttr)
    assert isinstance(attrs["b"], ast.Template) and attrs["b"].parts[0] == "x"
    assert (attrs["c"].value, attrs["d"].value) == ("${var.x}", "%{x}")
    (k1, _), (k2, _) = attrs["e"].items
    assert isinstance(k1, ast.Template) and isinstance(k2, ast.Literal) and k2.value == "//"
    assert attrs["f"].value == 1  # the number itself, as "${1}" gives in terraform


def test_native_syntax_strings_hold_references_keywords_and_types():
    text = (
        '{"resource": {"terraform_data": {"a": {"provider": "terraform.other", '
        '"depends_on": ["terraform_data.b", "module.m"], '
        '"lifecycle": {"ignore_changes": ["input", "triggers_replace[\\"k\\"]"], '
        '"replace_triggered_by": ["terraform_data.b.output"]}}}}}'
    )
    node, diags = _parse(text)
    assert diags == []
    body = node.body.blocks[0].body
    attrs = {a.name: a.expr for a in body.attributes}
    assert isinstance(attrs["provider"], ast.GetAttr) and attrs["provider"].name == "other"
    assert [type(x).__name__ for x in attrs["depends_on"].items] == ["GetAttr", "GetAttr"]
    lifecycle = {a.name: a.expr for a in body.blocks[0].body.attributes}
    ignored = lifecycle["ignore_changes"].items
    assert isinstance(ignored[0], ast.Variable) and isinstance(ignored[1], ast.Index)
    attrs = _block_attrs('{"variable": {"v": {"type": "map(object({ a = string }))"}}}')
    assert isinstance(attrs["type"], ast.Call) and attrs["type"].name == "map"


def test_nested_blocks_come_from_the_provider_schema():
    text = """{"resource": {"azurerm_recovery_services_vault": {"v": {
        "identity": {"type": "SystemAssigned"},
        "encryption": [{"key_id": "k", "infrastructure_encryption_enabled": false}],
        "tags": {"identity": "not a block"},
        "monitoring": null,
        "dynamic": {"encryption": {"for_each": [1], "content": {"key_id": "${encryption.value}"}}}
    }}}}"""
    node, diags = _parse(text)
    assert diags == []
    body = node.body.blocks[0].body
    assert [b.type for b in body.blocks] == ["identity", "encryption", "dynamic"]
    assert [a.name for a in body.attributes] == ["tags"]
    assert isinstance(body.attributes[0].expr, ast.ObjectCons)
    dynamic = body.blocks[2]
    assert dynamic.labels == ("encryption",)
    assert [b.type for b in dynamic.body.blocks] == ["content"]


def test_an_empty_list_of_computed_blocks_is_the_argument_terraform_reads():
    text = '{"resource": {"azurerm_key_vault": {"k": {"access_policy": [], "network_acls": []}}}}'
    node, diags = _parse(text)
    body = node.body.blocks[0].body
    assert [a.name for a in body.attributes] == ["access_policy"]  # explicitly none: terraform's
    assert body.blocks == ()  # network_acls: [] is no block


def test_unknown_resource_types_take_objects_as_arguments():
    attrs = _block_attrs('{"resource": {"nope_thing": {"a": {"identity": {"type": "x"}}}}}')
    assert isinstance(attrs["identity"], ast.ObjectCons)


def test_blocks_keep_their_order_labels_and_places():
    text = (
        '{\n"resource": [\n {"terraform_data": {"b": {}}},\n {"terraform_data": {"a": {}, "c": [{}, null]}}\n],\n'
        '"//": "ignored",\n"variable": {"x": null}\n}'
    )
    node, diags = _parse(text)
    assert diags == []
    blocks = node.body.blocks
    assert [(b.type, b.labels) for b in blocks] == [
        ("resource", ("terraform_data", "b")),
        ("resource", ("terraform_data", "a")),
        ("resource", ("terraform_data", "c")),
        ("resource", ("terraform_data", "c")),
    ]
    assert [b.pos.line for b in blocks] == [3, 4, 4, 4]
    assert blocks[0].label_pos[1].column == 22 and blocks[0].pos.column == 22


def test_unicode_escapes_and_lone_surrogates():
    attrs = _block_attrs('{"locals": {"a": "\\u00e9\\ud83d\\ude00", "b": "\\ud800x", "c": "\\/"}}')
    assert (attrs["a"].value, attrs["b"].value, attrs["c"].value) == ("é😀", "\ufffdx", "/")


def test_a_byte_order_mark_and_crlf_lines_are_read():
    node, diags = parse_bytes('\ufeff{\r\n "locals": {\r\n  "a": 1\r\n }\r\n}\r\n'.encode(), "m.tf.json")
    assert diags == [] and node.body.blocks[0].body.attributes[0].pos.line == 3


@pytest.mark.parametrize("text", ["a", "a.b", "terraform_data.x.output", "a-b.c_d", "_x.y"])
def test_plain_references_read_without_the_parser_as_the_parser_reads_them(text):
    assert _plain_traversal(text, "f") == _Fragments("f").parse(text, 1, 1, "reference")


@pytest.mark.parametrize("text", ["true", "null", "a.0", "a[0]", "a.b + 1", "list(string)"])
def test_other_native_strings_go_to_the_parser(text):
    assert _plain_traversal(text, "f") is None


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
_NAMES = st.sampled_from(
    ["resource", "data", "variable", "output", "locals", "module", "provider", "terraform", "moved",
     "import", "removed", "check", "//", "dynamic", "lifecycle", "terraform_data", "azurerm_key_vault",
     "access_policy", "default", "type", "depends_on", "${x}", "value"]
)  # fmt: skip
_CONFIG = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12) | _NAMES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_NAMES, inner, max_size=4),
    max_leaves=25,
)


@given(st.one_of(_JSON, _CONFIG), st.integers(min_value=0, max_value=200))
def test_any_json_or_damaged_json_gives_a_file_or_diagnostics_never_an_exception(value, cut):
    text = json.dumps(value, ensure_ascii=False)
    for candidate in (text, text[:cut], text[cut:]):
        node, diags = parse_json_config(candidate, "f.tf.json")
        assert node is not None or any(d.is_error for d in diags)
        for d in diags:
            assert d.range is not None and d.range.file == "f.tf.json" and d.range.line >= 1

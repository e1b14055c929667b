"""Input variables: fixture directories under tests/fixtures/evaluator/variables/<case>/.

Each case is a module directory (``main.tf`` with variable blocks, tfvars files) and
``case.json``: ``environ``, ``var_files`` (relative to the case), ``cli_vars`` (or instead
``command_line``: ``-var`` and ``-var-file`` in the order given), the
``expected`` values, optionally ``sources`` and ``sensitive``, and the exact list of
``diagnostics`` (severity, summary, a detail fragment, file and line when located).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.config.loader import parse_text
from reconciler.config.variables import (
    ValueSource,
    VariableFlag,
    VariableSpec,
    resolve_variables,
    variable_spec_from_block,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "evaluator" / "variables"


def declared_in(case: Path) -> dict[str, VariableSpec]:
    text = (case / "main.tf").read_text()
    file, diags = parse_text(text, str(case / "main.tf"))
    assert file is not None and not diags, diags
    specs = {}
    for block in file.body.blocks_of("variable"):
        spec, problems = variable_spec_from_block(block)
        assert not problems, problems
        specs[spec.name] = spec
    return specs


def resolve_case(case: Path):
    doc = json.loads((case / "case.json").read_text())
    values, diags = resolve_variables(
        declared_in(case),
        module_dir=case,
        flags=_flags(case, doc),
        environ=doc["environ"],
    )
    return doc, values, diags


def _flags(case: Path, doc: dict) -> list[VariableFlag]:
    """``command_line``: ``["-var", "NAME=VALUE"]`` and ``["-var-file", "FILE"]`` in order;
    without it, every ``var_files`` then every ``cli_vars``."""
    given = doc.get("command_line") or [
        *(["-var-file", f] for f in doc["var_files"]),
        *(["-var", v] for v in doc["cli_vars"]),
    ]
    return [VariableFlag.file(str(case / v)) if f == "-var-file" else VariableFlag.var(v) for f, v in given]


@pytest.mark.parametrize("case", sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()))
def test_variable_fixture(case):
    doc, values, diags = resolve_case(FIXTURES / case)
    assert {k: v.value for k, v in values.items()} == doc["expected"] or doc["expected"] == {}
    for name, source in doc.get("sources", {}).items():
        assert values[name].source is ValueSource(source)
    for name in doc.get("sensitive", []):
        assert values[name].sensitive
    assert all(not v.sensitive for k, v in values.items() if k not in doc.get("sensitive", []))
    remaining = list(diags)
    for want in doc["diagnostics"]:
        match = next((d for d in remaining if _matches(d, want)), None)
        assert match is not None, (
            f"missing {want}\n got {[(d.summary, d.detail, d.range) for d in remaining]}"
        )
        remaining.remove(match)
    assert not remaining, f"unexpected {[(d.summary, d.detail, d.range) for d in remaining]}"


def _matches(diag, want) -> bool:
    if diag.severity.value != want["severity"] or diag.summary != want["summary"]:
        return False
    if want["detail"] not in diag.detail:
        return False
    if "file" in want:
        return (
            diag.range is not None
            and Path(diag.range.file).name == want["file"]
            and diag.range.line == want["line"]
        )
    return True


def test_errors_case_resolves_only_the_good_values():
    _, values, _ = resolve_case(FIXTURES / "errors")
    assert set(values) == {"from_ref", "from_call", "sku"}  # sku converts; its validation fails
    assert "bad_cli" not in values and values["from_ref"].source is ValueSource.DEFAULT


def test_undeclared_environment_variables_are_ignored(tmp_path):
    (tmp_path / "main.tf").write_text('variable "a" { default = 1 }\n')
    values, diags = resolve_variables(
        declared_in(tmp_path), module_dir=tmp_path, flags=[], environ={"TF_VAR_b": "x"}
    )
    assert values["a"].value == 1 and diags == []


def test_validation_sees_the_converted_value(tmp_path):
    (tmp_path / "main.tf").write_text(
        'variable "days" {\n  type = number\n  validation {\n'
        "    condition     = var.days >= 7 && var.days <= 90\n"
        '    error_message = "days must be 7..90."\n  }\n}\n'
    )
    ok, diags = resolve_variables(
        declared_in(tmp_path), module_dir=tmp_path, flags=[VariableFlag.var("days=30")], environ={}
    )
    assert ok["days"].value == 30 and diags == []
    _, diags = resolve_variables(
        declared_in(tmp_path), module_dir=tmp_path, flags=[VariableFlag.var("days=3")], environ={}
    )
    assert [d.detail.splitlines()[0] for d in diags] == ["days must be 7..90."]
    assert diags[0].range.line == 1  # the variable block, as terraform points at a -var value


def test_bad_variable_blocks_are_diagnosed(tmp_path):
    text = 'variable "x" {\n  type = strng\n  sensitiv = true\n  validation {\n    condition = true\n  }\n}\n'
    file, _ = parse_text(text, "v.tf")
    spec, diags = variable_spec_from_block(file.body.blocks[0])
    summaries = sorted(d.summary for d in diags)
    assert summaries == [
        'Invalid type specification "strng"',
        'Missing required argument "error_message"',
        "Unsupported argument",
    ]
    assert any('Did you mean "sensitive"?' in d.detail for d in diags)
    assert spec is not None and spec.type is None


def test_validation_message_never_shows_a_sensitive_value(tmp_path):
    (tmp_path / "main.tf").write_text(
        'variable "key" {\n  sensitive = true\n  validation {\n'
        "    condition     = length(var.key) > 8\n"
        '    error_message = "The key ${var.key} is too short."\n  }\n}\n'
    )
    values, diags = resolve_variables(
        declared_in(tmp_path), module_dir=tmp_path, flags=[VariableFlag.var("key=hunter2")], environ={}
    )
    assert values["key"].sensitive and len(diags) == 1
    assert "hunter2" not in diags[0].detail and "sensitive value" in diags[0].detail


def test_conversion_errors_never_quote_a_sensitive_value(tmp_path):
    (tmp_path / "main.tf").write_text('variable "pin" {\n  type = number\n  sensitive = true\n}\n')
    _, diags = resolve_variables(
        declared_in(tmp_path), module_dir=tmp_path, flags=[VariableFlag.var("pin=s3cret")], environ={}
    )
    assert len(diags) == 1 and "s3cret" not in diags[0].detail and "var.pin" in diags[0].detail


def test_defaults_must_be_constants(tmp_path):
    (tmp_path / "main.tf").write_text(
        'variable "a" { default = "x" }\nvariable "b" { default = var.a }\n'
        'variable "c" { default = upper("x") }\n'
    )
    values, diags = resolve_variables(declared_in(tmp_path), module_dir=tmp_path, flags=[], environ={})
    assert set(values) == {"a"}
    assert [(d.summary, d.range.line) for d in diags] == [
        ("Variables not allowed", 2),
        ("Functions may not be called here", 3),
    ]
    assert all("variable defaults must be" in d.detail for d in diags)


@pytest.mark.parametrize(
    "type_text",
    [
        "list(string)",
        "map(number)",
        "set(bool)",
        "object({ name = string, size = number })",
        "tuple([string, number])",
    ],
)
def test_a_malformed_var_option_suggests_a_value_of_the_variables_own_type(tmp_path, type_text):
    # the example was ["a", "b"] whatever the type: wrong for a map or an object
    (tmp_path / "main.tf").write_text(f'variable "v" {{\n  type = {type_text}\n}}\n')
    _, diags = resolve_variables(
        declared_in(tmp_path), module_dir=tmp_path, flags=[VariableFlag.var("v={")], environ={}
    )
    (detail,) = [d.detail for d in diags if d.is_error]
    example = detail.split("e.g. -var='v=")[1].rsplit("'", 1)[0]
    ok, diags = resolve_variables(
        declared_in(tmp_path), module_dir=tmp_path, flags=[VariableFlag.var(f"v={example}")], environ={}
    )
    assert diags == [] and "v" in ok, (example, diags)

"""Fixture-driven schema checks: tests/fixtures/validation/<case>/{case.json, body.json}.

case.json names the provider, mode and type and lists the expected diagnostics as
(severity, code, path) where path is the dotted path ``where`` was asked for (so it
shows which attribute or block each diagnostic points at). The string "${unknown}"
in body.json stands for a value known only after apply.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from providers.azurerm.catalog import SCHEMA as AZURERM
from providers.builtin.schema import SCHEMA as BUILTIN
from providers.schema import Mode
from providers.validation import check_block
from reconciler.diagnostics import SourceRange
from reconciler.values import UNKNOWN

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "validation"
PROVIDERS = {"azurerm": AZURERM, "terraform": BUILTIN}
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "case.json").is_file())


def _unknowns(value):
    if value == "${unknown}":
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknowns(v) for v in value]
    return value


def _where(path: tuple) -> SourceRange:
    return SourceRange(file=".".join(str(p) for p in path), line=1)


def run_case(name: str):
    folder = FIXTURES / name
    spec = json.loads((folder / "case.json").read_text())
    body = _unknowns(json.loads((folder / "body.json").read_text()))
    schema = PROVIDERS[spec["provider"]].lookup(Mode(spec["mode"]), spec["type"])
    assert schema is not None, f"{spec['type']} is not in the {spec['provider']} catalog"
    address = f"{'data.' if spec['mode'] == 'data' else ''}{spec['type']}.this"
    diags = check_block(schema.block, body, where=_where, address=address)
    return spec, diags


def test_there_are_valid_and_invalid_cases():
    assert any(c.startswith("valid-") for c in CASES)
    assert any(not c.startswith("valid-") for c in CASES)


@pytest.mark.parametrize("name", CASES)
def test_validation_fixture(name):
    spec, diags = run_case(name)
    got = Counter((d.severity.value, d.code, d.range.file) for d in diags)
    want = Counter((e["severity"], e["code"], e["path"]) for e in spec["expected"])
    details = "\n".join(f"  {d.severity.value} {d.code} at {d.range.file!r}: {d.detail}" for d in diags)
    assert got == want, f"{name}: diagnostics differ\n{details}"
    for d in diags:
        assert d.address and d.summary and d.detail, d
        assert "Traceback" not in d.detail


def test_every_catalog_type_has_valid_minimal_and_full_fixtures():
    for name in AZURERM.resources:
        short = name.replace("azurerm_", "")
        assert f"valid-{short}-minimal" in CASES and f"valid-{short}-full" in CASES, name
    for name in AZURERM.data_sources:
        assert f"valid-data-{name.replace('azurerm_', '')}" in CASES, name
    assert "valid-terraform_data-minimal" in CASES and "valid-terraform_data-full" in CASES


def test_full_fixtures_set_every_reconciled_top_level_argument_or_block():
    """A "full" body is only worth its name if it exercises what vaultform manages."""
    for name in AZURERM.resources:
        spec, _ = run_case(f"valid-{name.replace('azurerm_', '')}-full")
        body = json.loads((FIXTURES / f"valid-{name.replace('azurerm_', '')}-full" / "body.json").read_text())
        block = AZURERM.resources[name].block
        wanted = {
            a.name
            for a in block.attributes
            if a.reconciled and not a.deprecated and (a.required or a.optional)
        }
        wanted |= {b.name for b in block.blocks if b.reconciled}
        # groups where only one member may be set count as covered by any member
        for group in block.exactly_one_of:
            if wanted & set(group) & set(body):
                wanted -= set(group)
        for a in block.attributes:
            if a.conflicts_with and a.name in body:
                wanted -= set(a.conflicts_with)
        missing = sorted(wanted - set(body))
        assert not missing, f"{name} full fixture leaves out {missing}"


def test_key_permission_hint_names_the_catalog_spelling():
    _, diags = run_case("key-permission-case")
    assert 'Did you mean "Get"?' in diags[0].detail


def test_unsupported_argument_hint_and_fallback_list():
    _, diags = run_case("unsupported-argument-typo")
    assert 'Did you mean "purge_protection_enabled"?' in diags[0].detail
    _, diags = run_case("terraform-data-unknown-argument")
    assert 'Did you mean "input"?' in diags[0].detail


def test_unsupported_argument_without_close_match_lists_settable_names():
    schema = BUILTIN.resources["terraform_data"].block
    diags = check_block(schema, {"zzz": 1}, where=_where)
    assert diags[0].detail.endswith('Valid names here: "input", "triggers_replace".')


def test_wrong_type_says_expected_and_got():
    _, diags = run_case("wrong-type-bool")
    assert "a bool is required, got a string" in diags[0].detail
    _, diags = run_case("wrong-type-map")
    assert "a map of string is required, got a string" in diags[0].detail


def test_pattern_errors_use_the_pattern_hint():
    _, diags = run_case("key-vault-name-pattern")
    assert "3 to 24 letters" in diags[0].detail

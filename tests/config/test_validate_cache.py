"""Validation's findings are kept by what they were found in, and never served for anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import validate
from reconciler.backend_select import select_workspace
from reconciler.validate import validate_directory


def _codes(directory: Path) -> list[tuple[str, int | None]]:
    return [(d.code, d.range.line if d.range else None) for d in validate_directory(directory).diagnostics]


@pytest.fixture
def checks_counted(monkeypatch):
    """How many times validation really checked a module tree (rather than taking kept findings)."""
    calls = []
    real = validate._check_module

    def counted(tree, *args, **kwargs):
        if not tree.path:
            calls.append(tree.directory)
        return real(tree, *args, **kwargs)

    monkeypatch.setattr(validate, "_check_module", counted)
    return calls


def test_the_same_files_are_checked_once_and_their_findings_come_back(tmp_path, checks_counted):
    (tmp_path / "main.tf").write_text('resource "terraform_data" "a" {\n  input = local.missing\n}\n')
    first = _codes(tmp_path)
    assert first == [("reference", 2)]
    assert _codes(tmp_path) == first
    assert len(checks_counted) == 1


def test_a_changed_file_is_checked_again(tmp_path, checks_counted):
    main = tmp_path / "main.tf"
    main.write_text('resource "terraform_data" "a" {\n  input = local.missing\n}\n')
    assert _codes(tmp_path) == [("reference", 2)]
    main.write_text('resource "terraform_data" "a" {\n  input = "fine"\n}\n')
    assert _codes(tmp_path) == []
    assert len(checks_counted) == 2


def test_a_module_file_is_part_of_what_is_kept(tmp_path, checks_counted):
    child = tmp_path / "child"
    child.mkdir()
    (tmp_path / "main.tf").write_text('module "c" {\n  source = "./child"\n}\n')
    (child / "c.tf").write_text('output "o" {\n  value = local.nothing\n}\n')
    assert ("reference", 2) in _codes(tmp_path)
    (child / "c.tf").write_text('output "o" {\n  value = 1\n}\n')
    assert _codes(tmp_path) == []


def test_findings_that_read_a_file_are_not_kept(tmp_path, checks_counted):
    """file() makes the finding depend on bytes outside the configuration: checked every time."""
    (tmp_path / "main.tf").write_text('locals {\n  n = tonumber(file("${path.module}/n.txt"))\n}\n')
    (tmp_path / "n.txt").write_text("not a number")
    assert [c for c, _ in _codes(tmp_path)] == ["eval"]
    (tmp_path / "n.txt").write_text("5")
    assert _codes(tmp_path) == []
    assert len(checks_counted) == 2


def test_the_workspace_is_part_of_what_is_kept(tmp_path, checks_counted):
    (tmp_path / "main.tf").write_text(
        'locals {\n  n = terraform.workspace == "prod" ? tonumber("x") : 1\n}\n'
    )
    assert _codes(tmp_path) == []
    select_workspace(tmp_path, "prod")
    assert [c for c, _ in _codes(tmp_path)] == ["eval"]


def test_nothing_is_kept_with_the_parse_cache_off(tmp_path, checks_counted, monkeypatch):
    monkeypatch.setenv("VAULTFORM_NO_PARSE_CACHE", "1")
    (tmp_path / "main.tf").write_text('resource "terraform_data" "a" {\n  input = local.missing\n}\n')
    assert _codes(tmp_path) == _codes(tmp_path) == [("reference", 2)]
    assert len(checks_counted) == 2


def test_a_damaged_entry_is_checked_again(tmp_path, checks_counted, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("VAULTFORM_CACHE_DIR", str(cache))
    config = tmp_path / "config"
    config.mkdir()
    (config / "main.tf").write_text('resource "terraform_data" "a" {\n  input = local.missing\n}\n')
    assert _codes(config) == [("reference", 2)]
    for entry in cache.rglob("*.pickle"):
        data = entry.read_bytes()
        if data.startswith(b"vaultform-validate-"):
            entry.write_bytes(data[:30])
    assert _codes(config) == [("reference", 2)]
    assert len(checks_counted) == 2

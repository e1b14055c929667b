"""``-replace`` of a counted or for_each resource without an instance key replaces nothing and
says so, in terraform 1.11's words (checked with the binary)."""

from __future__ import annotations

import io

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output

CONFIG = """resource "terraform_data" "a" {}

resource "terraform_data" "b" {
  count = 1
}

resource "terraform_data" "e" {
  for_each = toset(["x", "y"])
}
"""
SUMMARY = "Warning: Incompletely-matched force-replace resource instance"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), output=Output(out=out, err=out, no_color=True))
    return code, out.getvalue()


@pytest.fixture(autouse=True)
def work(tmp_path, monkeypatch):
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "azure.db"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.tf").write_text(CONFIG)
    code, text = run("apply", "-auto-approve")
    assert code == 0, text


def test_one_counted_instance_is_named():
    code, text = run("plan", "-replace=terraform_data.b")
    assert code == 0, text
    assert SUMMARY in text and "No changes." in text
    assert (
        "  Your force-replace request for terraform_data.b doesn't match any resource instances "
        "because it lacks an instance key.\n\n"
        "  To force replacement of the single declared instance, use the following option instead:\n"
        '    -replace="terraform_data.b[0]"\n'
    ) in text


def test_each_for_each_instance_is_listed():
    code, text = run("plan", "-replace=terraform_data.e")
    assert code == 0, text
    assert (
        "  To force replacement of particular instances, use one or more of the following options "
        'instead:\n    -replace="terraform_data.e[\\"x\\"]"\n    -replace="terraform_data.e[\\"y\\"]"\n'
    ) in text


@pytest.mark.parametrize("address", ["terraform_data.a", "terraform_data.b[0]"])
def test_an_address_that_matches_is_replaced_without_a_word(address):
    code, text = run("plan", f"-replace={address}")
    assert code == 0, text
    assert "Plan: 1 to add, 0 to change, 1 to destroy." in text
    assert "Incompletely-matched" not in text

"""A removed block with destroy = true is called out while state holds what it destroys, and
not once the objects are gone (terraform 1.11 says nothing of the block then)."""

from __future__ import annotations

import io

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output

BEFORE = 'resource "terraform_data" "keep" {}\nresource "terraform_data" "out" {}\n'
AFTER = """resource "terraform_data" "keep" {}

removed {
  from = terraform_data.out
  lifecycle {
    destroy = true
  }
}
"""
WARNING = "Warning: terraform_data.out is destroyed: its block is gone [removed_destroys]"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), output=Output(out=out, err=out, no_color=True))
    return code, out.getvalue()


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "azure.db"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.tf").write_text(BEFORE)
    code, text = run("apply", "-auto-approve")
    assert code == 0, text
    (tmp_path / "main.tf").write_text(AFTER)
    return tmp_path


def test_the_warning_comes_while_the_plan_destroys_the_object(work):
    code, text = run("plan")
    assert code == 0, text
    assert WARNING in text and "on main.tf line 3:" in text
    assert "terraform_data.out will be destroyed" in text


def test_no_warning_once_the_object_is_gone(work):
    code, text = run("apply", "-auto-approve")
    assert code == 0 and WARNING in text, text
    code, text = run("plan")
    assert code == 0, text
    assert "No changes." in text
    assert "removed_destroys" not in text and "Warning" not in text
    code, text = run("plan", "-replace=terraform_data.keep")
    assert code == 0 and "removed_destroys" not in text, text


def test_validate_reads_no_state_and_says_nothing_of_it(work):
    code, text = run("validate")
    assert code == 0 and "removed_destroys" not in text, text

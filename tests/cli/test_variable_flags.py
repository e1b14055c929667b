"""-var and -var-file are taken in the order given on the command line, a later one winning
whichever kind it is, in every command that reads variables (terraform 1.11's rule)."""

from __future__ import annotations

import io

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output

CONFIG = """
variable "req" {
  type = string
  validation {
    condition     = var.req != "cli"
    error_message = "req came from the -var given before the -var-file."
  }
}

resource "terraform_data" "a" {
  input = var.req
}

output "req" {
  value = var.req
}
"""


def _run(*args: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(args), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_WORKSPACE", raising=False)
    (tmp_path / "main.tf").write_text(CONFIG)
    (tmp_path / "x.tfvars").write_text('req = "file"\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


LATER_FILE = ("-var", "req=cli", "-var-file=x.tfvars")


def test_a_var_file_after_a_var_wins(work):
    code, out, err = _run("plan", "-no-color", "-input=false", *LATER_FILE)
    assert code == 0, out + err
    assert '+ req = "file"' in out
    code, out, err = _run("plan", "-no-color", "-input=false", "-var-file=x.tfvars", "-var", "req=other")
    assert code == 0 and '+ req = "other"' in out, out + err


@pytest.mark.parametrize(
    "command",
    [
        ("apply", "-auto-approve"),
        ("refresh",),
        ("destroy", "-auto-approve"),
        ("graph",),
        ("drift",),
    ],
)
def test_every_command_reading_variables_keeps_the_order(work, command):
    assert _run("apply", "-auto-approve", "-no-color", "-var-file=x.tfvars")[0] == 0
    code, out, err = _run(*command, "-no-color", *LATER_FILE)
    assert code == 0, out + err
    assert "req came from the -var" not in err


def test_console_keeps_the_order(work):
    code, out, err = _run("console", *LATER_FILE, stdin="var.req\n")
    assert (code, out.strip()) == (0, '"file"'), err


def test_import_keeps_the_order(work):
    code, _out, err = _run("import", "-no-color", *LATER_FILE, "terraform_data.a", "some-id")
    assert "req came from the -var" not in err


def test_a_saved_plan_refuses_either_kind(work):
    assert _run("plan", "-no-color", "-out=p.tfplan", "-var-file=x.tfvars")[0] == 0
    for given in (("-var", "req=x"), ("-var-file=x.tfvars",)):
        code, _out, err = _run("apply", "-no-color", *given, "p.tfplan")
        flag = given[0].split("=")[0]
        assert code == 1 and f"{flag} cannot be used with a saved plan" in err, err

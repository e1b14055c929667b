"""precondition and postcondition blocks stop a plan or an apply with their own message."""

from __future__ import annotations

import io

from reconciler.cli.main import main
from reconciler.cli.output import Output

CONFIG = """
variable "v" {
  default = "good"
}
resource "terraform_data" "a" {
  input = var.v
  lifecycle {
    precondition {
      condition     = var.v != "bad"
      error_message = "v must not be bad."
    }
    postcondition {
      condition     = self.output != "worse"
      error_message = "The object came back worse."
    }
  }
}
output "o" {
  value = terraform_data.a.output
  precondition {
    condition     = var.v != "ugly"
    error_message = "v must not be ugly."
  }
}
"""


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), output=Output(out=out, err=out)), out.getvalue()


def test_conditions(tmp_path):
    (tmp_path / "main.tf").write_text(CONFIG)
    d = str(tmp_path)
    code, text = run("plan", "-var", "v=bad", d)
    assert code == 1 and "v must not be bad." in text and "line 9" in text
    code, text = run("plan", "-var", "v=ugly", d)
    assert code == 1 and "v must not be ugly." in text
    code, text = run("apply", "-auto-approve", "-var", "v=worse", d)
    assert code == 1 and "The object came back worse." in text
    code, text = run("apply", "-auto-approve", d)
    assert code == 0 and 'o = "good"' in text

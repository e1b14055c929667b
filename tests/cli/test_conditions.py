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
  precondition {
    condition     = terraform_data.a.output != "known late"
    error_message = "The output can't be known late."
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


def test_an_output_precondition_known_only_after_apply_fails_the_apply(tmp_path):
    """As terraform: the objects are applied and kept in state, the output is not recorded, and
    the apply ends with "Module output value precondition failed" (exit 1, no "Apply complete!")."""
    (tmp_path / "main.tf").write_text(CONFIG)
    d = str(tmp_path)
    code, text = run("apply", "-auto-approve", "-var", "v=known late", d)
    assert code == 1 and "Module output value precondition failed" in text
    assert "The output can't be known late." in text and "Apply complete!" not in text
    code, text = run("state", "list", "-state", str(tmp_path / "vaultform.tfstate"))
    assert code == 0 and "terraform_data.a" in text
    code, text = run("output", "-state", str(tmp_path / "vaultform.tfstate"))
    assert "known late" not in text
    code, text = run("apply", "-auto-approve", d)
    assert code == 0 and 'o = "good"' in text

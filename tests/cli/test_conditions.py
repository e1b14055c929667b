"""precondition and postcondition blocks stop a plan or an apply with their own message."""

from __future__ import annotations

import io
import json

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


UNCHANGED = """
resource "terraform_data" "a" {
  input = 1
}
"""
REFUSES_ONE = """
resource "terraform_data" "a" {
  input = 1
  lifecycle {
    postcondition {
      condition     = self.output != 1
      error_message = "output must not be 1"
    }
  }
}
"""


def test_a_postcondition_an_unchanged_object_fails_fails_the_plan(tmp_path):
    """As terraform 1.11: a postcondition is checked against the planned object whenever it is
    known, so an object that no longer satisfies it fails plan and apply (exit 1) though
    nothing is to change; a refresh-only plan only warns."""
    d = str(tmp_path)
    (tmp_path / "main.tf").write_text(UNCHANGED)
    assert run("apply", "-auto-approve", d)[0] == 0
    state = (tmp_path / "vaultform.tfstate").read_bytes()
    (tmp_path / "main.tf").write_text(REFUSES_ONE)
    for argv in (("plan", "-detailed-exitcode"), ("plan", "-refresh=false"), ("apply", "-auto-approve")):
        code, text = run(*argv, d)
        assert code == 1, (argv, text)
        assert (
            "Error: Resource postcondition failed for terraform_data.a" in text and "main.tf line 6," in text
        )
        assert "self.output is 1" in text and "output must not be 1" in text
        assert "No changes." not in text and "Apply complete!" not in text
    assert (tmp_path / "vaultform.tfstate").read_bytes() == state
    code, text = run("plan", "-refresh-only", "-detailed-exitcode", d)
    assert code == 0 and "Warning: Resource postcondition failed" in text and "Error:" not in text


NEW_REFUSED = """
resource "terraform_data" "a" {
  input = 2
  lifecycle {
    postcondition {
      condition     = self.input != 2
      error_message = "input must not be 2"
    }
    postcondition {
      condition     = self.output != 2
      error_message = "output must not be 2"
    }
  }
}
"""


def test_a_postcondition_a_new_object_fails_stops_the_plan_before_anything_is_created(tmp_path):
    """Its planned input is known, so the postcondition on it is judged at plan time; the one on
    its output (known only after apply) waits and says nothing."""
    d = str(tmp_path)
    (tmp_path / "main.tf").write_text(NEW_REFUSED)
    code, text = run("plan", "-detailed-exitcode", d)
    assert code == 1 and "Error: Resource postcondition failed for terraform_data.a" in text
    assert "self.input is 2" in text and "+ resource" in text
    code, text = run("apply", "-auto-approve", d)
    assert code == 1 and "input must not be 2" in text and "Creating..." not in text
    assert "output must not be 2" not in text
    assert (
        not (tmp_path / "vaultform.tfstate").exists()
        or "terraform_data" not in (tmp_path / "vaultform.tfstate").read_text()
    )


def test_a_postcondition_failed_at_apply_fails_the_next_plan_again(tmp_path):
    """The value was known only after apply; the apply failed on it, and the next plan, which
    knows it, fails again rather than finding nothing to do."""
    (tmp_path / "main.tf").write_text(CONFIG)
    d = str(tmp_path)
    assert run("apply", "-auto-approve", d)[0] == 0
    code, text = run("apply", "-auto-approve", "-var", "v=worse", d)
    assert code == 1 and "The object came back worse." in text
    code, text = run("plan", "-detailed-exitcode", "-var", "v=worse", d)
    assert code == 1 and "Resource postcondition failed" in text and "The object came back worse." in text
    code, text = run("apply", "-auto-approve", d)  # the planned output is known only after apply: it waits
    assert code == 0 and 'o = "good"' in text


REFUSES_FIVE = """
variable "n" {
  type    = number
  default = 1
}
resource "terraform_data" "a" {
  count = 2
  input = var.n + count.index
  lifecycle {
    postcondition {
      condition     = self.output != 5
      error_message = "output must not be 5"
    }
  }
}
resource "terraform_data" "b" {
  input = var.n
}
locals {
  second = terraform_data.a[1].output
}
output "first" { value = terraform_data.a[0].output }
output "second" { value = local.second }
output "b" { value = terraform_data.b.output }
output "both" { value = [terraform_data.a[0].output, terraform_data.b.output] }
"""


def test_outputs_made_of_an_object_whose_postcondition_failed_keep_their_last_value(tmp_path):
    """As terraform 1.11: after a failed apply an output made of the failed object keeps the value
    state recorded (terraform doesn't evaluate what depends on it); the others take the new values."""
    (tmp_path / "main.tf").write_text(REFUSES_FIVE)
    d = str(tmp_path)
    assert run("apply", "-auto-approve", d)[0] == 0
    code, text = run("apply", "-auto-approve", "-var", "n=5", d)
    assert code == 1 and "output must not be 5" in text
    state = json.loads((tmp_path / "vaultform.tfstate").read_text())
    outputs = {name: o["value"] for name, o in state["outputs"].items()}
    assert outputs == {"first": 1, "second": 6, "b": 5, "both": [1, 1]}


def test_a_failing_precondition_only_warns_in_a_refresh_only_plan(tmp_path):
    """As terraform 1.11: nothing is planned to change, so the refresh is not refused."""
    (tmp_path / "main.tf").write_text(CONFIG)
    d = str(tmp_path)
    assert run("apply", "-auto-approve", d)[0] == 0
    code, text = run("plan", "-refresh-only", "-detailed-exitcode", "-var", "v=bad", d)
    assert code == 0 and "Warning: Resource precondition failed" in text and "v must not be bad." in text
    assert "Error:" not in text
    code, text = run("apply", "-refresh-only", "-auto-approve", "-var", "v=bad", d)
    assert code == 0 and "Warning: Resource precondition failed" in text


DATA_CHECKED = """
resource "terraform_data" "path" {
  input = "other.tfstate"
}
data "terraform_remote_state" "now" {
  backend = "local"
  config  = { path = "other.tfstate" }
  lifecycle {
    precondition {
      condition     = var.v != "bad"
      error_message = "v must not be bad."
    }
    postcondition {
      condition     = self.outputs.keep != "keep"
      error_message = "keep must not be keep (read at plan time)."
    }
  }
}
data "terraform_remote_state" "later" {
  backend = "local"
  config  = { path = terraform_data.path.output }
  lifecycle {
    postcondition {
      condition     = self.outputs.keep != "keep"
      error_message = "keep must not be keep (read at apply time)."
    }
  }
}
variable "v" {
  default = "good"
}
"""


def test_a_data_source_s_conditions_are_checked_when_it_is_read(tmp_path, monkeypatch):
    """As terraform 1.11: a data source read while planning has its postconditions judged on what
    was read (the plan fails); one read only at apply fails the apply when it reads it."""
    other = {
        "version": 4,
        "serial": 1,
        "lineage": "l",
        "outputs": {"keep": {"value": "keep", "type": "string"}},
    }
    (tmp_path / "other.tfstate").write_text(json.dumps(other))
    (tmp_path / "main.tf").write_text(DATA_CHECKED)
    monkeypatch.chdir(tmp_path)
    code, text = run("plan", "-var", "v=bad")
    assert code == 1 and "Error: Resource precondition failed for data.terraform_remote_state.now" in text
    code, text = run("plan", "-detailed-exitcode")
    assert code == 1 and "Error: Resource postcondition failed for data.terraform_remote_state.now" in text
    assert 'self.outputs.keep is "keep"' in text and "(read at plan time)" in text
    assert "(read at apply time)" not in text
    (tmp_path / "main.tf").write_text(DATA_CHECKED.replace('!= "keep"', '== "keep"', 1))
    code, text = run("apply", "-auto-approve")
    assert code == 1 and "Resource postcondition failed for data.terraform_remote_state.later" in text
    assert "(read at apply time)" in text and "Apply complete!" not in text


WAITS_FOR_A = """
variable "v" {
  default = "1"
}
resource "terraform_data" "a" {
  input            = "x"
  triggers_replace = [var.v]
}
resource "terraform_data" "b" {
  input = "fixed"
  lifecycle {
    postcondition {
      condition     = terraform_data.a.output == "y"
      error_message = "a must be y"
    }
  }
  depends_on = [terraform_data.c]
}
resource "terraform_data" "c" {
  input = "c"
}
resource "terraform_data" "after_b" {
  input = "${terraform_data.b.output}-${var.v}"
}
"""


def test_an_unchanged_object_s_postcondition_known_only_after_apply_is_checked_at_apply(tmp_path):
    """b has nothing to do, but its postcondition reads a's output, unknown while a is replaced:
    as terraform 1.11, the apply checks it once a is made and fails (exit 1) before what depends
    on b is made."""
    d = str(tmp_path)
    (tmp_path / "main.tf").write_text(WAITS_FOR_A.replace('"${terraform_data.b.output}-${var.v}"', "1"))
    code, text = run("apply", "-auto-approve", d)
    assert code == 1 and "a must be y" in text  # a new b: checked once a is made, as before
    (tmp_path / "main.tf").write_text(WAITS_FOR_A.replace('== "y"', '!= "y"'))
    assert run("apply", "-auto-approve", d)[0] == 0
    (tmp_path / "main.tf").write_text(WAITS_FOR_A)
    code, text = run("plan", "-var", "v=2", d)
    assert code == 0 and "1 to add, 1 to change, 1 to destroy" in text, text
    code, text = run("apply", "-auto-approve", "-var", "v=2", d)
    assert code == 1, text
    assert "Error: Resource postcondition failed for terraform_data.b" in text and "main.tf line 13," in text
    assert 'terraform_data.a.output is "x"' in text and "a must be y" in text
    state = json.loads((tmp_path / "vaultform.tfstate").read_text())
    after_b = next(r for r in state["resources"] if r["name"] == "after_b")
    assert (
        after_b["instances"][0]["attributes"]["input"]["value"] == "fixed-1"
    )  # waited for b's check, which failed

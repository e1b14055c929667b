"""A destroy plan reads no data source; a local made of one is unknown there, not an error."""

from __future__ import annotations

import io

from reconciler.cli.main import main
from reconciler.cli.output import Output

CONFIG = """
data "terraform_remote_state" "shared" {
  backend  = "local"
  config   = { path = "${path.module}/elsewhere.tfstate" }
  defaults = { team = "platform" }
}
locals {
  team = data.terraform_remote_state.shared.outputs.team
}
resource "terraform_data" "a" {
  input = local.team
}
output "team" {
  value = local.team
}
"""


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), output=Output(out=out, err=out)), out.getvalue()


def test_a_destroy_plan_with_a_local_made_of_a_data_source(tmp_path):
    (tmp_path / "main.tf").write_text(CONFIG)
    (tmp_path / "elsewhere.tfstate").write_text(
        '{"version": 4, "terraform_version": "1.11.0", "serial": 1, "lineage": "x", "outputs": {}, "resources": []}\n'
    )
    d = str(tmp_path)
    assert run("apply", "-auto-approve", d)[0] == 0
    code, text = run("plan", "-destroy", "-detailed-exitcode", d)
    assert code == 2 and "Error" not in text, text
    assert "1 to destroy" in text and '- team = "platform" -> null' in text
    code, text = run("destroy", "-auto-approve", d)
    assert code == 0 and "Resources: 1 destroyed" in text, text

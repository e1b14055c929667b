"""A sensitive variable's value is never shown, wherever it flows."""

from __future__ import annotations

import io
import json

from reconciler.cli.main import main
from reconciler.cli.output import Output

SECRET = "hunter2-very-secret"
CONFIG = f'''
variable "secret" {{
  type      = string
  sensitive = true
  default   = "{SECRET}"
}}
resource "terraform_data" "s" {{
  input = "prefix-${{var.secret}}"
}}
output "s" {{
  value = terraform_data.s.output
}}
'''


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), output=Output(out=out, err=out))
    return code, out.getvalue()


def test_secret_is_hidden_in_plan_json_markdown_apply_and_output(tmp_path):
    (tmp_path / "main.tf").write_text(CONFIG)
    md = tmp_path / "plan.md"
    for argv in (
        ["plan", str(tmp_path)],
        ["plan", "-json", str(tmp_path)],
        ["plan", "-markdown", str(md), str(tmp_path)],
    ):
        code, text = run(*argv)
        assert code == 0 and SECRET not in text, argv
    assert SECRET not in md.read_text()
    code, text = run("apply", "-auto-approve", str(tmp_path))
    assert code == 0 and SECRET not in text
    assert 'Output "s" carries a sensitive value' in text
    state = json.loads((tmp_path / "vaultform.tfstate").read_text())
    assert state["outputs"]["s"]["sensitive"] is True
    code, text = run("show", str(tmp_path))
    assert SECRET not in text

"""A targeted destroy leaves the root outputs in state, as terraform 1.11's does: the objects
behind most of them still exist, and pipelines keep reading them (``output -raw``,
``terraform_remote_state``). Only a full destroy removes them."""

from __future__ import annotations

import io
import json
from pathlib import Path

from reconciler.cli.main import main
from reconciler.cli.output import Output

CONFIG = """
resource "terraform_data" "keep" { input = "keep" }
resource "terraform_data" "tmp" { input = "tmp" }
module "m" {
  source = "./child"
  for_each = toset(["a", "b"])
}
output "keep" { value = terraform_data.keep.output }
output "static" { value = "s" }
output "tmp" { value = terraform_data.tmp.output }
output "m" { value = { for k, m in module.m : k => m.out } }
"""
CHILD = """
resource "terraform_data" "r" { input = "r" }
output "out" { value = terraform_data.r.output }
"""
OUTPUTS = {
    "keep": "keep",
    "static": "s",
    "tmp": "tmp",
    "m": {"a": "r", "b": "r"},
}


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), output=Output(out=out, err=out, no_color=True)), out.getvalue()


def _workspace(tmp_path: Path) -> str:
    (tmp_path / "main.tf").write_text(CONFIG)
    (tmp_path / "child").mkdir()
    (tmp_path / "child" / "main.tf").write_text(CHILD)
    code, text = run("apply", "-auto-approve", str(tmp_path))
    assert code == 0, text
    return str(tmp_path)


def _outputs(tmp_path: Path) -> dict:
    state = json.loads((tmp_path / "vaultform.tfstate").read_text())
    return {name: o["value"] for name, o in state["outputs"].items()}


def _resources(tmp_path: Path) -> set[str]:
    state = json.loads((tmp_path / "vaultform.tfstate").read_text())
    return {f"{r.get('module', '')}{'.' if r.get('module') else ''}{r['name']}" for r in state["resources"]}


def test_destroy_target_keeps_every_root_output(tmp_path, monkeypatch):
    d = _workspace(tmp_path)
    for target in ("terraform_data.tmp", 'module.m["b"]'):
        code, text = run("destroy", "-auto-approve", f"-target={target}", d)
        assert code == 0 and "Destroy complete! Resources: 1 destroyed." in text, text
        assert "Changes to Outputs" not in text
        assert _outputs(tmp_path) == OUTPUTS
    assert _resources(tmp_path) == {"keep", 'module.m["a"].r'}
    monkeypatch.chdir(tmp_path)
    code, text = run("output", "-raw", "keep")
    assert code == 0 and text == "keep"


def test_a_saved_targeted_destroy_plan_keeps_every_root_output(tmp_path, monkeypatch):
    d = _workspace(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, text = run("plan", "-destroy", "-target=terraform_data.tmp", "-out=d.plan", d)
    assert code == 0 and "Changes to Outputs" not in text
    code, text = run("show", "-json", "d.plan")
    assert code == 0 and not json.loads(text).get("output_changes")
    code, text = run("apply", "d.plan")
    assert code == 0 and "Apply complete! Resources: 0 added, 0 changed, 1 destroyed." in text
    assert 'keep = "keep"' in text  # the outputs state still holds, as terraform shows them
    assert _outputs(tmp_path) == OUTPUTS


def test_a_full_destroy_removes_the_outputs(tmp_path):
    d = _workspace(tmp_path)
    code, text = run("destroy", "-auto-approve", d)
    assert code == 0 and "Destroy complete! Resources: 4 destroyed." in text
    assert _outputs(tmp_path) == {}

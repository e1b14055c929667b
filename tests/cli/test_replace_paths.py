"""What forces a replacement, in show -json's replace_paths, side by side with terraform 1.11: the
attribute whose value changed, not the element inside it (the plugin SDK's RequiresReplace paths
stop at the attribute)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli.test_output_parity import _terraform, _vaultform

pytestmark = pytest.mark.skipif(
    shutil.which("terraform") is None, reason="install terraform to compare with it"
)

CONFIG = """variable "v" {
  default = "a"
}

resource "terraform_data" "x" {
  triggers_replace = [var.v, "kept"]
  input            = { a = var.v }
}
"""


def _replace_paths(shown: str) -> dict[str, object]:
    return {r["address"]: r["change"].get("replace_paths") for r in json.loads(shown)["resource_changes"]}


def test_replace_paths_name_the_attribute(tmp_path: Path):
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    for d in (theirs, ours):
        d.mkdir()
        (d / "main.tf").write_text(CONFIG)
    env = {"VAULTFORM_LOCAL_AZURE": str(tmp_path / "az.db")}
    assert _terraform(theirs, "init").returncode == 0
    assert _terraform(theirs, "apply", "-auto-approve").returncode == 0
    assert _vaultform(ours, "apply", "-auto-approve", env=env)[0] == 0
    assert _terraform(theirs, "plan", "-var", "v=b", "-out=p").returncode == 0
    assert _vaultform(ours, "plan", "-var", "v=b", "-out=p", env=env)[0] == 0
    shown_t = _terraform(theirs, "show", "-json", "p").stdout
    code, shown, err = _vaultform(ours, "show", "-json", "p", env=env)
    assert code == 0, err
    assert _replace_paths(shown) == _replace_paths(shown_t) == {"terraform_data.x": [["triggers_replace"]]}

"""`state mv` and `state rm` against the local Azure: the next plan agrees with what was moved or forgotten."""

from __future__ import annotations

import io
import uuid

from reconciler.cli.main import main
from reconciler.cli.output import Output

CONFIG = """
resource "azurerm_resource_group" "%(name)s" {
  name     = "rg-mv-%(suffix)s"
  location = "westeurope"
}

resource "terraform_data" "uses" {
  input = azurerm_resource_group.%(name)s.name
}
"""


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


def test_mv_with_the_configuration_renamed_plans_no_change(tmp_path):
    suffix = uuid.uuid4().hex[:8]
    main_tf = tmp_path / "main.tf"
    main_tf.write_text(CONFIG % {"name": "old", "suffix": suffix})
    state = str(tmp_path / "vaultform.tfstate")
    assert run("apply", str(tmp_path), "-auto-approve")[0] == 0

    main_tf.write_text(CONFIG % {"name": "renamed", "suffix": suffix})
    # renamed without a moved block: the same resource group deleted and created again, refused
    code, out, err = run("plan", str(tmp_path), "-detailed-exitcode")
    assert code == 1 and "azurerm_resource_group.old will be destroyed" in out
    assert "moved { from = azurerm_resource_group.old to = azurerm_resource_group.renamed }" in out + err

    code, out, err = run(
        "state", "mv", "-state", state, "azurerm_resource_group.old", "azurerm_resource_group.renamed"
    )
    assert code == 0, err
    code, out, err = run("plan", str(tmp_path), "-detailed-exitcode")
    assert code == 0, out + err
    assert "No changes." in out

    code, out, err = run("state", "rm", "-state", state, "azurerm_resource_group.renamed")
    assert code == 0, err
    code, out, _ = run("plan", str(tmp_path), "-detailed-exitcode")
    assert code == 2
    assert "azurerm_resource_group.renamed will be created" in out and "destroyed" not in out

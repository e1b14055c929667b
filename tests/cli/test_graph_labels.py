"""`vaultform graph` labels an object the state already records by what the plan does to it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent.parent / "fixtures" / "console" / "basic"
VAULTFORM = [sys.executable, "-c", "import sys; from reconciler.cli.main import main; sys.exit(main())"]


def _vaultform(work: Path, *args: str) -> str:
    done = subprocess.run([*VAULTFORM, *args], cwd=work, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def applied(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("graph") / "cfg"
    shutil.copytree(FIXTURE, work)
    _vaultform(work, "apply", "-auto-approve", ".")
    return work


def test_a_new_object_is_labelled_create(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "cfg")
    assert _vaultform(tmp_path / "cfg", "graph", ".") == "terraform_data.key [create]\n"


@pytest.mark.parametrize("fmt", ["text", "dot", "mermaid"])
def test_an_unchanged_object_is_labelled_no_change(applied, fmt):
    text = _vaultform(applied, "graph", "-format", fmt, ".")
    assert "terraform_data.key [no change]" in text
    assert "[create]" not in text


def test_a_changed_object_is_labelled_update(applied):
    assert _vaultform(applied, "graph", "-var", "name=other", ".") == "terraform_data.key [update]\n"


def test_terraform_s_graph_flags_give_dot(applied):
    """`terraform graph -type=plan | dot -Tsvg` habits: -type and -draw-cycles are accepted, and with
    -type the output is DOT unless -format says otherwise."""
    dot = _vaultform(applied, "graph", "-type=plan", "-draw-cycles", ".")
    assert dot.startswith("digraph") and "terraform_data.key [no change]" in dot
    assert _vaultform(applied, "graph", "-type=apply", ".") == dot
    assert (
        _vaultform(applied, "graph", "-type=apply", "-format", "text", ".")
        == "terraform_data.key [no change]\n"
    )


def test_a_cycle_in_the_apply_order_is_drawn_not_a_crash(tmp_path):
    """A grant that waits for the whole vault (depends_on) while the vault's key assignment waits
    for the grant (O2): the graph still draws, so the cycle can be seen."""
    from tests.e2e.harness import EXAMPLES, Workspace

    ws = Workspace(tmp_path, EXAMPLES / "quickstart")
    main_tf = ws.dir / "main.tf"
    text = main_tf.read_text()
    grant = 'key_permissions = ["Get", "List", "WrapKey", "UnwrapKey"]\n'
    assert grant in text
    main_tf.write_text(
        text.replace(grant, grant + "  depends_on      = [azurerm_recovery_services_vault.vault]\n")
    )
    run = ws.run("-chdir=" + str(ws.dir), "graph", "-type=plan")
    assert run.code == 0, run.explain()
    assert (
        '"azurerm_key_vault_access_policy.vault" -> "azurerm_recovery_services_vault.vault#encryption"'
        in run.out
    )
    assert "internal error" not in run.text
    # the plan says it can't be applied, before anything is done
    plan = ws.vf("plan")
    assert plan.code == 1 and "The apply order has a cycle" in plan.text, plan.explain()
    assert "depends_on" in plan.text
    assert "main.tf line" in plan.text and "in azurerm_key_vault_access_policy.vault" in plan.text


def test_an_import_whose_object_is_not_there_yet_is_drawn_as_a_create(tmp_path, monkeypatch):
    """graph draws the order, as terraform's does without reading the cloud: an import block whose
    object doesn't exist (yet) doesn't stop it, though plan refuses such an import."""
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "az.db"))
    work = tmp_path / "cfg"
    work.mkdir()
    (work / "main.tf").write_text(
        'provider "azurerm" {\n  features {}\n}\n\n'
        "import {\n  to = azurerm_resource_group.x\n"
        '  id = "/subscriptions/3b9e6c2d-58a1-4f07-b2d4-6a1e0c9f8d27/resourceGroups/rg-not-there"\n}\n\n'
        'resource "azurerm_resource_group" "x" {\n  name     = "rg-not-there"\n  location = "westeurope"\n}\n'
    )
    assert _vaultform(work, "graph", ".") == "azurerm_resource_group.x [create]\n"

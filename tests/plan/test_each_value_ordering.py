"""``for_each`` over a whole resource: ``each.value.X`` is the instance with the same key, so
the ordering rules see a grant written that way as they see a direct reference."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from reconciler.cli.main import main
from reconciler.cli.output import Output

FIXTURE = Path(__file__).parents[1] / "fixtures" / "each_value_grants"


def _graph(tmp_path: Path, monkeypatch) -> dict[str, list[str]]:
    work = tmp_path / "cfg"
    shutil.copytree(FIXTURE, work)
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "azure.db"))
    out, err = io.StringIO(), io.StringIO()
    assert main(["graph", str(work)], output=Output(out=out, err=err, no_color=True)) == 0, err.getvalue()
    nodes: dict[str, list[str]] = {}
    current = ""
    for line in out.getvalue().splitlines():
        if line.startswith("    after "):
            nodes[current].append(line.removeprefix("    after "))
        else:
            current = line
            nodes[current] = []
    return nodes


def test_each_vaults_key_assignment_waits_for_its_own_grant(tmp_path, monkeypatch):
    nodes = _graph(tmp_path, monkeypatch)
    for team, other in (("ledger", "payments"), ("payments", "ledger")):
        waits = nodes[f'azurerm_recovery_services_vault.team["{team}"] [encryption (key assignment)]']
        assert f'azurerm_role_assignment.vault["{team}"]  (O2)' in waits
        assert f'azurerm_key_vault.team["{team}"]  (O3)' in waits
        assert not any(f'azurerm_role_assignment.vault["{other}"]' in w for w in waits)


def test_each_key_waits_for_the_deployers_grant_on_its_key_vault(tmp_path, monkeypatch):
    nodes = _graph(tmp_path, monkeypatch)
    for team in ("ledger", "payments"):
        waits = nodes[f'azurerm_key_vault_key.cmk["{team}"] [create]']
        assert waits == [f'azurerm_role_assignment.deployer["{team}"]  (O2)']

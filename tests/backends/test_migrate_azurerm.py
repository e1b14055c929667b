"""The acceptance round: ``init -migrate-state`` local -> azurerm -> pg -> local keeps every
workspace's lineage, serial and resources (Azurite and PostgreSQL, real servers)."""

from __future__ import annotations

import shutil

from conftest import AZURITE_ACCOUNT, AZURITE_KEY
from test_migrate import FIXTURES, _estate, _fresh_database, _pg_states, _run, _summary

KEY = "team.terraform.tfstate"


def _azurerm_block(azurite, container: str) -> str:
    return (
        'terraform {\n  backend "azurerm" {\n'
        f'    storage_account_name = "{AZURITE_ACCOUNT}"\n'
        f'    container_name       = "{container}"\n'
        f'    key                  = "{KEY}"\n'
        f'    blob_endpoint        = "{azurite.endpoint}"\n'
        "  }\n}\n"
    )


def test_local_to_azurerm_to_pg_to_local(tmp_path, monkeypatch, azurite, postgres):
    monkeypatch.setenv("ARM_ACCESS_KEY", AZURITE_KEY)
    for name in ("ARM_SAS_TOKEN", "TF_WORKSPACE", "PG_CONN_STR"):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "cfg"
    shutil.copytree(FIXTURES / "estate", work)
    monkeypatch.chdir(work)
    before = _estate(work)

    container = azurite.container("migrateround")
    (work / "backend.tf").write_text(_azurerm_block(azurite, container.container_name))
    code, out, err = _run("init", "-no-color", "-input=false", "-force-copy")
    assert code == 0, out + err
    blobs = {
        "default": container.download_blob(KEY).readall().decode(),
        "staging": container.download_blob(f"{KEY}env:staging").readall().decode(),
    }
    assert {name: _summary(text) for name, text in blobs.items()} == before
    assert _run("plan", "-no-color", "-detailed-exitcode")[0] == 0

    database = _fresh_database(postgres, "t_migrate_azurerm")
    shutil.copy(FIXTURES / "backend-pg.tf.txt", work / "backend.tf")
    code, out, err = _run(
        "init", "-no-color", "-migrate-state", f"-backend-config=conn_str={database}", answers="yes\n"
    )
    assert code == 0, out + err
    assert 'vaultform detected that the backend type changed from "azurerm" to "pg".' in out
    assert _pg_states(database) == before
    assert _run("plan", "-no-color", "-detailed-exitcode")[0] == 0

    (work / "backend.tf").unlink()
    code, out, err = _run("init", "-no-color", "-migrate-state", "-force-copy")
    assert code == 0, out + err
    after = {
        "default": _summary((work / "vaultform.tfstate").read_text()),
        "staging": _summary((work / "vaultform.tfstate.d" / "staging" / "vaultform.tfstate").read_text()),
    }
    assert after == before
    assert _run("plan", "-no-color", "-detailed-exitcode")[0] == 0

"""terraform_remote_state reads another configuration's outputs from the pg and azurerm backends
(real PostgreSQL and Azurite), per workspace, without locking the state it reads."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from conftest import AZURITE_ACCOUNT, AZURITE_KEY
from test_migrate import _fresh_database

from reconciler.cli.main import main
from reconciler.cli.output import Output
from state.backends.pg import PgBackend

FIXTURES = Path(__file__).parents[1] / "fixtures" / "remote_state"


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    for name in ("TF_WORKSPACE", "PG_CONN_STR", "ARM_SAS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    shutil.copytree(FIXTURES, tmp_path / "w")
    return tmp_path / "w"


def _produce(dirs: Path, monkeypatch, backend_block: str, *init_flags: str) -> None:
    producer = dirs / "producer"
    (producer / "backend.tf").write_text(backend_block)
    monkeypatch.chdir(producer)
    code, out, err = _run("init", "-no-color", "-input=false", *init_flags)
    assert code == 0, out + err
    assert _run("apply", "-auto-approve", "-no-color")[0] == 0
    assert _run("workspace", "new", "staging")[0] == 0
    assert _run("apply", "-auto-approve", "-no-color")[0] == 0
    monkeypatch.chdir(dirs / "consumer")


def _consume(*variables: str) -> dict:
    code, out, err = _run("apply", "-auto-approve", "-no-color", *[f"-var={v}" for v in variables])
    assert code == 0, out + err
    code, out, err = _run("output", "-json")
    assert code == 0, err
    return {name: doc["value"] for name, doc in json.loads(out).items()}


def test_reads_outputs_from_pg(dirs, monkeypatch, postgres):
    database = _fresh_database(postgres, "t_remote_state")
    _produce(dirs, monkeypatch, 'terraform {\n  backend "pg" {}\n}\n', f"-backend-config=conn_str={database}")
    config = f'config={{conn_str="{database}"}}'
    assert _consume("backend=pg", config) == {"vault_name": "vault-default", "tier": "standard"}
    assert _consume("backend=pg", config, "workspace=staging")["vault_name"] == "vault-staging"
    # read-only and without the lock: a state held by another run is still read
    holder = PgBackend(database, workspace="default")
    lock = holder.lock("apply")
    try:
        assert _consume("backend=pg", config)["vault_name"] == "vault-default"
    finally:
        lock.release()
        holder.close()


def test_reads_outputs_from_azurerm(dirs, monkeypatch, azurite):
    monkeypatch.setenv("ARM_ACCESS_KEY", AZURITE_KEY)
    container = azurite.container("remotestate")
    settings = {
        "storage_account_name": AZURITE_ACCOUNT,
        "container_name": container.container_name,
        "key": "producer.tfstate",
        "blob_endpoint": azurite.endpoint,
    }
    block = "".join(f'    {k} = "{v}"\n' for k, v in settings.items())
    _produce(dirs, monkeypatch, f'terraform {{\n  backend "azurerm" {{\n{block}  }}\n}}\n')
    config = "config={" + ", ".join(f'{k}="{v}"' for k, v in settings.items()) + "}"
    assert _consume("backend=azurerm", config) == {"vault_name": "vault-default", "tier": "standard"}
    assert _consume("backend=azurerm", config, "workspace=staging")["vault_name"] == "vault-staging"

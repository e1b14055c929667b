"""`state pull`, edit, `state push` on the pg and azurerm backends (real PostgreSQL and Azurite): the
way to repair a remote state by hand, with terraform's lineage and serial checks."""

from __future__ import annotations

import io
import json
from pathlib import Path

from conftest import AZURITE_ACCOUNT, AZURITE_KEY
from test_migrate import _fresh_database

from reconciler.cli.main import main
from reconciler.cli.output import Output

CONFIG = 'resource "terraform_data" "x" {\n  input = "a"\n}\n'


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


def _applied(work: Path, monkeypatch, backend: str, *init_flags: str) -> None:
    for name in ("TF_WORKSPACE", "PG_CONN_STR", "ARM_SAS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    work.mkdir()
    (work / "main.tf").write_text(backend + CONFIG)
    monkeypatch.chdir(work)
    code, out, err = _run("init", "-no-color", "-input=false", *init_flags)
    assert code == 0, out + err
    code, out, err = _run("apply", "-auto-approve", "-no-color")
    assert code == 0, out + err


def _push_pulled_state(work: Path) -> None:
    code, pulled, err = _run("state", "pull")
    assert code == 0, err
    (work / "same.json").write_text(pulled)
    code, out, err = _run("state", "push", "same.json")
    assert code == 0, out + err

    edited = json.loads(pulled)
    edited["serial"] += 1
    edited["outputs"] = {"note": {"value": "pushed", "type": "string"}}
    (work / "edited.json").write_text(json.dumps(edited))
    code, out, err = _run("state", "push", "edited.json")
    assert code == 0, out + err
    code, again, err = _run("state", "pull")
    assert code == 0, err
    assert json.loads(again)["outputs"]["note"]["value"] == "pushed"

    other = {**edited, "lineage": "00000000-0000-4000-8000-000000000001", "serial": 1}
    (work / "other.json").write_text(json.dumps(other))
    code, out, err = _run("state", "push", "other.json")
    assert code == 1 and "Refusing to push a state of another lineage" in out + err, out + err
    code, out, err = _run("state", "push", "-force", "other.json")
    assert code == 0, out + err
    code, last, err = _run("state", "pull")
    assert code == 0 and json.loads(last)["lineage"] == other["lineage"], err


def test_state_push_to_pg(tmp_path, monkeypatch, postgres):
    database = _fresh_database(postgres, "t_state_push")
    _applied(
        tmp_path / "w",
        monkeypatch,
        'terraform {\n  backend "pg" {}\n}\n',
        f"-backend-config=conn_str={database}",
    )
    _push_pulled_state(tmp_path / "w")


def test_state_push_to_azurerm(tmp_path, monkeypatch, azurite):
    monkeypatch.setenv("ARM_ACCESS_KEY", AZURITE_KEY)
    container = azurite.container("statepush")
    settings = {
        "storage_account_name": AZURITE_ACCOUNT,
        "container_name": container.container_name,
        "key": "push.tfstate",
        "blob_endpoint": azurite.endpoint,
    }
    block = "".join(f'    {k} = "{v}"\n' for k, v in settings.items())
    _applied(tmp_path / "w", monkeypatch, f'terraform {{\n  backend "azurerm" {{\n{block}  }}\n}}\n')
    _push_pulled_state(tmp_path / "w")

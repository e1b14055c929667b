"""State encryption on the team backends: the pg row and the azurerm blob hold OpenTofu's encrypted
envelope and no attribute value in clear, and a wrong passphrase leaves them as they were (real
PostgreSQL and Azurite, started by tests/backends/conftest.py's fixtures)."""

from __future__ import annotations

import json
import shutil

import psycopg
import pytest

from tests.backends.conftest import AZURITE_ACCOUNT, AZURITE_KEY, azurite, postgres  # noqa: F401 (fixtures)
from tests.state.test_encryption import FIXTURES, PASSPHRASE, SECRET, apply, run


@pytest.fixture
def configured(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_ENCRYPTION", raising=False)
    monkeypatch.delenv("TF_WORKSPACE", raising=False)
    monkeypatch.setenv("TF_VAR_passphrase", PASSPHRASE)
    work = tmp_path / "cfg"
    shutil.copytree(FIXTURES / "pbkdf2", work)
    return work


def _encrypted_and_refused(work, read_raw, monkeypatch) -> None:
    apply(work)
    raw = read_raw()
    assert SECRET not in raw
    assert json.loads(raw)["encryption_version"] == "v0"
    code, text = run("plan", "-detailed-exitcode", "-no-color", str(work))
    assert code == 0, text
    monkeypatch.setenv("TF_VAR_passphrase", "not the passphrase it was written with")
    code, text = run("apply", "-auto-approve", "-no-color", str(work))
    assert code == 1 and "cannot decrypt the state: method.aes_gcm.mine" in text, text
    assert read_raw() == raw


def test_pg_row_is_encrypted(configured, postgres, monkeypatch):  # noqa: F811
    name = "t_encryption"
    with psycopg.connect(postgres.conn_str(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    conn_str = postgres.conn_str(name)
    (configured / "backend.tf").write_text('terraform {\n  backend "pg" {}\n}\n')
    code, text = run("init", "-no-color", f"-backend-config=conn_str={conn_str}", str(configured))
    assert code == 0, text

    def read_raw() -> bytes:
        with psycopg.connect(conn_str) as conn:
            row = conn.execute(
                "SELECT data FROM terraform_remote_state.states WHERE name = 'default'"
            ).fetchone()
        return row[0].encode("utf-8")

    _encrypted_and_refused(configured, read_raw, monkeypatch)


def test_azurerm_blob_is_encrypted(configured, azurite, monkeypatch):  # noqa: F811
    container = azurite.container("encryptedstate")
    monkeypatch.setenv("ARM_ACCESS_KEY", AZURITE_KEY)
    monkeypatch.delenv("ARM_SAS_TOKEN", raising=False)
    (configured / "backend.tf").write_text(
        'terraform {\n  backend "azurerm" {\n'
        f'    storage_account_name = "{AZURITE_ACCOUNT}"\n'
        f'    container_name       = "{container.container_name}"\n'
        '    key                  = "prod.terraform.tfstate"\n'
        f'    blob_endpoint        = "{azurite.endpoint}"\n'
        "  }\n}\n"
    )
    code, text = run("init", "-no-color", str(configured))
    assert code == 0, text

    def read_raw() -> bytes:
        return container.download_blob("prod.terraform.tfstate").readall()

    _encrypted_and_refused(configured, read_raw, monkeypatch)


def test_init_migrate_state_moves_an_encrypted_local_state_to_pg(configured, postgres):  # noqa: F811
    name = "t_encryption_migrate"
    with psycopg.connect(postgres.conn_str(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    conn_str = postgres.conn_str(name)
    apply(configured)
    assert SECRET not in (configured / "vaultform.tfstate").read_bytes()
    (configured / "backend.tf").write_text('terraform {\n  backend "pg" {}\n}\n')
    code, text = run(
        "init",
        "-no-color",
        "-migrate-state",
        "-force-copy",
        f"-backend-config=conn_str={conn_str}",
        str(configured),
    )
    assert code == 0, text
    with psycopg.connect(conn_str) as conn:
        row = conn.execute("SELECT data FROM terraform_remote_state.states WHERE name = 'default'").fetchone()
    assert row is not None and SECRET.decode() not in row[0]
    assert json.loads(row[0])["encryption_version"] == "v0"
    code, text = run("plan", "-detailed-exitcode", "-no-color", str(configured))
    assert code == 0, text

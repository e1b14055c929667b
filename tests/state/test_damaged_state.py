"""A damaged state or local Azure stops the run with a message naming what is wrong.

Null or missing ids (an AttributeError before), a named pipe in the state file's place
(a run that waited forever), a local Azure whose master key file is gone (found only at
the first unwrap before, as "the wrapped key was altered"), and files of the local Azure
that others could read.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import time
from pathlib import Path

import pytest

from providers.azurelocal.app import Emulator
from providers.azurelocal.seam import LocalAzureUnavailable, open_emulator
from reconciler.cli.main import main
from reconciler.cli.output import Output
from reconciler.plan.planfile_crypto import KEY_ENV
from reconciler.session import _refuse_newer_schema_versions
from state.format import decode_state

FIXTURE = Path(__file__).parent.parent / "fixtures" / "state" / "damaged" / "one_object"


def run(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue() + err.getvalue()


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(KEY_ENV, raising=False)
    shutil.copytree(FIXTURE, tmp_path / "cfg")
    monkeypatch.chdir(tmp_path / "cfg")
    code, text = run("apply", "-auto-approve")
    assert code == 0, text
    return tmp_path / "cfg"


def _edit_id(path: Path, edit) -> None:
    doc = json.loads(path.read_text())
    edit(doc["resources"][0]["instances"][0]["attributes"])
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    "damage, said",
    [
        (lambda attrs: attrs.update(id=None), "has null as its id"),
        (lambda attrs: attrs.pop("id"), "has no id"),
        (lambda attrs: attrs.update(id=""), "has an empty id"),
        (lambda attrs: attrs.update(id=7), "has a whole number as its id"),
    ],
)
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_an_object_without_id_is_named_not_a_traceback(work, damage, said, command):
    state = work / "vaultform.tfstate"
    _edit_id(state, damage)
    before = state.read_bytes()
    code, text = run(command, *(["-auto-approve"] if command == "apply" else []))
    assert code == 1, text
    assert f"terraform_data.kept in ./vaultform.tfstate {said}" in text, text
    assert "state rm 'terraform_data.kept'" in text
    assert "internal error" not in text and "AttributeError" not in text
    assert state.read_bytes() == before  # nothing recorded is lost


@pytest.mark.parametrize("command", ["plan", "apply", "refresh"])
def test_an_object_of_a_newer_schema_version_is_refused(work, command):
    # terraform 1.11: "Resource instance managed by newer provider version", planning nothing
    state = work / "vaultform.tfstate"
    doc = json.loads(state.read_text())
    doc["resources"][0]["instances"][0]["schema_version"] = 5
    state.write_text(json.dumps(doc))
    before = state.read_bytes()
    code, text = run(command, *(["-auto-approve"] if command == "apply" else []))
    assert code == 1, text
    assert "Error: Resource instance managed by newer provider version" in text, text
    assert "The current state of terraform_data.kept in ./vaultform.tfstate" in text
    assert "records schema version 5 of terraform_data" in text and "up to version 0" in text
    assert state.read_bytes() == before


def test_schema_versions_are_checked_only_where_they_are_terraform_s():
    # azurerm's versions are left at 0 here, while the azurerm provider terraform runs records
    # azurerm_key_vault as version 2 and a vault as version 1: such a state is read, not refused
    full = Path(__file__).parent.parent / "fixtures" / "state" / "valid" / "full" / "terraform.tfstate"
    state = decode_state(full.read_text())
    assert state.instance('module.vaults["west"].azurerm_recovery_services_vault.v').schema_version == 1
    _refuse_newer_schema_versions(state, "terraform.tfstate")


def test_state_rm_still_removes_an_object_without_id(work):
    _edit_id(work / "vaultform.tfstate", lambda attrs: attrs.update(id=None))
    code, text = run("state", "rm", "terraform_data.kept")
    assert code == 0, text
    code, text = run("plan")
    assert code == 0 and "terraform_data.kept will be created" in text, text


def test_a_named_pipe_as_state_file_is_refused_not_waited_on(work):
    state = work / "vaultform.tfstate"
    state.unlink()
    os.mkfifo(state)
    started = time.monotonic()
    code, text = run("plan")
    assert time.monotonic() - started < 10
    assert code == 1
    assert "is not a regular file" in text and "vaultform.tfstate" in text, text


# --------------------------------------------------------------------------- local Azure


def test_missing_master_key_is_found_when_the_database_is_opened(tmp_path, monkeypatch):
    monkeypatch.delenv("VAULTFORM_LOCAL_AZURE_MASTER_KEY", raising=False)
    db = tmp_path / "la.db"
    env = Emulator(db)
    from providers.azurelocal import keystore

    keystore.ensure_tables(env)
    keystore.master_sealer(env)  # creates the key file
    columns = [r[1] for r in env.store._conn().execute("PRAGMA table_info(kv_key_versions)")]
    env.store._conn().execute(
        f"INSERT INTO kv_key_versions({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        ["x"] * len(columns),
    )
    env.store.close()
    Path(f"{db}.key").unlink()
    with pytest.raises(LocalAzureUnavailable) as err:
        open_emulator(db)
    assert "master key file" in err.value.reason and "is missing" in err.value.reason


def test_database_and_every_file_beside_it_are_private(tmp_path, monkeypatch):
    monkeypatch.delenv("VAULTFORM_LOCAL_AZURE_MASTER_KEY", raising=False)
    old = os.umask(0o022)
    try:
        db = tmp_path / "la.db"
        env = Emulator(db)
        from providers.azurelocal import keystore

        keystore.master_sealer(env)
        env.store.put("test", "/x", {"v": 1})  # a write: WAL and SHM exist now
        files = [p for p in tmp_path.iterdir() if p.name.startswith("la.db")]
        assert {p.name for p in files} >= {"la.db", "la.db-wal", "la.db-shm", "la.db.key"}
        assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {
            p.name: "0o600" for p in files
        }
        env.store.close()
        db.chmod(0o644)  # a database left readable by an older version is made private when opened
        Emulator(db).store.close()
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
    finally:
        os.umask(old)


@pytest.mark.parametrize("how", ["missing", "0 bytes"])
def test_an_empty_local_azure_with_objects_in_state_is_reported_not_recreated(tmp_path, monkeypatch, how):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv("VAULTFORM_CLOUD", raising=False)
    shutil.copytree(Path(__file__).parents[2] / "examples" / "quickstart", tmp_path / "cfg")
    monkeypatch.chdir(tmp_path / "cfg")
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "first.db"))
    code, text = run("apply", "-auto-approve")
    assert code == 0, text
    state = (tmp_path / "cfg" / "vaultform.tfstate").read_bytes()
    empty = tmp_path / "empty.db"
    if how == "0 bytes":
        empty.write_bytes(b"")
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(empty))
    for command in (["plan"], ["apply", "-auto-approve"]):  # the second run too: opening it seeded it
        code, text = run(*command)
        assert code == 1, text
        assert f"The local Azure at {empty} is empty but state says 8 objects exist" in text, text
        assert "will be created" not in text and "state rm" in text
    assert (tmp_path / "cfg" / "vaultform.tfstate").read_bytes() == state

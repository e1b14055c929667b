"""The azurerm backend on a real Azurite: init, plan and apply through it, Terraform's blob names for
workspaces, the lease lock with the holder in the metadata, the lost-update guard, and no secret
written under .vaultform/."""

from __future__ import annotations

import base64
import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import AZURITE_ACCOUNT, AZURITE_KEY

from reconciler.cli.main import main
from reconciler.cli.output import Output
from state.backends.azurerm import LOCK_META, AzurermBackend
from state.errors import StateError
from state.lock import LockError
from state.model import OutputState, State

ECHO = Path(__file__).parents[1] / "fixtures" / "workspaces" / "echo"


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


def block(azurite, container: str, key: str = "prod.terraform.tfstate") -> str:
    return (
        'terraform {\n  backend "azurerm" {\n'
        f'    storage_account_name = "{AZURITE_ACCOUNT}"\n'
        f'    container_name       = "{container}"\n'
        f'    key                  = "{key}"\n'
        f'    blob_endpoint        = "{azurite.endpoint}"\n'
        "  }\n}\n"
    )


@pytest.fixture
def container(azurite, request):
    name = "c" + "".join(ch for ch in request.node.name.lower() if ch.isalnum())[:40]
    return azurite.container(name)


@pytest.fixture
def settings(azurite, container, monkeypatch):
    monkeypatch.setenv("ARM_ACCESS_KEY", AZURITE_KEY)
    monkeypatch.delenv("ARM_SAS_TOKEN", raising=False)
    monkeypatch.delenv("TF_WORKSPACE", raising=False)
    return {
        "storage_account_name": AZURITE_ACCOUNT,
        "container_name": container.container_name,
        "key": "prod.terraform.tfstate",
        "blob_endpoint": azurite.endpoint,
    }


@pytest.fixture
def work(tmp_path, azurite, settings, monkeypatch):
    work = tmp_path / "cfg"
    shutil.copytree(ECHO, work)
    (work / "backend.tf").write_text(block(azurite, settings["container_name"]))
    monkeypatch.chdir(work)
    return work


def test_plan_needs_init_and_apply_writes_the_blob(work, container):
    code, _out, err = _run("plan", "-no-color")
    assert code == 1 and 'Initial configuration of the requested backend "azurerm"' in err
    code, out, err = _run("init", "-no-color")
    assert code == 0, out + err
    assert 'Successfully configured the backend "azurerm"' in out
    code, out, err = _run("apply", "-auto-approve", "-no-color")
    assert code == 0 and "1 added" in out, out + err
    assert not (work / "vaultform.tfstate").exists()
    raw = json.loads(container.download_blob("prod.terraform.tfstate").readall())
    assert raw["version"] == 4 and raw["serial"] >= 1
    assert [r["type"] for r in raw["resources"]] == ["terraform_data"]
    props = container.get_blob_client("prod.terraform.tfstate").get_blob_properties()
    assert props.lease.state == "available" and LOCK_META not in props.metadata  # unlocked after the run
    code, out, err = _run("plan", "-detailed-exitcode", "-no-color")
    assert code == 0, out + err


def test_init_keeps_no_secret(work, monkeypatch):
    monkeypatch.delenv("ARM_ACCESS_KEY")
    code, out, err = _run("init", "-no-color", f"-backend-config=access_key={AZURITE_KEY}")
    assert code == 0, out + err
    recorded = (work / ".vaultform" / "backend.json").read_text()
    assert AZURITE_KEY not in recorded and '"container_name"' in recorded
    assert not [p for p in (work / ".vaultform").rglob("*") if p.is_file() and AZURITE_KEY in p.read_text()]
    # a later run finds the key where the user keeps it: the environment
    code, _out, err = _run("plan", "-no-color")
    assert code == 1 and "access_key" in err and "Traceback" not in err
    monkeypatch.setenv("ARM_ACCESS_KEY", AZURITE_KEY)
    code, out, err = _run("plan", "-no-color")
    assert code == 0, out + err


def test_a_sas_token_signs_in(settings, azurite, monkeypatch):
    from datetime import UTC, datetime, timedelta

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    sas = generate_container_sas(
        AZURITE_ACCOUNT,
        settings["container_name"],
        account_key=AZURITE_KEY,
        permission=ContainerSasPermissions(read=True, write=True, create=True, list=True, delete=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    monkeypatch.delenv("ARM_ACCESS_KEY")
    monkeypatch.setenv("ARM_SAS_TOKEN", sas)
    backend = AzurermBackend(settings)
    with backend.lock("test"):
        backend.read()
        assert backend.write(State.new()).serial == 1
    monkeypatch.setenv("ARM_SAS_TOKEN", "sv=2020-08-04&sig=bm90LWEtc2lnbmF0dXJl")
    with pytest.raises(StateError, match="refused the credentials"):
        AzurermBackend(settings).read()


def test_no_credentials_is_terraforms_error(settings, monkeypatch):
    monkeypatch.delenv("ARM_ACCESS_KEY")
    with pytest.raises(StateError, match="One of `access_key`, `sas_token`, `use_azuread_auth` and"):
        AzurermBackend(settings).read()


def test_a_missing_container_is_named(settings):
    backend = AzurermBackend({**settings, "container_name": "nosuchcontainer"})
    with pytest.raises(StateError, match="container 'nosuchcontainer' does not exist"):
        backend.read()


def test_workspaces_use_terraforms_blob_names(work, container):
    assert _run("init", "-no-color")[0] == 0
    assert _run("apply", "-auto-approve", "-no-color")[0] == 0
    assert _run("workspace", "new", "staging")[0] == 0
    code, out, err = _run("apply", "-auto-approve", "-no-color")
    assert code == 0 and "1 added" in out, err
    assert _run("workspace", "new", "qa")[0] == 0
    assert _run("workspace", "list") == (0, "  default\n* qa\n  staging\n\n", "")
    names = sorted(b.name for b in container.list_blobs())
    assert names == [
        "prod.terraform.tfstate",
        "prod.terraform.tfstateenv:qa",
        "prod.terraform.tfstateenv:staging",
    ]
    staging = container.download_blob("prod.terraform.tfstateenv:staging").readall().decode()
    assert '"state of staging"' in staging
    assert '"state of default"' in container.download_blob("prod.terraform.tfstate").readall().decode()
    assert _run("workspace", "select", "default")[0] == 0
    code, out, err = _run("workspace", "delete", "qa")
    assert code == 0, out + err
    assert _run("workspace", "list") == (0, "* default\n  staging\n\n", "")
    code, out, err = _run("workspace", "show")
    assert (code, out) == (0, "default\n"), err


def test_a_workspace_whose_state_is_locked_is_not_deleted(work, settings, container):
    assert _run("init", "-no-color")[0] == 0
    assert _run("workspace", "new", "qa")[0] == 0
    assert _run("workspace", "select", "default")[0] == 0
    holder = AzurermBackend(settings, workspace="qa", lease=15)
    lock = holder.lock("OperationTypeApply")
    try:  # as terraform 1.11: the deletion needs the state lock
        code, out, err = _run("workspace", "delete", "-lock-timeout=1s", "qa")
        assert (code, out) == (1, ""), err
        assert "Error: The state is locked by another run" in err and "internal error" not in err
        assert f"Lock ID: {lock.id}" in err and "waited 1s" in err
        assert "prod.terraform.tfstateenv:qa" in [b.name for b in container.list_blobs()]
    finally:
        lock.release()
        holder.close()
    code, out, err = _run("workspace", "delete", "qa")
    assert code == 0 and out.startswith('Deleted workspace "qa"!'), err
    assert [b.name for b in container.list_blobs()] == []


def test_the_lock_is_a_lease_with_the_holder_in_the_metadata(settings, container):
    first = AzurermBackend(settings, lease=15)
    lock = first.lock("apply")
    try:
        blob = container.get_blob_client(settings["key"])
        props = blob.get_blob_properties()
        assert props.lease.state == "leased" and props.lease.duration == "fixed"
        doc = json.loads(base64.b64decode(props.metadata[LOCK_META]))
        assert doc["id"] == lock.id and doc["operation"] == "apply" and doc["pid"] > 0
        second = AzurermBackend(settings, lease=15)
        with pytest.raises(LockError) as caught:
            second.lock("plan", timeout=1.0)
        assert caught.value.holder is not None and caught.value.holder.id == lock.id
        assert f"pid {lock.info.pid}" in caught.value.detail and "(apply," in caught.value.detail
        assert "waited 1s" in caught.value.detail
        # a write without the lease is refused by the storage service and names the holder
        second.read()
        with pytest.raises(StateError, match="it is locked by"):
            second.write(State.new())
    finally:
        lock.release()
    assert AzurermBackend(settings).lock_info() is None


def _with_output(state: State, value: str) -> State:
    return replace(state, outputs={"x": OutputState(value=value)})


def test_a_write_over_another_runs_write_is_refused(settings):
    mine, theirs = AzurermBackend(settings), AzurermBackend(settings)
    with mine.lock("apply"):
        mine.read()
        mine.write(State.new())
    state = mine.read()
    with theirs.lock("apply"):  # lock and unlock change the blob's ETag, not its content
        theirs.read()
    assert mine.write(_with_output(state, "mine")).serial == state.serial + 1
    state = mine.read()
    with theirs.lock("apply"):
        theirs.read()
        theirs.write(_with_output(state, "theirs"))
    with pytest.raises(StateError, match="changed since this run read it"):
        mine.write(_with_output(state, "mine again"))
    assert AzurermBackend(settings).read().outputs["x"].value == "theirs"


def _requests_made(caplog) -> list[str]:
    """Each request the SDK sent (its HTTP logging policy, at INFO), as its method and what it does:
    the lease, the metadata, or the blob itself (the policy redacts the query, not header names)."""
    made = []
    for record in caplog.records:
        text = record.getMessage()
        if "Request URL:" in text and "Request method:" in text:
            method = text.split("Request method: '", 1)[1].split("'", 1)[0]
            what = (
                "lease" if "'x-ms-lease-action'" in text else "metadata" if "'x-ms-meta-" in text else "blob"
            )
            made.append(f"{method} {what}")
    return made


def test_a_plan_reads_and_locks_with_few_round_trips(settings, caplog):
    """What a plan does (stamp, read, lock, lineage check, stamp again, unlock): one download gives the
    state and its ETag, the lease's answer shows the blob unchanged, and while the lease is held the
    stored ETag is known without asking."""
    import logging

    seed = AzurermBackend(settings)
    with seed.lock("apply"):
        seed.read()
        seed.write(_with_output(State.new(), "stored"))
    backend = AzurermBackend(settings)
    backend._container()  # the client's own set-up is not a request
    caplog.set_level(logging.INFO, logger="azure.core.pipeline.policies.http_logging_policy")
    stamp = backend.stamp()
    state = backend.read()
    assert state is not None and state.outputs["x"].value == "stored"
    lock = backend.lock("plan")
    assert backend.stored_lineage() == state.lineage
    assert backend.stamp() == stamp  # our own lock changed the ETag, not the content
    lock.release()
    assert _requests_made(caplog) == [
        "GET blob",  # the download (stamp and read)
        "PUT lease",  # acquire
        "PUT metadata",  # the lock information
        "PUT blob",  # its metadata cleared (no x-ms-meta- header is left to send)
        "PUT lease",  # release
    ]


def test_a_write_between_the_stamp_and_the_lock_is_noticed(settings):
    seed = AzurermBackend(settings)
    with seed.lock("apply"):
        seed.read()
        seed.write(_with_output(State.new(), "first"))
    mine = AzurermBackend(settings)
    stamp = mine.stamp()
    state = mine.read()
    theirs = AzurermBackend(settings)
    with theirs.lock("apply"):
        theirs.write(_with_output(theirs.read() or State.new(), "second"))
    with mine.lock("plan"):
        assert mine.stamp() != stamp  # reload_state_if_changed reads it again
        assert mine.read().outputs["x"].value == "second"
        assert mine.write(_with_output(state, "mine")).outputs["x"].value == "mine"
    assert AzurermBackend(settings).read().outputs["x"].value == "mine"


def test_a_missing_blob_and_the_empty_one_the_lock_makes_stamp_alike(settings):
    backend = AzurermBackend(settings)
    stamp = backend.stamp()
    assert backend.read() is None
    with backend.lock("plan"):
        assert backend.stamp() == stamp
        assert backend.write(State.new()).serial == 1

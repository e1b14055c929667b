"""Runs at once on one azurerm state (Azurite): eight applies lose nothing; a second apply fails naming
the holder; a SIGKILLed holder's lock is taken over (at once on its own host, when its lease runs out
elsewhere) or removed with force-unlock, and the state stays intact."""

from __future__ import annotations

import base64
import io
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from azure.storage.blob import BlobLeaseClient, ContentSettings
from conftest import AZURITE_ACCOUNT, AZURITE_KEY

from providers.azurelocal.app import Emulator
from providers.azurelocal.store import Kind
from reconciler.cli.main import main
from reconciler.cli.output import Output
from state.backends.azurerm import LOCK_META, AzurermBackend, encode_lock_info
from state.lock import LockInfo

FIXTURES = Path(__file__).parents[1] / "fixtures"
CHILD = [sys.executable, "-c", "import sys; from reconciler.cli.main import main; sys.exit(main())"]
KEY = "team.tfstate"
LEASE = 15  # Azure's shortest lease, so a lost holder's lock ends soon


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def estate(tmp_path, monkeypatch, azurite, request):
    """The slow identities configuration with a backend "azurerm" block on Azurite, initialised."""
    name = "l" + "".join(ch for ch in request.node.name.lower() if ch.isalnum())[:40]
    container = azurite.container(name)
    work = tmp_path / "cfg"
    shutil.copytree(FIXTURES / "crash" / "identities", work)
    (work / "backend.tf").write_text(
        'terraform {\n  backend "azurerm" {\n'
        f'    storage_account_name = "{AZURITE_ACCOUNT}"\n    container_name = "{name}"\n'
        f'    key = "{KEY}"\n    blob_endpoint = "{azurite.endpoint}"\n  }}\n}}\n'
    )
    db = tmp_path / "az.db"
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(db))
    monkeypatch.setenv("ARM_ACCESS_KEY", AZURITE_KEY)
    monkeypatch.setenv("VAULTFORM_LEASE_SECONDS", str(LEASE))
    monkeypatch.delenv("TF_WORKSPACE", raising=False)
    emulator = Emulator(db)
    emulator.configure_faults(latency_ms=150)
    emulator.store.close()
    code, out, err = _run("init", "-no-color", str(work))
    assert code == 0, out + err
    settings = {
        "storage_account_name": AZURITE_ACCOUNT,
        "container_name": name,
        "key": KEY,
        "blob_endpoint": azurite.endpoint,
    }
    return work, settings, container


def _stored(settings):
    return AzurermBackend(settings).read()


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        CHILD + args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
    )


def _wait_for(child: subprocess.Popen, text: str) -> str:
    seen = []
    for line in child.stdout:
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise AssertionError(
        f"the child ended without printing {text!r}:\n{''.join(seen)}\n{child.stderr.read()}"
    )


def _identities(settings) -> list[str]:
    return [a for a in _stored(settings).addresses() if a.startswith("azurerm_user_assigned_identity")]


def test_eight_applies_at_once_lose_nothing(estate):
    work, settings, _container = estate
    children = [
        _start(["apply", "-auto-approve", "-no-color", "-lock-timeout=300s", str(work)]) for _ in range(8)
    ]
    results = [(c, *c.communicate(timeout=600)) for c in children]
    for child, out, err in results:
        assert child.returncode == 0, out + err
    created = [out for _c, out, _e in results if "11 added" in out]  # the group, 8 identities, 2 markers
    assert len(created) == 1, [r[1][-300:] for r in results]
    assert all("No changes" in out for _c, out, _e in results if "11 added" not in out)
    assert len(_identities(settings)) == 8
    code, out, err = _run("plan", "-detailed-exitcode", "-no-color", str(work))
    assert code == 0, out + err


def test_eight_applies_without_waiting_fail_naming_the_holder(estate):
    work, settings, _container = estate
    children = [_start(["apply", "-auto-approve", "-no-color", str(work)]) for _ in range(8)]
    results = [(c, *c.communicate(timeout=600)) for c in children]
    winners = [out for c, out, _e in results if c.returncode == 0]
    losers = [err for c, _o, err in results if c.returncode != 0]
    assert len(winners) >= 1 and "11 added" in "".join(winners)
    for err in losers:
        assert "The state is locked by another run" in err, err
        assert "(apply, since" in err and " on " in err and "Lock ID:" in err
    assert len(_identities(settings)) == 8  # the winner's work, intact


def test_a_second_apply_fails_naming_the_holder(estate):
    work, _settings, _container = estate
    first = _start(["apply", "-auto-approve", "-no-color", "-parallelism=1", str(work)])
    try:
        _wait_for(first, "Creating...")
        code, out, err = _run("apply", "-auto-approve", "-no-color", str(work))
        assert first.poll() is None, "the holder ended too early for this test"
        assert code == 1, out + err
        assert "The state is locked by another run" in err
        assert f"pid {first.pid}" in err and "(apply," in err and f"{LEASE}s blob lease" in err
    finally:
        first.communicate(timeout=300)
    assert first.returncode == 0


def test_the_holder_renews_its_lease_while_it_lives(estate):
    work, settings, container = estate
    emulator = Emulator(Path(os.environ["VAULTFORM_LOCAL_AZURE"]))
    emulator.configure_faults(latency_ms=1000)  # an apply longer than two leases
    emulator.store.close()
    first = _start(["apply", "-auto-approve", "-no-color", "-parallelism=1", str(work)])
    try:
        _wait_for(first, "Creating...")
        started = time.monotonic()
        time.sleep(LEASE + 3)  # longer than one lease: only a renewal keeps it
        assert first.poll() is None, "the holder ended too early for this test"
        props = container.get_blob_client(KEY).get_blob_properties()
        assert props.lease.state == "leased", f"the lease ended after {time.monotonic() - started:.0f}s"
        holder = AzurermBackend(settings).lock_info()
        assert holder is not None and holder.pid == first.pid
    finally:
        first.communicate(timeout=300)
    assert first.returncode == 0


KEY_VAULT = """
data "azurerm_client_config" "current" {}

resource "azurerm_key_vault" "stall" {
  name                = "kv-stall"
  location            = azurerm_resource_group.lock.location
  resource_group_name = azurerm_resource_group.lock.name
  tenant_id           = data.azurerm_client_config.current.tenant_id
  sku_name            = "standard"
}
"""


def _key_vaults_in_cloud() -> int:
    emulator = Emulator(Path(os.environ["VAULTFORM_LOCAL_AZURE"]))
    try:
        return sum(1 for o in emulator.store.list(Kind.KEY_VAULT) if "/rg-lock/" in o["id"].lower())
    finally:
        emulator.store.close()


def test_a_run_that_stalled_past_its_lease_sends_nothing_more(estate):
    """A holder that stalls in the middle of creating a key vault (a paused container, a laptop
    asleep) - after its look for a soft-deleted one, before its PUT - longer than its renewals allow,
    while another run breaks and takes the lease: on waking it sends no PUT, nor any other call, and
    says it lost the lock. Sent, the stale PUT would replace what the other run made of the key
    vault (its access policies)."""
    work, settings, container = estate
    (work / "main.tf").write_text(
        'resource "azurerm_resource_group" "lock" {\n  name     = "rg-lock"\n  location = "westeurope"\n}\n'
        + KEY_VAULT
    )
    emulator = Emulator(Path(os.environ["VAULTFORM_LOCAL_AZURE"]))
    emulator.configure_faults(latency_ms=1500)
    emulator.store.close()
    first = _start(["apply", "-auto-approve", "-no-color", "-parallelism=1", str(work)])
    try:
        seen = _wait_for(first, "azurerm_key_vault.stall: Creating...")
        time.sleep(0.5)  # its look for a soft-deleted key vault of the name takes 1.5 s
        os.kill(first.pid, signal.SIGSTOP)
        blob = container.get_blob_client(KEY)
        BlobLeaseClient(blob).break_lease(lease_break_period=0)
        other = blob.acquire_lease(lease_duration=LEASE)  # another run's lock ...
        other.release()  # ... which it has finished with
        time.sleep(LEASE / 3 * 1.5 + 1)  # past the renewals' rhythm
    finally:
        os.kill(first.pid, signal.SIGCONT)
        out, err = first.communicate(timeout=300)
    assert first.returncode == 1, seen + out + err
    assert "this run lost the state lock" in out + err, seen + out + err
    assert "is no longer surely its own" in out + err, seen + out + err  # why the step failed
    assert _key_vaults_in_cloud() == 0, seen + out + err


def test_a_killed_holders_lock_is_taken_over_and_the_state_is_intact(estate):
    work, settings, _container = estate
    first = _start(["apply", "-auto-approve", "-no-color", "-parallelism=1", str(work)])
    _wait_for(first, "Creation complete")
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=60)
    code, out, err = _run("apply", "-auto-approve", "-no-color", str(work))
    assert code == 0, out + err
    assert f"process {first.pid} on" in out + err and "broke its lease" in out + err
    code, out, err = _run("plan", "-detailed-exitcode", "-no-color", str(work))
    assert code == 0, out + err
    assert len(_identities(settings)) == 8


def _lease_as_another_host(settings, container, pid: int = 4242) -> LockInfo:
    """A lock taken by a run on another machine that then vanished: its lease is never renewed."""
    blob = container.get_blob_client(KEY)
    if not blob.exists():
        blob.upload_blob(b"")
    lock_id = str(uuid.uuid4())
    lease = blob.acquire_lease(lease_duration=LEASE, lease_id=lock_id)
    info = LockInfo(
        id=lock_id,
        who="runner@ci-runner-7",
        operation="apply",
        created=datetime.now(UTC),
        pid=pid,
        host="ci-runner-7",
        version="0.1.0",
        path=KEY,
    )
    metadata = dict(blob.get_blob_properties().metadata or {})
    metadata[LOCK_META] = encode_lock_info(info)
    blob.set_blob_metadata(metadata, lease=lease)
    return info


def test_a_lost_remote_holders_lock_ends_with_its_lease(estate):
    work, settings, container = estate
    assert _run("apply", "-auto-approve", "-no-color", str(work))[0] == 0
    holder = _lease_as_another_host(settings, container)
    code, _out, err = _run("apply", "-auto-approve", "-no-color", str(work))
    assert code == 1 and "runner@ci-runner-7 (apply," in err and "pid 4242 on ci-runner-7" in err, err
    assert f"vaultform force-unlock {work} {holder.id}" in err
    started = time.monotonic()
    code, out, err = _run("apply", "-auto-approve", "-no-color", "-lock-timeout=60s", str(work))
    waited = time.monotonic() - started
    assert code == 0, out + err
    assert "its lease ran out" in out + err and "runner@ci-runner-7" in out + err
    assert 5 < waited < LEASE + 15, waited
    assert len(_identities(settings)) == 8


def test_force_unlock_breaks_a_remote_holders_lease(estate):
    work, settings, container = estate
    assert _run("apply", "-auto-approve", "-no-color", str(work))[0] == 0
    holder = _lease_as_another_host(settings, container)
    code, _out, err = _run("force-unlock", "-force", "-no-color", str(work), "not-the-id")
    assert code == 1 and "does not match" in err, err
    code, out, err = _run("force-unlock", "-force", "-no-color", str(work), holder.id)
    assert code == 0, out + err
    assert "successfully unlocked" in out and "ci-runner-7" in out
    props = container.get_blob_client(KEY).get_blob_properties()
    assert props.lease.state in ("available", "broken") and LOCK_META not in props.metadata
    started = time.monotonic()
    code, out, err = _run("apply", "-auto-approve", "-no-color", str(work))
    assert code == 0 and time.monotonic() - started < LEASE, out + err
    assert len(_identities(settings)) == 8


def test_force_unlock_refuses_a_live_holder_on_this_host(estate):
    work, settings, _container = estate
    first = _start(["apply", "-auto-approve", "-no-color", "-parallelism=1", str(work)])
    try:
        _wait_for(first, "Creating...")
        holder = AzurermBackend(settings).lock_info()
        assert holder is not None and holder.pid == first.pid
        code, _out, err = _run("force-unlock", "-force", "-no-color", str(work), holder.id)
        assert code == 1 and "held by a running process" in err, err
    finally:
        first.communicate(timeout=300)
    assert first.returncode == 0


def test_lock_information_is_base64_json(estate):
    _work, settings, container = estate
    backend = AzurermBackend(settings)
    with backend.lock("plan") as lock:
        raw = container.get_blob_client(KEY).get_blob_properties().metadata[LOCK_META]
        assert LockInfo.from_json(base64.b64decode(raw).decode()) == lock.info


def _lease_as_terraform(container) -> str:
    """Lock the state as terraform 1.11's azurerm backend does (client.go Lock): an infinite lease whose
    id is the lock id, and its statemgr.LockInfo as Go marshals it, base64, in the metadata."""
    lock_id = str(uuid.uuid4())
    blob = container.get_blob_client(KEY)
    if not blob.exists():  # terraform locks a missing state by creating it empty first
        blob.upload_blob(b"", content_settings=ContentSettings(content_type="application/json"))
    lease = blob.acquire_lease(lease_duration=-1, lease_id=lock_id)
    info = (
        f'{{"ID":"{lock_id}","Operation":"OperationTypeApply","Info":"","Who":"ci@otherhost",'
        f'"Version":"1.11.4","Created":"2026-03-04T05:06:07.123456789Z",'
        f'"Path":"{container.container_name}/{KEY}"}}'
    )
    metadata = dict(blob.get_blob_properties().metadata or {})
    metadata[LOCK_META] = base64.b64encode(info.encode()).decode()
    blob.set_blob_metadata(metadata, lease=lease)
    return lock_id


def test_a_lock_terraform_holds_is_described_as_terraforms_and_force_unlocked(estate):
    work, _settings, container = estate
    lock_id = _lease_as_terraform(container)
    code, _out, err = _run("plan", "-no-color", "-lock-timeout=1s", str(work))
    assert code == 1, err
    assert "locked by a terraform run" in err, err
    for line in (
        f"ID:        {lock_id}",
        f"Path:      {container.container_name}/{KEY}",
        "Operation: OperationTypeApply",
        "Who:       ci@otherhost",
        "Version:   1.11.4",
        "Created:   2026-03-04T05:06:07Z",
    ):
        assert line in err, err
    assert "does not expire on its own" in err
    assert f"vaultform force-unlock {work} {lock_id}" in err
    assert "pid 0" not in err and "ends by itself" not in err
    code, out, err = _run("force-unlock", "-force", "-no-color", str(work), lock_id)
    assert code == 0, out + err
    assert "successfully unlocked" in out and "ci@otherhost" in out and "pid 0" not in out
    props = container.get_blob_client(KEY).get_blob_properties()
    assert props.lease.state in ("available", "broken") and LOCK_META not in props.metadata
    code, out, err = _run("plan", "-no-color", str(work))
    assert code == 0, out + err

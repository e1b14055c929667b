"""The global `-chdir=DIR` option, and hints when a state command is given a directory.

`output`, `state ...` and `force-unlock` read the working directory's state, as Terraform's do;
`vaultform -chdir=DIR COMMAND` runs the command in DIR, so after `vaultform apply DIR` its
outputs and state are one option away.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from reconciler.plan.planfile_crypto import KEY_ENV
from state.format import decode_state
from state.lock import LockInfo

ROOT = Path(__file__).parent.parent.parent
BASIC = Path(__file__).parent.parent / "fixtures" / "cli_state" / "basic"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    """A state directory next to (not under) the working directory."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(KEY_ENV, raising=False)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    shutil.copytree(BASIC, tmp_path / "cfg")
    return tmp_path / "cfg"


def test_apply_then_output_and_state_list_with_chdir(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "examples" / "quickstart", tmp_path / "quickstart")
    code, out, err = run("apply", "quickstart", "-auto-approve")
    assert code == 0, out + err

    code, out, err = run("-chdir=quickstart", "output")
    assert code == 0, err
    assert "No outputs found" not in out + err
    assert 'vault_id = "/subscriptions/' in out
    code, out, _ = run("-chdir=quickstart", "output", "-raw", "vault_id")
    assert code == 0 and out.startswith("/subscriptions/") and out.endswith("/vaults/rsv-vfqs")

    code, out, err = run("-chdir=quickstart", "state", "list")
    assert code == 0, err
    assert "azurerm_recovery_services_vault.vault" in out.split()
    assert os.getcwd() == str(tmp_path)


@pytest.mark.parametrize("argv", [("output",), ("state", "list")])
def test_a_directory_given_as_argument_gets_a_hint(work, argv):
    code, out, err = run(*argv, str(work))
    assert code == 1
    assert f"{work} is a directory; use -chdir=DIR or -state DIR/vaultform.tfstate" in err
    assert f"-chdir={work}" in err and str(work / "vaultform.tfstate") in err
    assert out == ""


def test_output_without_state_says_where_it_looked(work):
    code, _, err = run("output")
    assert code == 0
    assert "No outputs found" in err and "no state at ./vaultform.tfstate" in err and "-chdir=DIR" in err


def test_addresses_still_filter_state_list(work):
    code, out, _ = run("-chdir=" + str(work), "state", "list", "azurerm_user_assigned_identity.id")
    assert code == 0
    assert out.split() == ["azurerm_user_assigned_identity.id[0]", "azurerm_user_assigned_identity.id[1]"]


def test_state_commands_read_and_write_the_state_of_chdir(work, tmp_path):
    chdir = f"-chdir={work}"
    assert run(chdir, "state", "list")[1] == (BASIC / "list.txt").read_text()
    code, out, _ = run(chdir, "state", "show", "azurerm_resource_group.rg")
    assert code == 0 and "azurerm_resource_group" in out
    code, out, _ = run(chdir, "state", "pull")
    assert code == 0 and decode_state(out.encode()).instance("azurerm_resource_group.rg") is not None

    assert run(chdir, "state", "mv", "terraform_data.secret", "terraform_data.moved")[0] == 0
    assert run(chdir, "state", "rm", "azurerm_resource_group.rg")[0] == 0
    state = decode_state((work / "vaultform.tfstate").read_bytes())
    assert state.instance("terraform_data.moved") is not None
    assert state.instance("azurerm_resource_group.rg") is None
    assert not (tmp_path / "elsewhere" / "vaultform.tfstate").exists()

    # a relative -state is relative to the -chdir directory, as in Terraform
    shutil.copy(BASIC / "vaultform.tfstate", work / "original.tfstate")
    code, _, err = run(chdir, "state", "push", "-force", "original.tfstate")
    assert code == 0, err
    assert decode_state((work / "vaultform.tfstate").read_bytes()).instance("azurerm_resource_group.rg")


def test_force_unlock_removes_the_lock_in_chdir(work):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    info = LockInfo(
        id="0123-stale",
        who="someone@host",
        operation="apply",
        created=datetime.now(UTC),
        pid=child.pid,
        host=socket.gethostname(),
        version="0",
        path="vaultform.tfstate",
    )
    (work / "vaultform.tfstate.lock").write_text(info.to_json())

    code, _, err = run("force-unlock", "-force", "0123-stale")
    assert code == 1 and "not locked" in err  # the working directory has no lock
    code, out, err = run(f"-chdir={work}", "force-unlock", "-force", "0123-stale")
    assert code == 0, err
    assert "successfully unlocked" in out
    assert not (work / "vaultform.tfstate.lock").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (("-chdir",), "-chdir needs a directory, written as -chdir=DIR"),
        (("-chdir", "output"), "Invalid -chdir option: cannot change to output"),  # DIR, then no command
        (("-chdir=", "output"), "-chdir needs a directory"),
        (("-chdir=does-not-exist", "output"), "Invalid -chdir option: cannot change to does-not-exist"),
    ],
)
def test_chdir_mistakes(work, argv, message):
    before = os.getcwd()
    code, _, err = run(*argv)
    assert code == 1 and message in err and "Traceback" not in err
    assert os.getcwd() == before


def test_cwd_is_restored_after_a_failing_command(work):
    before = os.getcwd()
    code, _, _ = run(f"-chdir={work}", "state", "show", "nothing.here")
    assert code == 1
    assert os.getcwd() == before


def test_force_unlock_takes_one_lock_id(work):
    code, _, err = run("force-unlock", "-force", str(work), "0123", "4567")
    assert code == 1
    assert (
        "force-unlock takes one LOCK_ID" in err
        and "usage: vaultform force-unlock [options] [DIR] LOCK_ID" in err
    )
    code, _, err = run("force-unlock", "-force", str(work), "0123")
    assert code == 1 and f"{work}/vaultform.tfstate is not locked" in err

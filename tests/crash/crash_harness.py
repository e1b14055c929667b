"""Helpers of the crash-safety tests: run vaultform as a child, kill it at a moment,
and compare the local Azure with the state.

A kill moment is "right after the child printed its N-th progress line" (an
operation starting or completing) plus a few milliseconds, so kills land while
requests are in flight, between a request and its result being written, and in
the middle of state writes.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from providers.azurelocal import keystore
from providers.azurelocal.app import Emulator
from providers.azurelocal.store import Kind
from reconciler.cli.main import main
from reconciler.cli.output import Output
from state.backends.local import LocalBackend
from state.model import State

PROGRESS = re.compile(
    r"^\S+: (Creating|Destroying|Modifying|Creation complete|Destruction complete|"
    r"Modifications complete|Reading|Read complete)"
)
CLOUD_KINDS = (
    Kind.RESOURCE_GROUP,
    Kind.IDENTITY,
    Kind.KEY_VAULT,
    Kind.ROLE_ASSIGNMENT,
    Kind.RS_VAULT,
    Kind.BACKUP_POLICY,
)
CHILD = [sys.executable, "-c", "import sys; from reconciler.cli.main import main; sys.exit(main())"]


@dataclass(frozen=True)
class Killed:
    pid: int
    progress_lines: int  # progress lines seen before the kill
    finished: bool  # the child ended on its own before the moment came


def run_and_kill(
    args: list[str], env: dict[str, str], after_lines: int, extra_delay: float, timeout: float = 120.0
) -> Killed:
    """Start ``vaultform args`` and SIGKILL it after ``after_lines`` progress lines."""
    child = subprocess.Popen(
        CHILD + args,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**env, "PYTHONUNBUFFERED": "1"},
        text=True,
    )
    seen = 0
    deadline = time.monotonic() + timeout
    try:
        for line in child.stdout:
            if PROGRESS.match(line):
                seen += 1
                if seen >= after_lines:
                    if extra_delay:
                        time.sleep(extra_delay)
                    child.send_signal(signal.SIGKILL)
                    break
            if time.monotonic() > deadline:
                child.send_signal(signal.SIGKILL)
                break
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
    return Killed(child.pid, seen, finished=child.returncode != -signal.SIGKILL)


def vaultform(*args: str) -> tuple[int, str, str]:
    """Run the CLI in this process (faster than a child); returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


def state_ids(state: State) -> list[str]:
    """Every cloud object id the state records (keys as their versionless id)."""
    ids = []
    for _addr, res, inst in state.instances():
        if res.mode.value != "managed" or res.type == "terraform_data" or not inst.attributes:
            continue
        id_ = inst.attributes.get("id")
        if res.type == "azurerm_key_vault_key":
            id_ = inst.attributes.get("versionless_id") or id_.rsplit("/", 1)[0]
        ids.append(id_.lower())
    return ids


def cloud_ids(db: Path, marker: str) -> tuple[list[str], dict[str, int]]:
    """Ids of the objects in the local Azure whose id contains ``marker``, and the number
    of versions of every key in those key vaults (a second create makes a second version)."""
    env = Emulator(db)
    try:
        ids = [
            o["id"].lower() for kind in CLOUD_KINDS for o in env.store.list(kind) if marker in o["id"].lower()
        ]
        versions: dict[str, int] = {}
        for vault in env.store.list(Kind.KEY_VAULT):
            if marker not in vault["id"].lower():
                continue
            for info in keystore.list_keys(env, vault["name"]):
                versions[info.versionless_id.lower()] = len(
                    keystore.list_versions(env, vault["name"], info.name)
                )
        return ids + list(versions), versions
    finally:
        env.store.close()


def read_state(path: Path) -> State:
    """The state file as the next run reads it (raises when it doesn't parse)."""
    return LocalBackend(path).read() or State.new()


def lock_holder_pid(path: Path) -> int | None:
    info = LocalBackend(path).lock_info()
    return None if info is None else info.pid


def clean_env(db: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["VAULTFORM_LOCAL_AZURE"] = str(db)
    env.pop("VAULTFORM_CLOUD", None)
    return env

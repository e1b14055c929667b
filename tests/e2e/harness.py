"""Drive the `vaultform` CLI in-process against a private local Azure, and look at what it left behind.

A ``Workspace`` is one temporary directory holding a copy of a configuration (so no state file lands
in the repository) and its own local Azure database (so tests never see each other's vaults). It
runs commands through ``reconciler.cli.main.main`` and captures their output, and it can take a
``Snapshot`` - the state file's bytes, the local Azure's activity log and inventory - to prove that a
refused plan or apply changed nothing.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from reconciler.cli.main import main
from reconciler.cli.output import Output

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
STATE_FILE = "vaultform.tfstate"
DB_ENV = "VAULTFORM_LOCAL_AZURE"

# The progress lines an apply prints when a step finishes, e.g.
#   azurerm_key_vault.cmk: Creation complete after 0s [id=...]
#   azurerm_recovery_services_vault.vault: Key assignment complete after 0s
COMPLETE_LINE = re.compile(r"^(?P<address>[\w.\[\]\"-]+): (?P<what>[A-Z][a-z]+(?: [a-z]+)*) complete after ")


@dataclass(frozen=True)
class Run:
    """One command's exit code and output."""

    argv: tuple[str, ...]
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def explain(self) -> str:
        return f"$ vaultform {' '.join(self.argv)}\nexit {self.code}\n{self.text}"

    def completed(self) -> list[tuple[str, str]]:
        """(address, what) for every 'X complete after' line, in the order printed."""
        found = []
        for line in self.out.splitlines():
            m = COMPLETE_LINE.match(line.strip())
            if m:
                found.append((m.group("address"), m.group("what")))
        return found

    def position(self, address: str, what: str | None = None) -> int:
        """Where ``address`` (optionally with ``what``, e.g. 'Key assignment') finished in this apply."""
        for i, (addr, done) in enumerate(self.completed()):
            if addr == address and (what is None or done == what):
                return i
        raise AssertionError(f"{address} ({what or 'any step'}) did not complete:\n{self.explain()}")


# Actions that only read: Azure's activity log records every POST, these too (a plan asks Backup
# Status whether a VM is protected elsewhere), but they change nothing.
READ_ACTIONS = frozenset({"Microsoft.RecoveryServices/locations/backupStatus/action"})


@dataclass(frozen=True)
class Snapshot:
    """What a refused command must leave untouched."""

    state: bytes | None
    activity: tuple[tuple[str, str, str], ...]
    inventory: str


class Workspace:
    """A configuration copied into a temporary directory, with its own local Azure."""

    def __init__(self, root: Path, source: Path | None = None, name: str = "config") -> None:
        self.root = root
        self.db = root / "local-azure.db"
        self.dir = root / name
        if source is not None:
            shutil.copytree(source, self.dir, ignore=shutil.ignore_patterns(STATE_FILE + "*", ".terraform*"))
        else:
            self.dir.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ running commands

    @contextmanager
    def _cloud_env(self):
        saved = os.environ.get(DB_ENV)
        os.environ[DB_ENV] = str(self.db)
        try:
            yield
        finally:
            if saved is None:
                os.environ.pop(DB_ENV, None)
            else:
                os.environ[DB_ENV] = saved

    def run(self, *argv: str) -> Run:
        """``vaultform ARGV...`` with this workspace's local Azure; output captured."""
        out, err = io.StringIO(), io.StringIO()
        with self._cloud_env():
            code = main(list(argv), output=Output(out=out, err=err, no_color=True))
        return Run(tuple(argv), code, out.getvalue(), err.getvalue())

    def vf(self, command: str, *args: str) -> Run:
        """A configuration command (plan, apply, destroy, validate) on this workspace's directory."""
        return self.run(command, str(self.dir), "-no-color", *args)

    def cloud(self, *args: str) -> Run:
        return self.run("cloud", *args)

    def ok(self, command: str, *args: str, code: int = 0) -> Run:
        """Run a configuration command and insist on its exit code."""
        result = self.vf(command, *args)
        assert result.code == code, result.explain()
        assert "Traceback" not in result.text and "internal error" not in result.text, result.explain()
        return result

    def cloud_ok(self, *args: str, code: int = 0) -> Run:
        result = self.cloud(*args)
        assert result.code == code, result.explain()
        return result

    # ------------------------------------------------------------------ looking at what is there

    @property
    def state_path(self) -> Path:
        return self.dir / STATE_FILE

    def state(self) -> dict:
        return json.loads(self.state_path.read_text())

    def state_addresses(self) -> set[str]:
        out = set()
        for res in self.state().get("resources", []):
            if res.get("mode", "managed") != "managed":
                continue
            for inst in res.get("instances", []):
                key = inst.get("index_key")
                suffix = "" if key is None else (f"[{key}]" if isinstance(key, int) else f'["{key}"]')
                module = f"{res['module']}." if res.get("module") else ""
                out.add(f"{module}{res['type']}.{res['name']}{suffix}")
        return out

    def activity(self) -> list[dict]:
        return json.loads(self.cloud_ok("show", "activity", "-json").out)

    def inventory(self) -> dict:
        return json.loads(self.cloud_ok("show", "inventory", "-json").out)

    def names(self, kind: str) -> set[str]:
        """Names of the local Azure's objects of one inventory kind (e.g. 'rsvault', 'keyvault')."""
        return {doc["name"] for doc in self.inventory().get(kind, [])}

    def snapshot(self) -> Snapshot:
        state = self.state_path.read_bytes() if self.state_path.exists() else None
        activity = tuple(
            (r["operation"], r["resource_id"], r["status"])
            for r in self.activity()
            if r["operation"] not in READ_ACTIONS
        )
        inventory = json.dumps(self.inventory(), sort_keys=True)
        return Snapshot(state, activity, inventory)

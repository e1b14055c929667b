"""Estates for drift and audit tests: small .tf fixtures applied once through the CLI on a
local Azure, then copied (database, master key and configuration directories with their
state) for every test, so each test changes its own world.

``world`` gives a ``World``: ``run("drift {dir} -json", estate="system-identity")`` runs the
vaultform CLI in process and returns (exit code, stdout, stderr); placeholders such as
``{key_id}`` are filled from that estate's state.
"""

from __future__ import annotations

import io
import json
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output

FIXTURES = Path(__file__).parent.parent / "fixtures" / "drift"
ESTATES = FIXTURES / "estates"
BASE_ESTATES = ("system-identity", "user-identity")


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


@dataclass
class World:
    root: Path

    @property
    def db(self) -> Path:
        return self.root / "azure.db"

    def dir(self, estate: str) -> Path:
        return self.root / estate

    def state(self, estate: str) -> dict[str, dict]:
        """instance address -> attributes recorded in the estate's state."""
        path = self.dir(estate) / "vaultform.tfstate"
        if not path.exists():
            return {}
        doc = json.loads(path.read_text())
        out = {}
        for r in doc["resources"]:
            if r.get("mode", "managed") != "managed":
                continue
            for inst in r["instances"]:
                out[f"{r['type']}.{r['name']}"] = inst["attributes"]
        return out

    def placeholders(self, estate: str) -> dict[str, str]:
        s = self.state(estate)
        values = {"dir": str(self.dir(estate))}
        key = s.get("azurerm_key_vault_key.cmk")
        if key:
            values["key_id"] = key["id"]
        rsv = s.get("azurerm_recovery_services_vault.rsv")
        if rsv and rsv.get("identity"):
            values["principal"] = rsv["identity"][0].get("principal_id") or ""
        role = s.get("azurerm_role_assignment.backup")
        if role:
            values["role_assignment"] = role["id"]
        return values

    def run(self, command: str, estate: str = "system-identity") -> tuple[int, str, str]:
        return run_cli(shlex.split(command.format(**self.placeholders(estate))))

    def ok(self, command: str, estate: str = "system-identity") -> str:
        code, out, err = self.run(command, estate)
        assert code == 0, f"{command} -> {code}\n{out}\n{err}"
        return out

    def key_client(self, vault_name: str):
        """An azure-keyvault-keys KeyClient on this world's local Azure, acting as the deployer."""
        from azure.keyvault.keys import KeyClient

        from providers.azurelocal.app import Emulator
        from providers.azurelocal.credential import LocalCredential
        from providers.azurelocal.transport import local_transport

        env = Emulator(self.db)
        return KeyClient(
            f"https://{vault_name}.vault.azure.net/", LocalCredential(), transport=local_transport(env)
        )

    def drift(self, estate: str) -> tuple[int, dict]:
        code, out, err = self.run("drift {dir} -json", estate)
        assert code in (0, 2), f"drift failed ({code}):\n{out}\n{err}"
        return code, json.loads(out)


@pytest.fixture
def cli():
    """``cli(argv)`` -> (exit code, stdout, stderr) of the vaultform CLI run in process."""
    return run_cli


@pytest.fixture(scope="session")
def base_world(tmp_path_factory):
    root = tmp_path_factory.mktemp("drift-base")
    mp = pytest.MonkeyPatch()
    mp.setenv("VAULTFORM_LOCAL_AZURE", str(root / "azure.db"))
    try:
        for estate in BASE_ESTATES:
            shutil.copytree(ESTATES / estate, root / estate)
            code, out, err = run_cli(["apply", str(root / estate), "-auto-approve"])
            assert code == 0, f"{estate} did not apply:\n{out}\n{err}"
    finally:
        mp.undo()
    return root


@pytest.fixture
def world(base_world, tmp_path, monkeypatch):
    root = tmp_path / "world"
    shutil.copytree(base_world, root)
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(root / "azure.db"))
    return World(root)


@pytest.fixture
def with_stray(world):
    """The world plus an unmanaged vault without CMK in the system-identity estate's resource group."""
    shutil.copytree(ESTATES / "stray", world.root / "stray")
    world.ok("apply {dir} -auto-approve", "stray")
    return world

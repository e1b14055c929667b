"""Scenario fixtures for `vaultform cloud`: tests/fixtures/cloud_cli/<case>/steps.txt (see its README)."""

from __future__ import annotations

import io
import shlex
from pathlib import Path

import pytest

from providers.azurelocal import crypto, keystore
from providers.azurelocal.store import Kind
from reconciler.cli.main import main
from reconciler.cli.output import Output
from tests.azurelocal.kvhelpers import make_cmk_vault

CASES = Path(__file__).resolve().parents[1] / "fixtures" / "cloud_cli"


def _cases() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if (p / "steps.txt").is_file())


def _newest_rp(env) -> str:
    rps = sorted(
        env.store.list(Kind.RECOVERY_POINT), key=lambda r: (r["properties"]["recoveryPointTime"], r["id"])
    )
    return rps[-1]["id"] if rps else "<none>"


def _tamper(env, rp_id: str) -> None:
    rp = env.store.get(Kind.RECOVERY_POINT, rp_id)
    envelope = rp["_emulator"]["disks"][0]["envelope"]
    raw = bytearray(crypto.b64url_decode(envelope["ciphertext"]))
    raw[len(raw) // 2] ^= 0x40
    envelope["ciphertext"] = crypto.b64url_encode(bytes(raw))
    env.store.put(Kind.RECOVERY_POINT, rp_id, rp)


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.name)
def test_cloud_cli_scenario(case, env, keyvault_mgmt, resource_client, rs_client, key_client):
    made = make_cmk_vault(env, keyvault_mgmt, resource_client, rs_client, key_client)

    def fill(text: str) -> str:
        latest = keystore.latest_version(env, "kv-backup", "cmk")
        return (
            text.replace("{key_id}", made.key.id)
            .replace("{versionless_id}", made.versionless)
            .replace("{latest_key_id}", latest.versioned_id if latest else "<none>")
            .replace("{principal}", made.principal)
            .replace("{last_rp}", _newest_rp(env))
        )

    for number, raw in enumerate((case / "steps.txt").read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{case.name}/steps.txt:{number}: {line}"
        if line.startswith("!tamper "):
            _tamper(env, fill(line.split(None, 1)[1]))
            continue
        command, _, expected = line.partition("=>")
        code_text, _, wanted = expected.strip().partition(" ")
        out, err = io.StringIO(), io.StringIO()
        code = main(
            ["cloud", *shlex.split(fill(command)), "-db", str(env.store.path)],
            output=Output(out=out, err=err),
        )
        shown = out.getvalue() + err.getvalue()
        assert code == int(code_text), f"{where}\nexit {code}\n{shown}"
        for piece in filter(None, (w.strip() for w in fill(wanted).split("|"))):
            assert piece in shown, f"{where}\nmissing {piece!r} in:\n{shown}"
        assert "Traceback" not in shown, where

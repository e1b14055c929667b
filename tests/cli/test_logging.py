"""VAULTFORM_LOG / VAULTFORM_LOG_PATH work as TF_LOG / TF_LOG_PATH do, log what the engine decides and
why, and at TRACE every HTTP exchange - with no token, secret or key material in the log."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from providers.azurelocal import tokens
from providers.azurelocal.app import Emulator
from providers.azurelocal.server import LocalAzureServer
from providers.azurerm.clients import redact_body, redact_headers, redact_url

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart"
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[(TRACE|DEBUG|INFO|WARN|ERROR)\] +[\w.]+: ")


def _vf(cwd: Path, *argv: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("VAULTFORM_LOG", "TF_LOG"))}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "reconciler.cli.main", *argv],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def quickstart(tmp_path) -> Path:
    work = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, work, ignore=shutil.ignore_patterns("*.tfstate*", ".vaultform*"))
    return work


def _log_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if LINE.match(line)]


def test_off_by_default(quickstart, tmp_path):
    run = _vf(quickstart, "validate", VAULTFORM_LOCAL_AZURE=str(tmp_path / "a.db"))
    assert run.returncode == 0, run.stderr
    assert _log_lines(run.stderr) == []


def test_levels_go_to_stderr_in_terraforms_format(quickstart, tmp_path):
    db = str(tmp_path / "a.db")
    info = _vf(quickstart, "plan", VAULTFORM_LOG="info", VAULTFORM_LOCAL_AZURE=db)
    debug = _vf(quickstart, "plan", VAULTFORM_LOG="DEBUG", VAULTFORM_LOCAL_AZURE=db)
    assert info.returncode == 0 and debug.returncode == 0, info.stderr + debug.stderr
    info_lines, debug_lines = _log_lines(info.stderr), _log_lines(debug.stderr)
    assert any("[INFO]  reconciler.cli: vaultform" in line for line in info_lines), info.stderr
    assert not any("[DEBUG]" in line for line in info_lines)
    assert any("[DEBUG]" in line and "graph edge:" in line for line in debug_lines), debug.stderr
    assert any("plan: azurerm_key_vault.cmk create (NONE" in line for line in debug_lines), debug.stderr
    assert _log_lines(info.stdout) == [] and _log_lines(debug.stdout) == []  # logs never mix into output


def test_an_unknown_level_warns_and_logs_everything(quickstart, tmp_path):
    run = _vf(quickstart, "validate", VAULTFORM_LOG="chatty", VAULTFORM_LOCAL_AZURE=str(tmp_path / "a.db"))
    assert 'Invalid log level: "CHATTY". Defaulting to level: TRACE' in run.stderr
    assert run.returncode == 0


def test_log_path_appends_and_keeps_stderr_clean(quickstart, tmp_path):
    log = tmp_path / "vaultform.log"
    env = {
        "VAULTFORM_LOG": "DEBUG",
        "VAULTFORM_LOG_PATH": str(log),
        "VAULTFORM_LOCAL_AZURE": str(tmp_path / "a.db"),
    }
    first = _vf(quickstart, "validate", **env)
    logged = log.read_text()
    second = _vf(quickstart, "validate", **env)
    assert first.returncode == second.returncode == 0
    both = log.read_text()
    assert logged and both.startswith(logged)  # appended, as TF_LOG_PATH is
    assert both[len(logged) :].count("command 'validate'") == 1
    assert _log_lines(first.stderr) == []
    assert oct(log.stat().st_mode & 0o777) == "0o600"


def test_terraforms_tf_log_and_tf_log_path_work_where_vaultforms_are_unset(quickstart, tmp_path):
    log = tmp_path / "tf.log"
    env = {"TF_LOG": "debug", "TF_LOG_PATH": str(log), "VAULTFORM_LOCAL_AZURE": str(tmp_path / "a.db")}
    run = _vf(quickstart, "validate", **env)
    assert run.returncode == 0, run.stderr
    assert any("[DEBUG]" in line for line in _log_lines(log.read_text()))
    logged = log.read_text()
    quiet = _vf(quickstart, "validate", VAULTFORM_LOG="off", **env)  # vaultform's own name wins
    assert quiet.returncode == 0 and _log_lines(quiet.stderr) == []
    assert log.read_text() == logged


def test_retries_are_logged_with_their_cause(quickstart, tmp_path):
    db = str(tmp_path / "faulty.db")
    configure = _vf(
        quickstart,
        "cloud",
        "configure",
        "-db",
        db,
        "-throttle-rate",
        "0.3",
        "-retry-after",
        "0s",
        "-seed",
        "7",
    )
    assert configure.returncode == 0, configure.stderr
    run = _vf(quickstart, "apply", "-auto-approve", VAULTFORM_LOG="INFO", VAULTFORM_LOCAL_AZURE=db)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "retrying an Azure request after HTTP 429" in run.stderr


def test_an_apply_at_trace_leaks_no_token_secret_or_key(quickstart, tmp_path):
    """The whole quickstart, signed in with a client secret against the local Azure served over HTTPS:
    every request and response is in the log, and neither the secret, nor any access token, nor the key's
    material is."""
    env = Emulator(tmp_path / "served.db")
    server = LocalAzureServer(env).start()
    try:
        canary = "canary-client-secret-7f3a9d"
        tokens.add_client_secret(env, server.client_id, canary)
        known_token = server.token_for()
        log = tmp_path / "trace.log"
        run_env = {**server.environment(), "ARM_CLIENT_SECRET": canary}
        run_env.update(VAULTFORM_LOG="TRACE", VAULTFORM_LOG_PATH=str(log))
        run = _vf(quickstart, "apply", "-auto-approve", "-no-color", **run_env)
        assert run.returncode == 0, run.stdout + run.stderr
        text = log.read_text()
        lines = text.splitlines()
        assert any("HTTP request: PUT" in line for line in lines)
        assert any("HTTP response: PUT" in line and "-> 20" in line for line in lines)
        assert any('"Authorization": "<redacted>"' in line for line in lines)
        assert any("apply order:" in line and "before" in line for line in lines)
        everything = text + run.stdout + run.stderr
        assert canary not in everything
        assert known_token not in everything
        assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.", everything), "an access token reached the log"
        # the key's public modulus, read through Key Vault: it appeared in responses, never in the log
        import base64

        from azure.keyvault.keys import KeyClient

        vault = next(v for v in env.store.list("keyvault") if v["name"] == "kv-vfqs-cmk")
        keys = KeyClient(
            server.vault_url(vault["name"]),
            tokens.IssuedCredential(server.issuer),
            connection_verify=str(server.tls.ca_cert),
        )
        modulus = base64.urlsafe_b64encode(keys.get_key("backup-cmk").key.n).rstrip(b"=").decode()
        assert len(modulus) > 300
        assert modulus[:64] not in everything, "key material reached the log"
    finally:
        server.stop()
        env.store.close()


def test_redaction_of_bodies_headers_and_urls():
    wrap = redact_body(b'{"alg": "RSA-OAEP-256", "value": "c2VjcmV0LWRlaw"}', "application/json")
    assert "c2VjcmV0LWRlaw" not in wrap and '"alg": "RSA-OAEP-256"' in wrap
    jwk = redact_body(
        {"key": {"kid": "https://kv/keys/k/1", "kty": "RSA", "n": "modulus", "e": "AQAB", "d": "priv"}}
    )
    assert all(secret not in jwk for secret in ("modulus", "AQAB", "priv")) and "https://kv/keys/k/1" in jwk
    listing = redact_body({"value": [{"name": "rg-a"}]})
    assert "rg-a" in listing  # an ARM list keeps its items
    token = redact_body(b'{"token_type": "Bearer", "access_token": "eyJhbGciOi.x.y", "expires_in": 3599}')
    assert "eyJhbGciOi" not in token and "3599" in token
    form = redact_body(
        b"grant_type=client_credentials&client_secret=s3cret&client_assertion=eyJx.y.z&scope=x",
        "application/x-www-form-urlencoded",
    )
    assert "s3cret" not in form and "eyJx" not in form and "grant_type=client_credentials" in form
    assert redact_headers({"Authorization": "Bearer abc", "Accept": "json"}) == {
        "Authorization": "<redacted>",
        "Accept": "json",
    }
    assert "sig=" in redact_url("https://x/blob?sv=1&sig=abc") and "abc" not in redact_url(
        "https://x/blob?sig=abc"
    )

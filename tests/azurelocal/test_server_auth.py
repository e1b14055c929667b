"""`cloud serve` as a service: it takes only tokens it issued (signature, tenant, audience, expiry), a
principal acts only with its own token, and no client - silent, malformed or hostile - stops it."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import threading
import time

import jwt
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CertificateCredential, ClientSecretCredential
from azure.mgmt.resource.resources import ResourceManagementClient

from providers.azurelocal import tokens
from providers.azurelocal.app import Emulator
from providers.azurelocal.credential import TOKEN_PREFIX
from providers.azurelocal.server import LocalAzureServer

ARM = "https://management.azure.com"


@pytest.fixture
def served(tmp_path):
    env = Emulator(tmp_path / "served.db")
    server = LocalAzureServer(env).start()
    yield server
    server.stop()
    env.store.close()


def _get(server, path, token=None, *, base=None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(
        (base or server.book.arm_base) + path,
        headers=headers,
        verify=str(server.tls.ca_cert),
        timeout=10,
        **kwargs,
    )


def _groups(server) -> str:
    return f"/subscriptions/{server.env.subscription_id}/resourcegroups?api-version=2021-04-01"


def test_a_token_the_server_issued_is_accepted(served):
    answer = _get(served, _groups(served), served.token_for())
    assert answer.status_code == 200, answer.text
    assert any(g["name"] == "rg-workloads" for g in answer.json()["value"])


def test_tokens_stay_valid_when_the_local_azure_clock_is_ahead_of_the_wall_clock(served):
    """`cloud advance` and time_sleep move the local Azure's clock ahead of real time; a token it
    issues then (iat in the wall clock's future) is still its own, and one issued before the jump
    is still unexpired for the next hour of local time."""
    before = served.token_for()
    served.env.clock.advance(600)
    for token in (before, served.token_for()):
        answer = _get(served, _groups(served), token)
        assert answer.status_code == 200, answer.text
    served.env.clock.advance(2 * 3600)
    answer = _get(served, _groups(served), before)
    assert answer.status_code == 401 and "expired" in answer.text.lower(), answer.text


@pytest.mark.parametrize(
    "token",
    ["anything", f"{TOKEN_PREFIX}c41d8e7a-0b3f-4a29-8e65-2f9d1b7c4a03", "a.b.c"],
    ids=["opaque", "in-process-token", "not-a-jwt"],
)
def test_a_token_it_did_not_issue_is_refused(served, token):
    answer = _get(served, _groups(served), token)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_a_token_signed_with_another_key_is_refused(served):
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt.decode(served.token_for(), options={"verify_signature": False})
    forged = jwt.encode(claims, other, algorithm="RS256", headers={"kid": served.issuer.kid})
    answer = _get(served, _groups(served), forged)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_a_key_vault_token_is_refused_by_arm_with_its_audience_named(served):
    answer = _get(served, _groups(served), served.token_for(audience="https://vault.azure.net"))
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error["code"] == "InvalidAuthenticationTokenAudience"
    assert "'https://vault.azure.net'" in error["message"]


def test_a_token_for_another_tenant_is_refused(served):
    other_tenant = "11111111-2222-4333-8444-555555555555"
    claims = jwt.decode(served.token_for(), options={"verify_signature": False})
    claims.update(tid=other_tenant, iss=tokens.issuer_url(other_tenant))
    token = jwt.encode(claims, served.issuer._key, algorithm="RS256", headers={"kid": served.issuer.kid})
    answer = _get(served, _groups(served), token)
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error["code"] == "InvalidAuthenticationTokenTenant"
    assert other_tenant in error["message"] and served.env.tenant_id in error["message"]


def test_an_expired_token_is_refused(served):
    token = served.token_for()
    served.env.clock.advance(3601)
    answer = _get(served, _groups(served), token)
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error["code"] == "ExpiredAuthenticationToken"
    assert "is earlier than current UTC time" in error["message"]


def test_key_vault_refuses_an_arm_token_with_akv10022(served):
    base = served.vault_url("kv-auth").rstrip("/")
    answer = _get(served, "/keys?api-version=7.4", served.token_for(), base=base)
    assert answer.status_code == 401
    body = answer.json()["error"]
    assert body["code"] == "Unauthorized"
    assert body["message"].startswith("AKV10022: Invalid audience.")
    assert answer.headers["WWW-Authenticate"].startswith("Bearer authorization=")


def test_a_principal_acts_only_with_its_own_token(served):
    """The activity log names the principal whose token was used; a token naming a principal the
    directory doesn't know is refused."""
    env = served.env
    other = "0f5e2a3b-1c4d-4e6f-8a9b-0c1d2e3f4a5b"
    env.register_principal({"object_id": other, "type": "ServicePrincipal", "display_name": "ci"})
    path = f"/subscriptions/{env.subscription_id}/resourcegroups/rg-by-ci?api-version=2021-04-01"
    answer = requests.put(
        served.book.arm_base + path,
        json={"location": "westeurope"},
        headers={"Authorization": f"Bearer {served.token_for(other)}"},
        verify=str(served.tls.ca_cert),
        timeout=10,
    )
    assert answer.status_code in (200, 201), answer.text
    assert env.activity("/subscriptions")[-1]["principal_id"] == other
    ghost = served.issuer.issue("99999999-9999-4999-8999-999999999999", ARM)[0]
    assert _get(served, _groups(served), ghost).status_code == 401


def test_the_token_endpoint_refuses_a_wrong_secret(served):
    credential = ClientSecretCredential(
        served.env.tenant_id,
        served.client_id,
        "not-the-secret",
        authority=served.book.arm_base,
        disable_instance_discovery=True,
        connection_verify=str(served.tls.ca_cert),
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        credential.get_token(f"{ARM}/.default")


def test_a_certificate_signs_in_as_its_application(served, tmp_path):
    from tests.azurelocal.signin_helpers import make_certificate

    env = served.env
    sp = "2a7b9c1d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
    env.register_principal({"object_id": sp, "type": "ServicePrincipal", "display_name": "cert-app"})
    client_id = tokens.register_application(env, sp)
    pem_path, cert_pem = make_certificate(tmp_path / "app.pem")
    tokens.add_certificate(env, client_id, cert_pem)
    credential = CertificateCredential(
        env.tenant_id,
        client_id,
        str(pem_path),
        authority=served.book.arm_base,
        disable_instance_discovery=True,
        connection_verify=str(served.tls.ca_cert),
    )
    token = credential.get_token(f"{ARM}/.default").token
    assert jwt.decode(token, options={"verify_signature": False})["oid"] == sp
    # another certificate, not registered, is refused
    other_path, _ = make_certificate(tmp_path / "other.pem")
    stranger = CertificateCredential(
        env.tenant_id,
        client_id,
        str(other_path),
        authority=served.book.arm_base,
        disable_instance_discovery=True,
        connection_verify=str(served.tls.ca_cert),
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        stranger.get_token(f"{ARM}/.default")


# --------------------------------------------------------------------------- a service under bad clients


def _tls_connection(server) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(server.tls.ca_cert))
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def _exchange(server, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    with _tls_connection(server) as conn:
        conn.sendall(head + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        status = int(data.split(b" ", 2)[1])
        headers, _, rest = data.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in headers.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        while len(rest) < length:
            rest += conn.recv(65536)
        return status, rest


def test_a_silent_client_does_not_block_others(served):
    """A client that connects and sends nothing (no TLS hello) holds only its own thread."""
    silent = [socket.create_connection(("127.0.0.1", served.port), timeout=30) for _ in range(3)]
    try:
        started = time.monotonic()
        answer = _get(served, _groups(served), served.token_for())
        assert answer.status_code == 200
        assert time.monotonic() - started < 5
    finally:
        for conn in silent:
            conn.close()


def test_a_slow_client_mid_request_does_not_block_others(served):
    slow = _tls_connection(served)
    slow.sendall(b"PUT /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{")
    try:
        answer = _get(served, _groups(served), served.token_for())
        assert answer.status_code == 200
    finally:
        slow.close()


@pytest.mark.parametrize("length", [b"abc", b"-5", b"1e3", b"10, 20"])
def test_a_malformed_content_length_is_answered_400(served, length):
    head = b"PUT /subscriptions/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + length + b"\r\n\r\n"
    status, body = _exchange(served, head, b"{}")
    assert status == 400
    assert json.loads(body)["error"]["code"] == "InvalidContentLength"


def test_json_nested_100k_deep_is_answered_400(served):
    env = served.env
    body = b"[" * 100_000 + b"]" * 100_000
    path = f"/subscriptions/{env.subscription_id}/resourcegroups/rg-deep?api-version=2021-04-01"
    token = served.token_for()
    head = (
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    status, answer = _exchange(served, head, body)
    assert status == 400
    assert json.loads(answer)["error"]["code"] == "InvalidRequestContent"
    # and the server still serves
    assert _get(served, _groups(served), token).status_code == 200


def test_many_clients_at_once(served):
    token = served.token_for()
    results: list[int] = []

    def call():
        results.append(_get(served, _groups(served), token).status_code)

    threads = [threading.Thread(target=call) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [200] * 12


# --------------------------------------------------------------------------- what `serve` prints


def test_banner_prints_sign_in_exports_and_the_token_command(served):
    text = served.banner()
    assert f"export ARM_CLIENT_ID={served.client_id}" in text
    assert f"export ARM_CLIENT_SECRET={served.client_secret}" in text
    assert f"export ARM_METADATA_HOSTNAME=127.0.0.1:{served.port}" in text
    assert "vaultform cloud token" in text


def test_cloud_token_prints_a_token_serve_accepts(served, tmp_path):
    db = str(served.env.store.path)
    out = subprocess.run(
        [sys.executable, "-m", "reconciler.cli.main", "cloud", "token", "-db", db],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    assert _get(served, _groups(served), token).status_code == 200
    as_json = subprocess.run(
        [
            sys.executable,
            "-m",
            "reconciler.cli.main",
            "cloud",
            "token",
            "-db",
            db,
            "-json",
            "-resource",
            "https://vault.azure.net",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert as_json.returncode == 0, as_json.stderr
    claims = jwt.decode(json.loads(as_json.stdout)["accessToken"], options={"verify_signature": False})
    assert claims["aud"] == "https://vault.azure.net"
    assert claims["oid"] == served.env.deployer_object_id


def test_resource_manager_client_with_the_printed_environment(served, monkeypatch):
    for name, value in served.environment().items():
        monkeypatch.setenv(name, value)
    import os

    credential = ClientSecretCredential(
        os.environ["ARM_TENANT_ID"],
        os.environ["ARM_CLIENT_ID"],
        os.environ["ARM_CLIENT_SECRET"],
        authority=served.book.arm_base,
        disable_instance_discovery=True,
    )
    client = ResourceManagementClient(credential, os.environ["ARM_SUBSCRIPTION_ID"], base_url=served.base_url)
    assert client.resource_groups.get("rg-workloads").name == "rg-workloads"


def test_cloud_serve_prints_exports_that_sign_vaultform_in(tmp_path):
    """`vaultform cloud serve` as a user starts it: the export lines it prints are enough for vaultform's
    provider to sign in (client secret at the local login host) as the deployer."""
    import os
    import signal

    from providers.azurerm.clients import ClientFactory, target_from

    db = tmp_path / "served.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler.cli.main", "cloud", "serve", "-db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        exports: dict[str, str] = {}
        started = time.monotonic()
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("export ") and "=" in line and "$(" not in line:
                name, _, value = line[len("export ") :].strip().partition("=")
                exports[name] = value
            if "Press Ctrl-C" in line or time.monotonic() - started > 60:
                break
        assert {"ARM_CLIENT_ID", "ARM_CLIENT_SECRET", "ARM_METADATA_HOSTNAME", "REQUESTS_CA_BUNDLE"} <= set(
            exports
        )
        saved = {k: os.environ.get(k) for k in exports}
        os.environ.update(exports)  # REQUESTS_CA_BUNDLE is read from the process environment
        try:
            factory = ClientFactory(target_from({}, exports))
            caller = factory.caller()
            assert caller.object_id == "c41d8e7a-0b3f-4a29-8e65-2f9d1b7c4a03"  # the seeded deployer
            assert factory.resources().resource_groups.get("rg-workloads").name == "rg-workloads"
            factory.close()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

"""Test helpers for sign-in: a client certificate, and a small OIDC issuer over HTTP on 127.0.0.1 that
answers GitHub Actions' and Azure DevOps' ID-token request URLs the way those services do.

GitHub: ``GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=api://AzureADTokenExchange`` with
``Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`` answers ``{"count": 1, "value": "<jwt>"}``
(hashicorp/go-azure-sdk sdk/auth/github_oidc_authorizer.go). Azure DevOps: ``POST
$SYSTEM_OIDCREQUESTURI?api-version=7.1&serviceConnectionId=<id>`` with ``Authorization: Bearer
$SYSTEM_ACCESSTOKEN`` answers ``{"oidcToken": "<jwt>"}`` (sdk/auth/ado_pipeline_oidc_authorizer.go).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

GITHUB_SUBJECT = "repo:example/estate:ref:refs/heads/main"
ADO_SUBJECT_PREFIX = "sc://example/estate/"


def make_certificate(path: Path, password: bytes | None = None) -> tuple[Path, bytes]:
    """A self-signed client certificate with its key in one PEM file; returns (path, certificate PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vaultform test app")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        + cert_pem
    )
    return path, cert_pem


class OidcIssuer:
    """An OIDC issuer: discovery document, keys, and the GitHub / Azure DevOps token request URLs."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        self.request_token = "github-request-token-canary"
        self.ado_access_token = "ado-system-access-token-canary"
        self.requests: list[str] = []
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _json(self, status: int, value) -> None:
                data = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                issuer.requests.append(f"GET {parts.path}")
                if parts.path == "/.well-known/openid-configuration":
                    self._json(200, {"issuer": issuer.url, "jwks_uri": issuer.url + "/keys"})
                elif parts.path == "/keys":
                    self._json(200, issuer.jwks())
                elif parts.path == "/github/idtoken":
                    if self.headers.get("Authorization") != f"Bearer {issuer.request_token}":
                        self._json(401, {"message": "bad request token"})
                        return
                    audience = parse_qs(parts.query).get("audience", [""])[0]
                    self._json(200, {"count": 1, "value": issuer.token(GITHUB_SUBJECT, audience)})
                else:
                    self._json(404, {})

            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                issuer.requests.append(f"POST {parts.path}")
                query = parse_qs(parts.query)
                if parts.path == "/ado/oidctoken":
                    if self.headers.get("Authorization") != f"Bearer {issuer.ado_access_token}":
                        self._json(401, {"message": "bad access token"})
                        return
                    if query.get("api-version") != ["7.1"] or not query.get("serviceConnectionId"):
                        self._json(400, {"message": "api-version 7.1 and serviceConnectionId are required"})
                        return
                    subject = ADO_SUBJECT_PREFIX + query["serviceConnectionId"][0]
                    self._json(200, {"oidcToken": issuer.token(subject, "api://AzureADTokenExchange")})
                else:
                    self._json(404, {})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def github_request_url(self) -> str:
        # GitHub's URL already carries a query string; the client appends &audience=
        return f"{self.url}/github/idtoken?api-version=2.0"

    @property
    def ado_request_url(self) -> str:
        return f"{self.url}/ado/oidctoken"

    def token(self, subject: str, audience: str, lifetime: int = 600) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": subject,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def jwks(self) -> dict:
        numbers = self.key.public_key().public_numbers()

        def b64(n: int) -> str:
            return (
                base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()
            )

        return {
            "keys": [
                {
                    "kty": "RSA",
                    "kid": self.kid,
                    "use": "sig",
                    "alg": "RS256",
                    "n": b64(numbers.n),
                    "e": b64(numbers.e),
                }
            ]
        }

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

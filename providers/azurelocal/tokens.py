"""Tokens the local Azure issues and checks, the way Microsoft Entra ID and ARM / Key Vault do.

``Issuer`` signs access tokens (RS256 JWTs with ``tid``, ``aud``, ``oid``, ``appid`` and ``exp``, as
Entra's v1 access tokens carry them: https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference)
with a key kept beside the TLS files (``<db>.tls/token-signing-key.pem``, mode 0600), and checks them:
signature, tenant, audience and expiry on the emulator's clock.

The token endpoint (``POST /{tenant}/oauth2/v2.0/token``, client credentials) signs in an application by
its secret, by a certificate (a ``client_assertion`` JWT signed with the certificate's key and naming its
thumbprint in ``x5t`` / ``x5t#S256``), or by a federated credential (a ``client_assertion`` that is an OIDC
token of a trusted issuer, subject and audience, checked against that issuer's published keys):
https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow and
https://learn.microsoft.com/entra/workload-id/workload-identity-federation.
Application registrations (client id -> principal and its credentials) live in the store's metadata.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import json
import os
import secrets
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SIGNING_KEY_FILE = "token-signing-key.pem"
REGISTRATIONS_META_KEY = "app_registrations"
TOKEN_LIFETIME_SECONDS = 3600
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# The audience GitHub Actions and Azure DevOps put in tokens meant for Entra, and the default of a federated
# credential: https://learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust
EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
# ARM's allowed audiences, as its InvalidAuthenticationTokenAudience message lists them
# (Azure-Samples/active-directory-dotnetcore-daemon-v2 issue 145).
ARM_AUDIENCES = frozenset(
    {
        "https://management.core.windows.net/",
        "https://management.core.windows.net",
        "https://management.azure.com/",
        "https://management.azure.com",
    }
)
# Key Vault's audience (AKV10022 "Expected https://vault.azure.net": Azure/go-autorest issue 525).
VAULT_AUDIENCES = frozenset({"https://vault.azure.net", "https://vault.azure.net/"})


def issuer_url(tenant_id: str) -> str:
    """The ``iss`` of Entra's v1 access tokens (the form ARM's InvalidAuthenticationTokenTenant names)."""
    return f"https://sts.windows.net/{tenant_id}/"


def audience_of(scope: str) -> str:
    """``https://management.azure.com/.default`` -> ``https://management.azure.com``."""
    scope = scope.strip()
    return scope[: -len("/.default")] if scope.endswith("/.default") else scope


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _stable_guid(label: str) -> str:
    return str(uuid.UUID(bytes=hashlib.sha256(f"vaultform-app:{label}".encode()).digest()[:16], version=4))


# --------------------------------------------------------------------------- rejections


class Rejection(enum.Enum):
    MALFORMED = "malformed"  # not a JWT, or not signed by this local Azure
    AUDIENCE = "audience"
    TENANT = "tenant"
    EXPIRED = "expired"
    UNKNOWN_PRINCIPAL = "unknown_principal"


@dataclass(frozen=True)
class TokenRejected(Exception):
    reason: Rejection
    found: str = ""  # what the token said (its audience, issuer, expiry)
    expected: str = ""

    def __str__(self) -> str:
        return f"{self.reason.value}: found {self.found!r}, expected {self.expected!r}"


class TokenEndpointError(Exception):
    """An Entra token endpoint error: ``{"error", "error_description": "AADSTSnnn: ...", "error_codes"}``."""

    def __init__(self, status: int, error: str, code: int, message: str) -> None:
        super().__init__(f"AADSTS{code}: {message}")
        self.status, self.error, self.code, self.message = status, error, code, message

    def body(self) -> dict:
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.code}: {self.message}",
            "error_codes": [self.code],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        }


# --------------------------------------------------------------------------- application registrations


def registrations(env) -> dict[str, dict]:
    return dict(env.store.meta(REGISTRATIONS_META_KEY, {}) or {})


def _save_registration(env, client_id: str, record: dict) -> None:
    with env.store.transaction():
        all_ = registrations(env)
        all_[client_id] = record
        env.store.set_meta(REGISTRATIONS_META_KEY, all_)


def register_application(env, object_id: str, client_id: str | None = None) -> str:
    """Give principal ``object_id`` an application (client) id that can sign in; returns the client id."""
    for cid, record in registrations(env).items():
        if record["object_id"] == object_id and (client_id is None or cid == client_id):
            return cid
    client_id = client_id or _stable_guid(object_id)
    _save_registration(
        env, client_id, {"object_id": object_id, "secrets": [], "certificates": [], "federated": []}
    )
    return client_id


def _registration(env, client_id: str) -> dict:
    record = registrations(env).get(client_id)
    if record is None:
        raise KeyError(client_id)
    return record


def add_client_secret(env, client_id: str, secret: str | None = None) -> str:
    """A new client secret for ``client_id`` (stored as a SHA-256 digest; the value is returned once)."""
    value = secret or secrets.token_urlsafe(30)
    record = _registration(env, client_id)
    record["secrets"] = [*record["secrets"], hashlib.sha256(value.encode()).hexdigest()]
    _save_registration(env, client_id, record)
    return value


def add_certificate(env, client_id: str, certificate_pem: bytes) -> str:
    """Trust a certificate (its public part) for ``client_id``; returns its SHA-1 thumbprint (hex)."""
    cert = x509.load_pem_x509_certificate(certificate_pem)
    thumbprint = cert.fingerprint(hashes.SHA1()).hex()  # Entra names certificates by SHA-1 (x5t)
    record = _registration(env, client_id)
    record["certificates"] = [
        *record["certificates"],
        {
            "sha1": thumbprint,
            "sha256": cert.fingerprint(hashes.SHA256()).hex(),
            "pem": cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        },
    ]
    _save_registration(env, client_id, record)
    return thumbprint


def add_federated_credential(
    env, client_id: str, issuer: str, subject: str, audience: str = EXCHANGE_AUDIENCE
) -> None:
    """Trust OIDC tokens of ``issuer`` about ``subject`` (a GitHub repository ref, an Azure DevOps
    service connection) as sign-ins of ``client_id``."""
    record = _registration(env, client_id)
    record["federated"] = [
        *record["federated"],
        {"issuer": issuer.rstrip("/"), "subject": subject, "audiences": [audience]},
    ]
    _save_registration(env, client_id, record)


# --------------------------------------------------------------------------- signing and checking


def _load_or_create_key(directory: Path) -> rsa.RSAPrivateKey:
    path = directory / SIGNING_KEY_FILE
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            return key
    except (OSError, ValueError):
        pass
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    os.chmod(path, 0o600)
    return key


def key_directory(env) -> Path:
    """Where the signing key lives: beside the TLS files of the database (``<db>.tls/``)."""
    return Path(f"{env.store.path}.tls")


class Issuer:
    """Signs and checks the local Azure's access tokens; time is the emulator's clock."""

    def __init__(self, env, directory: Path | None = None) -> None:
        self.env = env
        self._key = _load_or_create_key(directory or key_directory(env))
        public = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = _b64url(hashlib.sha256(public).digest()[:20])

    @property
    def tenant_id(self) -> str:
        return self.env.tenant_id

    def now(self) -> int:
        return int(self.env.clock.now().timestamp())

    def issue(
        self,
        object_id: str,
        audience: str,
        *,
        app_id: str | None = None,
        lifetime: int = TOKEN_LIFETIME_SECONDS,
    ) -> tuple[str, int]:
        """A signed access token for ``object_id`` meant for ``audience``; returns (token, expires_on)."""
        now = self.now()
        expires_on = now + int(lifetime)
        claims = {
            "aud": audience,
            "iss": issuer_url(self.tenant_id),
            "iat": now,
            "nbf": now - 300,
            "exp": expires_on,
            "tid": self.tenant_id,
            "oid": object_id,
            "sub": object_id,
            "appid": app_id or object_id,
            "ver": "1.0",
            "uti": _b64url(secrets.token_bytes(12)),
        }
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})
        return token, expires_on

    def verify(self, token: str, audiences: frozenset[str] | set[str]) -> dict[str, Any]:
        """The claims of a token this local Azure signed for one of ``audiences``, in its tenant and
        not expired; anything else is a ``TokenRejected`` naming what was wrong."""
        try:
            claims = jwt.decode(
                token,
                self._key.public_key(),
                algorithms=["RS256"],
                # times are judged below against the local Azure's clock, which `cloud advance` and
                # time_sleep move ahead of the wall clock PyJWT would use (iat included)
                options={
                    "verify_aud": False,
                    "verify_exp": False,
                    "verify_iss": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise TokenRejected(Rejection.MALFORMED, str(exc)) from None
        if claims.get("tid") != self.tenant_id or claims.get("iss") != issuer_url(self.tenant_id):
            raise TokenRejected(Rejection.TENANT, str(claims.get("iss")), issuer_url(self.tenant_id))
        if claims.get("aud") not in audiences:
            raise TokenRejected(Rejection.AUDIENCE, str(claims.get("aud")), ", ".join(sorted(audiences)))
        now = self.now()
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
            raise TokenRejected(Rejection.EXPIRED, str(claims.get("exp")), str(now))
        if self.env.principal(claims.get("oid")) is None:
            raise TokenRejected(Rejection.UNKNOWN_PRINCIPAL, str(claims.get("oid")))
        return claims

    def jwks(self) -> dict:
        numbers = self._key.public_key().public_numbers()

        def b64int(n: int) -> str:
            return _b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))

        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": self.kid,
                    "alg": "RS256",
                    "n": b64int(numbers.n),
                    "e": b64int(numbers.e),
                }
            ]
        }

    # ------------------------------------------------------------------ the token endpoint

    def client_credentials(self, tenant: str, form: dict[str, str], token_url: str) -> dict:
        """Answer ``POST /{tenant}/oauth2/v2.0/token``; raises ``TokenEndpointError`` as Entra would.
        Codes: https://learn.microsoft.com/entra/identity-platform/reference-error-codes"""
        if tenant.lower() != self.tenant_id.lower():
            raise TokenEndpointError(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            raise TokenEndpointError(
                400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        scope = (form.get("scope") or "").strip()
        if not scope:
            raise TokenEndpointError(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            )
        if not scope.endswith("/.default") or " " in scope:
            raise TokenEndpointError(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows must have a "
                f"scope value with /.default suffixed to the resource identifier (application ID URI).",
            )
        client_id = form.get("client_id") or ""
        record = registrations(self.env).get(client_id)
        if record is None:
            raise TokenEndpointError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory '{tenant}'.",
            )
        if form.get("client_secret"):
            digest = hashlib.sha256(form["client_secret"].encode()).hexdigest()
            if not any(secrets.compare_digest(digest, known) for known in record["secrets"]):
                raise TokenEndpointError(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the "
                    f"client secret value, not the client secret ID, for a secret added to app '{client_id}'.",
                )
        elif form.get("client_assertion_type") == ASSERTION_TYPE and form.get("client_assertion"):
            self._check_assertion(client_id, record, form["client_assertion"], token_url)
        else:
            raise TokenEndpointError(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            )
        token, expires_on = self.issue(record["object_id"], audience_of(scope), app_id=client_id)
        lifetime = expires_on - self.now()
        return {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token,
        }

    def _check_assertion(self, client_id: str, record: dict, assertion: str, token_url: str) -> None:
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise TokenEndpointError(
                400, "invalid_client", 50027, "JWT token is invalid or malformed."
            ) from None
        if "x5t" in header or "x5t#S256" in header:
            self._check_certificate_assertion(client_id, record, assertion, header, token_url)
        else:
            self._check_federated_assertion(record, assertion, header, unverified)

    def _check_certificate_assertion(
        self, client_id: str, record: dict, assertion: str, header: dict, token_url: str
    ) -> None:
        def thumb(name: str) -> str | None:
            value = header.get(name)
            if not value:
                return None
            return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()

        sha1, sha256 = thumb("x5t"), thumb("x5t#S256")
        cert = next(
            (c for c in record["certificates"] if c["sha1"] == sha1 or c["sha256"] == sha256),
            None,
        )
        if cert is None:
            raise TokenEndpointError(
                401,
                "invalid_client",
                700027,
                f"The certificate with identifier used to sign the client assertion is not registered on "
                f"application. [Reason - The key was not found., Thumbprint of key used by client: "
                f"'{(sha1 or sha256 or '').upper()}']",
            )
        public_key: Any = x509.load_pem_x509_certificate(cert["pem"].encode()).public_key()
        try:
            claims = jwt.decode(
                assertion,
                public_key,
                algorithms=["RS256", "PS256"],
                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False},
            )
        except jwt.PyJWTError:
            raise TokenEndpointError(
                401, "invalid_client", 700027, "Client assertion failed signature validation."
            ) from None
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            raise TokenEndpointError(
                401,
                "invalid_client",
                700023,
                "Client assertion audience claim does not match Realm issuer, or iss/sub is not the client id.",
            )
        if urlsplit(str(claims.get("aud", ""))).path.rstrip("/") != urlsplit(token_url).path.rstrip("/"):
            raise TokenEndpointError(
                401,
                "invalid_client",
                700212,
                f"Client assertion audience claim '{claims.get('aud')}' does not match the token endpoint.",
            )
        self._check_time(claims)

    def _check_time(self, claims: dict) -> None:
        now = self.now()
        wall = int(time.time())
        exp = claims.get("exp")
        # The assertion was made on the client's (wall) clock; accept it against either clock.
        if not isinstance(exp, (int, float)) or (exp <= now and exp <= wall):
            raise TokenEndpointError(
                400,
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range.",
            )

    def _check_federated_assertion(
        self, record: dict, assertion: str, header: dict, unverified: dict
    ) -> None:
        iss = str(unverified.get("iss", "")).rstrip("/")
        sub = str(unverified.get("sub", ""))
        aud = unverified.get("aud")
        auds = set(aud if isinstance(aud, list) else [aud])
        matches = [f for f in record["federated"] if f["issuer"] == iss and f["subject"] == sub]
        if not matches:
            raise TokenEndpointError(
                400,
                "invalid_request",
                70021,
                f"No matching federated identity record found for presented assertion. Assertion Issuer: "
                f"'{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{', '.join(map(str, auds))}'.",
            )
        if not any(a in auds for f in matches for a in f["audiences"]):
            raise TokenEndpointError(
                400,
                "invalid_request",
                700212,
                f"No matching federated identity record found for presented assertion audience "
                f"'{', '.join(map(str, auds))}'.",
            )
        key = _issuer_key(iss, header.get("kid"))
        if key is None:
            raise TokenEndpointError(
                400,
                "invalid_request",
                700211,
                f"The signing keys of issuer '{iss}' could not be read, or none has kid '{header.get('kid')}'.",
            )
        try:
            claims = jwt.decode(
                assertion,
                key,
                algorithms=["RS256", "RS384", "RS512", "PS256", "ES256"],
                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False},
            )
        except jwt.PyJWTError:
            raise TokenEndpointError(
                400, "invalid_client", 50013, "Assertion failed signature validation."
            ) from None
        self._check_time(claims)


def _fetch_json(url: str) -> Any:
    """GET a JSON document of a token issuer. Entra reads issuers over HTTPS; plain HTTP is accepted only on
    loopback (test issuers). The CA bundle is ``REQUESTS_CA_BUNDLE`` when set."""
    parts = urlsplit(url)
    if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost"):
        raise ValueError(f"issuer {url} is not https")
    import ssl

    context = ssl.create_default_context(cafile=os.environ.get("REQUESTS_CA_BUNDLE") or None)
    with urllib.request.urlopen(
        url, timeout=10, context=context if parts.scheme == "https" else None
    ) as resp:
        return json.loads(resp.read(1 << 20))


def _issuer_key(issuer: str, kid: str | None):
    """The public key ``kid`` of an OIDC issuer, found through its discovery document."""
    try:
        config = _fetch_json(issuer + "/.well-known/openid-configuration")
        keys = _fetch_json(config["jwks_uri"])["keys"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    for jwk in keys:
        if kid is None or jwk.get("kid") == kid:
            try:
                return jwt.PyJWK(jwk).key
            except jwt.PyJWTError:
                return None
    return None


# --------------------------------------------------------------------------- a credential for scripts and tests


class IssuedCredential:
    """An azure-core TokenCredential that signs tokens directly with the local Azure's key: what
    ``vaultform cloud token`` prints, for scripts and tests that hold the database."""

    def __init__(self, issuer: Issuer, object_id: str | None = None) -> None:
        self.issuer = issuer
        self.object_id = object_id or issuer.env.deployer_object_id

    def get_token(self, *scopes: str, **kwargs: Any):
        from azure.core.credentials import AccessToken

        token, _ = self.issuer.issue(self.object_id, audience_of(scopes[0]))
        return AccessToken(token, int(time.time()) + TOKEN_LIFETIME_SECONDS)

    def get_token_info(self, *scopes: str, options: dict | None = None):
        from azure.core.credentials import AccessTokenInfo

        token, _ = self.issuer.issue(self.object_id, audience_of(scopes[0]))
        return AccessTokenInfo(token, int(time.time()) + TOKEN_LIFETIME_SECONDS)

    def close(self) -> None:
        """Nothing to release."""

"""``vaultform cloud serve``: the local Azure over HTTPS on 127.0.0.1, for clients outside vaultform.

ARM answers at ``https://127.0.0.1:<port>/``. Every key vault gets a listener of its own,
``https://127.0.0.1:<vault port>/``, opened when the vault first appears in a response (or at
start for vaults that exist). Inside, the emulator keeps Azure's names (``management.azure.com``,
``{vault}.vault.azure.net``); this module translates addresses both ways in bodies and in the
headers that carry URLs, so ``vaultUri``, key ids and polling links point at the local listeners.

The Key Vault SDK accepts a challenge only when the vault's host ends with ``.`` + the challenge
resource's host; for ``127.0.0.1:<port>`` the challenge names ``https://0.0.1:<port>``, the host
minus its first label, which passes that check with the client unmodified.

TLS: a self-signed CA and a server certificate for ``localhost`` and ``127.0.0.1`` are made with
``cryptography`` in ``<db>.tls/`` (keys mode 0600) and reused while valid; clients trust the CA file
(``REQUESTS_CA_BUNDLE``). The handshake runs in each connection's worker thread, with a deadline, so a
client that connects and says nothing holds only its own thread.

Sign-in: the ARM listener is also the local Azure's login host (``POST /{tenant}/oauth2/v2.0/token``,
its OpenID configuration and keys, and ``/metadata/endpoints`` for ``ARM_METADATA_HOSTNAME``). ARM and
the key vaults accept only bearer tokens this local Azure signed, for their audience and tenant and not
expired (``providers.azurelocal.tokens``); the principal a request acts as is the token's ``oid``.

Requests with a malformed ``Content-Length``, a body too large or JSON nested too deeply are answered
400 / 413 on the open connection, never dropped or answered 500.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import os
import re
import secrets
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from providers.azurelocal import tokens
from providers.azurelocal.credential import TOKEN_PREFIX
from providers.azurelocal.http import AzureError, Request, Response, json_depth
from providers.azurelocal.services.keys import CLIENT_ADDRESS_HEADER

ARM_HOST = "management.azure.com"
LOOPBACK = "127.0.0.1"
PORTS_META_KEY = "server_vault_ports"
CERT_DAYS = 825
_VAULT_URL_RE = re.compile(r"https://([0-9a-z-]+)\.vault\.azure\.net(?::443)?", re.IGNORECASE)
_URL_HEADERS = ("location", "azure-asyncoperation", "operation-location", "www-authenticate")
HANDSHAKE_SECONDS = 10.0  # a client that connects and sends nothing is dropped after this (invented)
IDLE_SECONDS = 60.0  # an idle keep-alive connection is closed after this (invented)
MAX_BODY_BYTES = (
    4 * 1024 * 1024
)  # ARM's request size limit is 4 MB (docs: azure-resource-manager/management/azure-subscription-service-limits)
MAX_JSON_DEPTH = 64  # invented: no Azure limit found; deep enough for every body the SDKs send
_TOKEN_PATH_RE = re.compile(r"^/([^/]+)/oauth2/v2\.0/token/?$")
_OPENID_PATH_RE = re.compile(r"^/([^/]+)/v2\.0/\.well-known/openid-configuration/?$")
MSI_PATH = "/msi/token"
IMDS_PATH = "/metadata/identity/oauth2/token"
_KEYS_PATH_RE = re.compile(r"^/([^/]+)/discovery/v2\.0/keys/?$")


# --------------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def _still_valid(path: Path) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return False
    return cert.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=1)


def ensure_certificates(directory: Path) -> TlsFiles:
    """A CA and a server certificate (SANs localhost, 127.0.0.1) in ``directory``, made once."""
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    if (
        all(p.exists() for p in (files.ca_cert, files.server_cert, files.server_key))
        and _still_valid(files.server_cert)
        and _still_valid(files.ca_cert)
    ):
        return files
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vaultform local Azure CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=CERT_DAYS))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=False,
                crl_sign=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_private(
        files.server_key,
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    return files


# --------------------------------------------------------------------------- address translation


def challenge_resource(netloc: str) -> str:
    """The challenge resource for a vault reached at ``netloc``: the host minus its first label."""
    host, _, port = netloc.partition(":")
    rest = host.split(".", 1)[1] if "." in host else host
    return f"https://{rest}:{port}" if port else f"https://{rest}"


class AddressBook:
    """Which local listener stands for which Azure host, and the rewriting between them."""

    def __init__(self, arm_port: int) -> None:
        self.arm_base = f"https://{LOOPBACK}:{arm_port}"
        self.vault_ports: dict[str, int] = {}

    def vault_base(self, name: str) -> str:
        return f"https://{LOOPBACK}:{self.vault_ports[name]}"

    def to_local(self, text: str, open_vault) -> str:
        text = re.sub(r"https://management\.azure\.com(?::443)?", self.arm_base, text, flags=re.IGNORECASE)

        def vault(m: re.Match) -> str:
            return open_vault(m.group(1).lower())

        return _VAULT_URL_RE.sub(vault, text)

    def to_azure(self, text: str) -> str:
        text = text.replace(self.arm_base, f"https://{ARM_HOST}")
        for name, port in self.vault_ports.items():
            text = text.replace(f"https://{LOOPBACK}:{port}", f"https://{name}.vault.azure.net")
            text = text.replace(f"https://localhost:{port}", f"https://{name}.vault.azure.net")
        return text


# --------------------------------------------------------------------------- the server


def _arm_rejection(rejected: tokens.TokenRejected, tenant_id: str) -> AzureError:
    """ARM's 401 for a token it won't take. Codes and wording as ARM answers them:
    InvalidAuthenticationTokenAudience (Azure-Samples/active-directory-dotnetcore-daemon-v2 issue 145),
    InvalidAuthenticationTokenTenant (Azure/azure-sdk-for-python issue 38382), ExpiredAuthenticationToken
    (microsoft/vscode-azureappservice issue 2483); InvalidAuthenticationToken for a token that isn't one of
    ours (the code ARM uses; the message is invented)."""
    reason = tokens.Rejection
    if rejected.reason is reason.AUDIENCE:
        code = "InvalidAuthenticationTokenAudience"
        message = (
            f"The access token has been obtained for wrong audience or resource '{rejected.found}'. It should "
            f"exactly match with one of the allowed audiences "
            f"{','.join(repr(a) for a in sorted(tokens.ARM_AUDIENCES))}."
        )
    elif rejected.reason is reason.TENANT:
        code = "InvalidAuthenticationTokenTenant"
        message = (
            f"The access token is from the wrong issuer '{rejected.found}'. It must match the tenant "
            f"'{tokens.issuer_url(tenant_id)}' associated with this subscription. Please use the authority "
            f"(URL) 'https://login.windows.net/{tenant_id}' to get the token."
        )
    elif rejected.reason is reason.EXPIRED:
        code = "ExpiredAuthenticationToken"
        message = (
            f"The access token expiry UTC time '{_utc(rejected.found)}' is earlier than current UTC time "
            f"'{_utc(rejected.expected)}'."
        )
    else:
        code = "InvalidAuthenticationToken"
        message = "The access token is invalid: it was not issued by this local Azure for a known principal."
    challenge = f'Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="{message}"'
    return AzureError(401, code, message, {"WWW-Authenticate": challenge})


def _vault_rejection(rejected: tokens.TokenRejected, tenant_id: str, resource: str) -> AzureError:
    """Key Vault's 401 (code Unauthorized, an AKV number in the message, and the challenge):
    AKV10022 invalid audience (Azure/go-autorest issue 525), AKV10032 invalid issuer (MicrosoftDocs/azure-docs
    issue 75410), AKV10046 key for signature validation not found (Azure-Samples/azuresandbox issue 362).
    The expired-token wording is invented."""
    reason = tokens.Rejection
    if rejected.reason is reason.AUDIENCE:
        message = f"AKV10022: Invalid audience. Expected {resource}, found: {rejected.found}."
    elif rejected.reason is reason.TENANT:
        message = f"AKV10032: Invalid issuer. Expected one of {tokens.issuer_url(tenant_id)}, found {rejected.found}."
    elif rejected.reason is reason.EXPIRED:
        message = f"Token expired at {_utc(rejected.found)}; current time is {_utc(rejected.expected)}."
    else:
        message = "AKV10046: Unable to resolve the key used for signature validation."
    challenge = f'Bearer authorization="https://login.microsoftonline.com/{tenant_id}", resource="{resource}"'
    return AzureError(401, "Unauthorized", message, {"WWW-Authenticate": challenge})


def _utc(epoch: str) -> str:
    try:
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%m/%d/%Y %H:%M:%S")
    except (TypeError, ValueError):
        return str(epoch)


class _BadRequest(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vaultform-local-azure"
    timeout = IDLE_SECONDS
    server: _Listener  # the listener that accepted this connection

    def log_message(self, format: str, *args) -> None:
        if self.server.owner.verbose:
            super().log_message(format, *args)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            raise _BadRequest(
                411, "LengthRequired", "Chunked request bodies are not accepted; send Content-Length."
            )
        raw = self.headers.get_all("Content-Length") or []
        if not raw:
            return b""
        if len(set(v.strip() for v in raw)) != 1 or not raw[0].strip().isdigit():
            raise _BadRequest(
                400, "InvalidContentLength", f"The Content-Length header {raw!r} is not a length."
            )
        length = int(raw[0].strip())
        if length > MAX_BODY_BYTES:
            raise _BadRequest(
                413,
                "RequestEntityTooLarge",
                f"The request body of {length} bytes exceeds {MAX_BODY_BYTES} bytes.",
            )
        body = self.rfile.read(length) if length else b""
        if len(body) != length:
            raise _BadRequest(
                400, "InvalidContentLength", "The request body is shorter than its Content-Length."
            )
        return body

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status: int, value, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(value).encode("utf-8")
        self._send(status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})})

    def _serve(self) -> None:
        owner: LocalAzureServer = self.server.owner
        try:
            body = self._read_body()
        except _BadRequest as bad:
            self.close_connection = True  # what follows a bad length can't be framed
            body_of_error = {"error": {"code": bad.code, "message": bad.message}}
            self._send_json(bad.status, body_of_error, {"x-ms-error-code": bad.code})
            return
        brackets = body.count(b"[") + body.count(b"{") if body else 0
        if brackets > MAX_JSON_DEPTH and json_depth(body) > MAX_JSON_DEPTH:
            too_deep = AzureError(
                400,
                "InvalidRequestContent",
                f"The request content is nested deeper than {MAX_JSON_DEPTH} levels.",
            )
            self._respond(too_deep.response())
            return
        parts = urlsplit(self.path)
        vault = self.server.vault_name
        if vault is None and self._serve_login(parts, body):
            return
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != CLIENT_ADDRESS_HEADER}
        headers[CLIENT_ADDRESS_HEADER] = self.client_address[0]
        try:
            self._authorize(headers, vault)
        except AzureError as rejected:
            self._respond(rejected.response())
            return
        host = f"{vault}.vault.azure.net" if vault else ARM_HOST
        if body:
            with contextlib.suppress(UnicodeDecodeError):
                body = owner.book.to_azure(body.decode("utf-8")).encode("utf-8")
        request = Request(
            method=self.command.upper(),
            host=host,
            path=unquote(parts.path or "/"),
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=headers,
            body=body,
        )
        self._respond(owner.env.handle(request))

    def _authorize(self, headers: dict[str, str], vault: str | None) -> None:
        """Check the bearer token; hand the emulator the principal it names. A request without one goes
        on, for the emulator to answer its 401 challenge."""
        owner: LocalAzureServer = self.server.owner
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            headers.pop("authorization", None)
            return
        resource = challenge_resource(self.headers.get("Host") or "") if vault else ""
        audiences = (
            tokens.ARM_AUDIENCES if vault is None else tokens.VAULT_AUDIENCES | {resource, resource + "/"}
        )
        try:
            claims = owner.issuer.verify(token.strip(), audiences)
        except tokens.TokenRejected as rejected:
            if vault is None:
                raise _arm_rejection(rejected, owner.env.tenant_id) from None
            raise _vault_rejection(rejected, owner.env.tenant_id, resource) from None
        headers["authorization"] = f"Bearer {TOKEN_PREFIX}{claims['oid']}"

    def _serve_login(self, parts, body: bytes) -> bool:
        """The login host's endpoints on the ARM listener; False when the path is not one of them."""
        owner: LocalAzureServer = self.server.owner
        path = parts.path
        base = owner.book.arm_base
        if self.command == "POST" and (m := _TOKEN_PATH_RE.match(path)):
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            try:
                answer = owner.issuer.client_credentials(m.group(1), form, f"{base}{path}")
            except tokens.TokenEndpointError as err:
                self._send_json(err.status, err.body())
                return True
            self._send_json(200, answer, {"Cache-Control": "no-store"})
            return True
        if self.command == "GET" and (m := _OPENID_PATH_RE.match(path)):
            tenant = m.group(1)
            self._send_json(200, owner.openid_configuration(tenant))
            return True
        if self.command == "GET" and _KEYS_PATH_RE.match(path):
            self._send_json(200, owner.issuer.jwks())
            return True
        if self.command == "GET" and path.rstrip("/") in (MSI_PATH, IMDS_PATH):
            self._serve_managed_identity(parts, imds=path.rstrip("/") == IMDS_PATH)
            return True
        if self.command == "GET" and path.rstrip("/") == "/metadata/endpoints":
            self._send_json(200, owner.metadata_endpoints())
            return True
        return False

    def _serve_managed_identity(self, parts, *, imds: bool) -> None:
        """Managed identity tokens in two shapes: App Service's (``IDENTITY_ENDPOINT`` / ``IDENTITY_HEADER``,
        api-version 2019-08-01: https://learn.microsoft.com/azure/app-service/overview-managed-identity
        #rest-endpoint-reference) and the instance metadata service's (``/metadata/identity/oauth2/token``,
        api-version 2018-02-01, header ``Metadata: true``: https://learn.microsoft.com/entra/identity/
        managed-identities-azure-resources/how-to-use-vm-token#get-a-token-using-http). Both need the
        secret ``cloud serve`` printed as IDENTITY_HEADER (for the metadata shape that is invented: a local
        process must not take an identity it wasn't given). ``client_id``, ``principal_id``/``object_id`` or
        ``mi_res_id`` pick a user-assigned identity; none picks the host's own identity, the deployer
        (invented)."""
        owner: LocalAzureServer = self.server.owner
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if self.headers.get("X-IDENTITY-HEADER") != owner.identity_header:
            self._send_json(401, {"statusCode": 401, "message": "The X-IDENTITY-HEADER is missing or wrong."})
            return
        version = "2018-02-01" if imds else "2019-08-01"
        if imds and (self.headers.get("Metadata") or "").lower() != "true":
            self._send_json(
                400,
                {"error": "invalid_request", "error_description": "Required metadata header not specified"},
            )
            return
        resource = query.get("resource", "")
        if not resource or query.get("api-version") != version:
            self._send_json(
                400, {"statusCode": 400, "message": f"api-version {version} and resource are required."}
            )
            return
        object_id = owner.managed_identity(query)
        if object_id is None:
            self._send_json(400, {"statusCode": 400, "message": "No managed identity matches the request."})
            return
        token, expires_on = owner.issuer.issue(object_id, tokens.audience_of(resource))
        client_id = (owner.env.principal(object_id) or {}).get("client_id") or object_id
        answer = {
            "access_token": token,
            "expires_on": str(expires_on),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": client_id,
        }
        if imds:
            lifetime = str(expires_on - owner.issuer.now())
            answer.update(expires_in=lifetime, ext_expires_in=lifetime, not_before=str(owner.issuer.now()))
        self._send_json(200, answer)

    def _respond(self, response: Response) -> None:
        owner: LocalAzureServer = self.server.owner
        vault = self.server.vault_name
        data = response.encoded()
        if data and not isinstance(response.body, bytes):
            data = owner.book.to_local(data.decode("utf-8"), owner.open_vault).encode("utf-8")
        out_headers = dict(response.headers)
        for name in list(out_headers):
            if name.lower() in _URL_HEADERS:
                value = owner.book.to_local(out_headers[name], owner.open_vault)
                if name.lower() == "www-authenticate" and vault:
                    netloc = self.headers.get("Host") or f"{LOOPBACK}:{self.server.server_address[1]!s}"
                    value = value.replace(
                        'resource="https://vault.azure.net"', f'resource="{challenge_resource(netloc)}"'
                    )
                out_headers[name] = value
        self._send(response.status, data, out_headers)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _serve


class _Listener(ThreadingHTTPServer):
    """A listener whose TLS handshake happens in each connection's worker thread, never in the accept
    loop, so one silent client can't stop the others from being served."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, owner: LocalAzureServer, port: int, vault_name: str | None) -> None:
        super().__init__((LOOPBACK, port), _Handler)
        self.owner = owner
        self.vault_name = vault_name

    def finish_request(self, request, client_address) -> None:
        request.settimeout(HANDSHAKE_SECONDS)
        try:
            tls = self.owner.ssl_context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return  # a failed or abandoned handshake closes only this connection
        try:
            tls.settimeout(IDLE_SECONDS)
            self.RequestHandlerClass(tls, client_address, self)  # type: ignore[arg-type]
        finally:
            with contextlib.suppress(OSError):
                tls.close()

    def handle_error(self, request, client_address) -> None:
        if self.owner.verbose:
            super().handle_error(request, client_address)


class LocalAzureServer:
    """The HTTPS front of one Emulator: ``start()``, ``stop()``, ``base_url``, ``vault_url(name)``."""

    def __init__(self, env, *, port: int = 0, tls_dir: Path | None = None, verbose: bool = False) -> None:
        self.env = env
        self.verbose = verbose
        db = Path(str(env.store.path))
        self.tls = ensure_certificates(tls_dir or Path(f"{db}.tls"))
        self.ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ssl_context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.ssl_context.load_cert_chain(self.tls.server_cert, self.tls.server_key)
        self.issuer = tokens.Issuer(env, self.tls.ca_cert.parent)
        self.client_id = tokens.register_application(env, env.deployer_object_id)
        self.client_secret = ""
        self.identity_header = secrets.token_urlsafe(24)
        self._lock = threading.Lock()
        self._listeners: list[_Listener] = []
        self._threads: list[threading.Thread] = []
        self._arm = self._listen(port, None)
        self.book = AddressBook(self._arm.server_address[1])

    @property
    def port(self) -> int:
        return self._arm.server_address[1]

    @property
    def base_url(self) -> str:
        return self.book.arm_base + "/"

    def _listen(self, port: int, vault_name: str | None) -> _Listener:
        listener = _Listener(self, port, vault_name)
        self._listeners.append(listener)
        return listener

    def _run(self, listener: _Listener) -> None:
        thread = threading.Thread(
            target=listener.serve_forever, name=f"local-azure:{listener.server_address[1]}", daemon=True
        )
        thread.start()
        self._threads.append(thread)

    def open_vault(self, name: str) -> str:
        """The local base URL of key vault ``name``, opening its listener on first use."""
        with self._lock:
            if name not in self.book.vault_ports:
                remembered = (self.env.store.meta(PORTS_META_KEY, {}) or {}).get(name)
                try:
                    listener = self._listen(int(remembered or 0), name)
                except OSError:
                    listener = self._listen(0, name)
                self.book.vault_ports[name] = listener.server_address[1]
                ports = dict(self.env.store.meta(PORTS_META_KEY, {}) or {})
                ports[name] = listener.server_address[1]
                self.env.store.set_meta(PORTS_META_KEY, ports)
                if self._threads:
                    self._run(listener)
            return self.book.vault_base(name)

    def vault_url(self, name: str) -> str:
        return self.open_vault(name.lower()) + "/"

    def openid_configuration(self, tenant: str) -> dict:
        """The login host's discovery document (what MSAL reads before asking for a token)."""
        base = f"{self.book.arm_base}/{tenant}"
        return {
            "issuer": f"{base}/v2.0",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "token id_token"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "tenant_region_scope": "EU",
        }

    def metadata_endpoints(self) -> list[dict]:
        """This local Azure as a cloud environment, in the shape azurerm's ``metadata_host`` reads
        (hashicorp/go-azure-sdk sdk/environments/metadata.go): login, ARM and the Key Vault suffix."""
        return [
            {
                "name": "VaultformLocal",
                "resourceManager": self.book.arm_base + "/",
                "authentication": {
                    "loginEndpoint": self.book.arm_base,
                    "audiences": ["https://management.azure.com/"],
                    "tenant": self.env.tenant_id,
                    "identityProvider": "AAD",
                },
                "suffixes": {"keyVaultDns": "vault.azure.net"},
                "portal": "",
                "graph": "",
                "graphAudience": "",
                "batch": "",
                "gallery": "",
                "media": "",
                "sqlManagement": "",
                "vmImageAliasDoc": "",
                "activeDirectoryDataLake": "",
            }
        ]

    def managed_identity(self, query: dict[str, str]) -> str | None:
        """The principal a managed identity token request names (see ``_serve_managed_identity``)."""
        from providers.azurelocal.store import Kind

        wanted = {
            k: (query.get(k) or "").lower() for k in ("client_id", "principal_id", "object_id", "mi_res_id")
        }
        if not any(wanted.values()):
            return self.env.deployer_object_id
        for record in self.env.store.list(Kind.PRINCIPAL):
            if record.get("kind") != "user_assigned":
                continue
            if (
                (wanted["client_id"] and str(record.get("client_id", "")).lower() == wanted["client_id"])
                or (wanted["principal_id"] or wanted["object_id"]) in (str(record["object_id"]).lower(),)
                or (wanted["mi_res_id"] and str(record.get("resource_id", "")).lower() == wanted["mi_res_id"])
            ):
                return record["object_id"]
        return None

    def token_for(self, object_id: str | None = None, audience: str = "https://management.azure.com") -> str:
        """A token signed by this local Azure (what ``vaultform cloud token`` prints)."""
        return self.issuer.issue(object_id or self.env.deployer_object_id, audience)[0]

    def start(self) -> LocalAzureServer:
        from providers.azurelocal.store import Kind

        # The deployer's application signs in with a secret made fresh at each start, printed by the banner.
        record = tokens.registrations(self.env)[self.client_id]
        record["secrets"] = []
        tokens._save_registration(self.env, self.client_id, record)
        self.client_secret = tokens.add_client_secret(self.env, self.client_id)

        for doc in self.env.store.list(Kind.KEY_VAULT):
            self.open_vault(doc["name"].lower())
        with self._lock:
            for listener in list(self._listeners):
                self._run(listener)
        return self

    def stop(self) -> None:
        for listener in self._listeners:
            listener.shutdown()
            listener.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def environment(self) -> dict[str, str]:
        """What a client needs: ``export`` these and use ``base_url``. vaultform (and azurerm's
        variables) sign in as the deployer with its client secret through this local Azure's login host."""
        return {
            "REQUESTS_CA_BUNDLE": str(self.tls.ca_cert),
            "AZURE_SUBSCRIPTION_ID": self.env.subscription_id,
            "ARM_SUBSCRIPTION_ID": self.env.subscription_id,
            "AZURE_TENANT_ID": self.env.tenant_id,
            "ARM_TENANT_ID": self.env.tenant_id,
            "ARM_CLIENT_ID": self.client_id,
            "ARM_CLIENT_SECRET": self.client_secret,
            "ARM_METADATA_HOSTNAME": f"{LOOPBACK}:{self.port}",
            "VAULTFORM_CLOUD": "azure",
            "VAULTFORM_OBJECT_ID": self.env.deployer_object_id,
            "VAULTFORM_LOCAL_AZURE_URL": self.base_url,
        }

    def banner(self, db_hint: str = "") -> str:
        lines = [f"local Azure listening on {self.base_url}", f"CA certificate: {self.tls.ca_cert}"]
        lines.append(f"token endpoint: {self.book.arm_base}/{self.env.tenant_id}/oauth2/v2.0/token")
        for name, port in sorted(self.book.vault_ports.items()):
            lines.append(f"key vault {name}: https://{LOOPBACK}:{port}/")
        lines.append("")
        lines.append("Only tokens this local Azure issued are accepted. Sign in as the deployer with:")
        lines += [f"export {k}={v}" for k, v in self.environment().items()]
        lines.append("")
        lines.append('A bearer token for scripts (curl -H "Authorization: Bearer $TOKEN"):')
        lines.append(f"export TOKEN=$(vaultform cloud token{db_hint})")
        lines.append(f"Key Vault: vaultform cloud token{db_hint} -resource https://vault.azure.net")
        lines.append("")
        lines.append("Managed identity (ARM_USE_MSI=true; ARM_CLIENT_ID picks a user-assigned identity):")
        lines.append(f"export IDENTITY_ENDPOINT={self.book.arm_base}{MSI_PATH}")
        lines.append(f"export IDENTITY_HEADER={self.identity_header}")
        return "\n".join(lines)

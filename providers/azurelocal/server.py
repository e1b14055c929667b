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
(``REQUESTS_CA_BUNDLE``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
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

from providers.azurelocal.http import Request
from providers.azurelocal.services.keys import CLIENT_ADDRESS_HEADER

ARM_HOST = "management.azure.com"
LOOPBACK = "127.0.0.1"
PORTS_META_KEY = "server_vault_ports"
CERT_DAYS = 825
_VAULT_URL_RE = re.compile(r"https://([0-9a-z-]+)\.vault\.azure\.net(?::443)?", re.IGNORECASE)
_URL_HEADERS = ("location", "azure-asyncoperation", "operation-location", "www-authenticate")


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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vaultform-local-azure"

    def log_message(self, format: str, *args) -> None:
        if self.server.owner.verbose:
            super().log_message(format, *args)

    def _serve(self) -> None:
        owner: LocalAzureServer = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != CLIENT_ADDRESS_HEADER}
        headers[CLIENT_ADDRESS_HEADER] = self.client_address[0]
        vault = self.server.vault_name
        host = f"{vault}.vault.azure.net" if vault else ARM_HOST
        if body:
            try:
                body = owner.book.to_azure(body.decode("utf-8")).encode("utf-8")
            except UnicodeDecodeError:
                pass
        request = Request(
            method=self.command.upper(),
            host=host,
            path=unquote(parts.path or "/"),
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=headers,
            body=body,
        )
        response = owner.env.handle(request)
        data = response.encoded()
        if data and not isinstance(response.body, bytes):
            data = owner.book.to_local(data.decode("utf-8"), owner.open_vault).encode("utf-8")
        out_headers = dict(response.headers)
        for name in list(out_headers):
            if name.lower() in _URL_HEADERS:
                value = owner.book.to_local(out_headers[name], owner.open_vault)
                if name.lower() == "www-authenticate" and vault:
                    netloc = self.headers.get("Host") or f"{LOOPBACK}:{self.server.server_address[1]}"
                    value = value.replace(
                        'resource="https://vault.azure.net"', f'resource="{challenge_resource(netloc)}"'
                    )
                out_headers[name] = value
        self.send_response(response.status)
        for name, value in out_headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _serve


class _Listener(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, owner: LocalAzureServer, port: int, vault_name: str | None) -> None:
        super().__init__((LOOPBACK, port), _Handler)
        self.owner = owner
        self.vault_name = vault_name
        self.socket = owner.ssl_context.wrap_socket(self.socket, server_side=True)


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

    def start(self) -> LocalAzureServer:
        from providers.azurelocal.store import Kind

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
        """What a client needs: ``export`` these and use ``base_url``."""
        return {
            "REQUESTS_CA_BUNDLE": str(self.tls.ca_cert),
            "AZURE_SUBSCRIPTION_ID": self.env.subscription_id,
            "ARM_SUBSCRIPTION_ID": self.env.subscription_id,
            "AZURE_TENANT_ID": self.env.tenant_id,
            "ARM_TENANT_ID": self.env.tenant_id,
            "VAULTFORM_OBJECT_ID": self.env.deployer_object_id,
            "VAULTFORM_LOCAL_AZURE_URL": self.base_url,
        }

    def banner(self) -> str:
        lines = [f"local Azure listening on {self.base_url}", f"CA certificate: {self.tls.ca_cert}"]
        for name, port in sorted(self.book.vault_ports.items()):
            lines.append(f"key vault {name}: https://{LOOPBACK}:{port}/")
        lines.append("")
        lines += [f"export {k}={v}" for k, v in self.environment().items()]
        return "\n".join(lines)

"""Real servers for backend tests, started in a temporary directory on a free 127.0.0.1 port.

A missing server binary skips the test with what to install - unless VAULTFORM_REQUIRE_SERVERS=1
(CI), where it fails.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

REQUIRE = "VAULTFORM_REQUIRE_SERVERS"


def missing(what: str, install: str) -> None:
    message = f"{what} is not installed: {install}"
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{message} ({REQUIRE}=1 requires it)")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """A PostgreSQL cluster of its own: ``initdb`` into ``directory``, ``pg_ctl start`` on ``port``."""

    def __init__(self, directory: Path, run_as: str | None = None):
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.user = "vaultform"
        # PostgreSQL refuses to run as root: then its own account runs it
        self.prefix = ["runuser", "-u", run_as, "--"] if run_as else []

    def start(self) -> None:
        subprocess.run(
            [
                *self.prefix,
                "initdb",
                "-D",
                str(self.data),
                "-U",
                self.user,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        options = f"-h 127.0.0.1 -p {self.port} -k '' -c fsync=off -c max_connections=60"
        subprocess.run(
            [
                *self.prefix,
                "pg_ctl",
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.directory / "log"),
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        subprocess.run(
            [*self.prefix, "pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
        )

    def conn_str(self, database: str = "postgres") -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{database}?sslmode=disable"


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    if not (shutil.which("initdb") and shutil.which("pg_ctl")):
        missing(
            "PostgreSQL (initdb, pg_ctl)", "install the PostgreSQL server, e.g. apt-get install postgresql"
        )
    run_as = None
    directory = tmp_path_factory.mktemp("pg")
    if os.geteuid() == 0:
        run_as = _unprivileged_account()
        directory = Path(tempfile.mkdtemp(prefix="vaultform-pg-"))  # pytest's root-only tree is closed to it
        account = pwd.getpwnam(run_as)
        os.chown(directory, account.pw_uid, account.pw_gid)
    server = Postgres(directory, run_as)
    try:
        server.start()
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"PostgreSQL did not start: {exc.stderr.decode(errors='replace')}")
    try:
        yield server
    finally:
        server.stop()
        if run_as:
            shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def database(postgres, request):
    """A new, empty database on ``postgres``, named after the test: its connection string."""
    name = "t_" + request.node.name.lower().replace("[", "_").replace("]", "")[:50]
    with psycopg.connect(postgres.conn_str(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres.conn_str(name)


def _unprivileged_account() -> str:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    missing("an unprivileged account to run PostgreSQL as", "run the tests as a normal user")
    raise AssertionError("unreachable")


# Azurite's well-known development account (https://learn.microsoft.com/azure/storage/common/
# storage-use-azurite#well-known-storage-account-and-key)
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
AZURITE_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vaultform" / "azurite"


class Azurite:
    """Azurite's blob service in ``directory`` on a free 127.0.0.1 port. With ``tls`` (a PEM certificate
    and key), over HTTPS and checking bearer tokens as well (``--oauth basic``: the token's issuer,
    audience and lifetime - Azurite takes OAuth only over HTTPS)."""

    def __init__(self, program: str, directory: Path, tls: tuple[Path, Path] | None = None):
        self.program = program
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.tls = tls

    @property
    def endpoint(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}/{AZURITE_ACCOUNT}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.program,
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(self.port),
                "--location",
                str(self.directory),
                "--skipApiVersionCheck",
                "--loose",
                "--silent",
                "--disableTelemetry",
                *(
                    ["--cert", str(self.tls[0]), "--key", str(self.tls[1]), "--oauth", "basic"]
                    if self.tls
                    else []
                ),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Azurite ended: {self.process.stderr.read().decode(errors='replace')}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError("Azurite did not listen within 60s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def container(self, name: str):
        """A new, empty container ``name`` (an existing one is emptied)."""
        from azure.storage.blob import BlobServiceClient

        service = BlobServiceClient(
            self.endpoint, credential={"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}
        )
        client = service.get_container_client(name)
        if client.exists():
            for blob in client.list_blobs():
                client.get_blob_client(blob.name).delete_blob(delete_snapshots="include")
        else:
            client.create_container()
        return client


def _azurite_program() -> str | None:
    """``azurite-blob`` on PATH, else in the cache, else installed there with npm (when npm exists)."""
    found = shutil.which("azurite-blob")
    cached = AZURITE_CACHE / "node_modules" / ".bin" / "azurite-blob"
    if found:
        return found
    if cached.exists():
        return str(cached)
    if not (shutil.which("npm") and shutil.which("node")):
        return None
    AZURITE_CACHE.mkdir(parents=True, exist_ok=True)
    # test workers (pytest -n) start at once: one installs, the others wait for it
    with open(AZURITE_CACHE / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cached.exists():
            return str(cached)
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(AZURITE_CACHE), "azurite@3"],
            capture_output=True,
            text=True,
            timeout=600,
        )
    if done.returncode != 0 or not cached.exists():
        pytest.fail(f"npm could not install Azurite into {AZURITE_CACHE}:\n{done.stderr[-2000:]}")
    return str(cached)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory):
    program = _azurite_program()
    if program is None:
        missing(
            "Azurite (node and npm)", "install Node.js and npm; the tests then install azurite themselves"
        )
    server = Azurite(program, tmp_path_factory.mktemp("azurite"))
    try:
        server.start()
    except RuntimeError as exc:
        pytest.fail(f"Azurite did not start: {exc}")
    try:
        yield server
    finally:
        server.stop()

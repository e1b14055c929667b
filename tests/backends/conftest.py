"""Real servers for backend tests, started in a temporary directory on a free 127.0.0.1 port.

A missing server binary skips the test with what to install - unless VAULTFORM_REQUIRE_SERVERS=1
(CI), where it fails.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

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


def _unprivileged_account() -> str:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    missing("an unprivileged account to run PostgreSQL as", "run the tests as a normal user")
    raise AssertionError("unreachable")

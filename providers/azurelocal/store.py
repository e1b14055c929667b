"""SQLite persistence for the local Azure: one file, safe for several processes.

Every Azure object is a JSON document in ``objects`` keyed by (kind, id); ids are
compared case-insensitively, as Azure compares resource ids. Services keep their
own richer tables when they need them (key material, recovery points, activity)
and create them with ``ensure_table``. All writes happen inside ``transaction()``
(``BEGIN IMMEDIATE``), so two processes never interleave a read-modify-write.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

from providers.azurelocal import crypto

SCHEMA_VERSION = 1

_BASE_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL,
    id_key TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id_key)
);
"""


def default_path() -> Path:
    env = os.environ.get("VAULTFORM_LOCAL_AZURE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".vaultform" / "local-azure.db"


# The database holds key material (sealed) and secrets in clear; SQLite creates its WAL
# and SHM files with the database's own mode, so the database is created 0600 first.
PRIVATE_SUFFIXES = ("", "-wal", "-shm", "-journal", ".key")


def _make_private(path: Path) -> None:
    """Create the database file owner-only if it is missing; make it and every file beside it
    (WAL, SHM, journal, master key) owner-only if they exist with a wider mode."""
    # Only a missing file is created (and its descriptor closed) here: closing any descriptor
    # of a database this process already has open drops SQLite's POSIX locks on it, and a
    # database written without its locks is corrupted.
    if not os.path.lexists(path):
        with contextlib.suppress(OSError):  # created meanwhile, or a path sqlite will report on
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600))
    for suffix in PRIVATE_SUFFIXES:
        beside = Path(f"{path}{suffix}")
        with contextlib.suppress(OSError):
            if beside.is_file() and beside.stat().st_mode & 0o077:
                beside.chmod(0o600)


class Store:
    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _make_private(self.path)
            # a database that holds sealed keys is useless without its master key: say so now,
            # not at the first unwrap (where it reads as "the wrapped key was altered")
            crypto.check_master_key(self.path)
        self._local = threading.local()
        self._lock = threading.RLock()
        self._opened: list[sqlite3.Connection] = []  # every thread's connection, for ``close``
        self.ensure_table(_BASE_SCHEMA)

    # ------------------------------------------------------------------ connection

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            self._local.depth = 0
            with self._lock:
                self._opened.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; nested calls join the outer one."""
        conn = self._conn()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield conn
            finally:
                self._local.depth -= 1
            return
        self._local.depth = 1
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            self._local.depth = 0

    def ensure_table(self, ddl: str) -> None:
        """Run idempotent DDL (``CREATE ... IF NOT EXISTS``).

        Outside a transaction the script runs as is; inside one (``executescript`` would commit it
        early) each statement runs on its own within the open transaction.
        """
        conn = self._conn()
        if getattr(self._local, "depth", 0):
            for statement in ddl.split(";"):
                if statement.strip():
                    conn.execute(statement)
            return
        conn.executescript(ddl)

    def close(self) -> None:
        """Close every thread's connection (a refresh reads from a pool of threads, each with its
        own); a later call opens a new one."""
        with self._lock:
            opened, self._opened = self._opened, []
            self._local = threading.local()
        for conn in opened:
            conn.close()

    # ------------------------------------------------------------------ documents

    def get(self, kind: str, id: str) -> dict | None:
        row = (
            self._conn()
            .execute("SELECT body FROM objects WHERE kind=? AND id_key=?", (kind, id.lower()))
            .fetchone()
        )
        return json.loads(row[0]) if row else None

    def put(self, kind: str, id: str, body: dict) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO objects(kind, id_key, id, body) VALUES (?,?,?,?) "
                "ON CONFLICT(kind, id_key) DO UPDATE SET id=excluded.id, body=excluded.body",
                (kind, id.lower(), id, json.dumps(body, sort_keys=True)),
            )

    def delete(self, kind: str, id: str) -> bool:
        with self.transaction() as db:
            cur = db.execute("DELETE FROM objects WHERE kind=? AND id_key=?", (kind, id.lower()))
            return cur.rowcount > 0

    def list(self, kind: str, prefix: str = "") -> list[dict]:
        """Documents of ``kind`` whose id starts with ``prefix`` (case-insensitive), by id."""
        p = prefix.lower()
        if not p:
            rows = self._conn().execute("SELECT body FROM objects WHERE kind=? ORDER BY id_key", (kind,))
            return [json.loads(r[0]) for r in rows.fetchall()]
        # the range lets SQLite seek in the (kind, id_key) key instead of reading every row of the kind
        # (a vault's protected items among all the items of an estate); substr keeps the match exact
        rows = self._conn().execute(
            "SELECT body FROM objects WHERE kind=? AND id_key>=? AND id_key<? AND substr(id_key, 1, ?)=? "
            "ORDER BY id_key",
            (kind, p, p + "\U0010ffff", len(p), p),
        )
        return [json.loads(r[0]) for r in rows.fetchall()]

    # ------------------------------------------------------------------ meta

    def object_count(self) -> int:
        """How many objects the database holds (of every kind)."""
        return self._conn().execute("SELECT COUNT(*) FROM objects").fetchone()[0]

    def meta(self, key: str, default: Any = None) -> Any:
        row = self._conn().execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_meta(self, key: str, value: Any) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, json.dumps(value)),
            )


# ---------------------------------------------------------------------- document kinds


class Kind(StrEnum):
    """The ``kind`` column values the emulator's services use."""

    SUBSCRIPTION = "subscription"
    PRINCIPAL = "principal"
    RESOURCE_GROUP = "resourcegroup"
    IDENTITY = "identity"
    KEY_VAULT = "keyvault"
    DELETED_KEY_VAULT = "deletedkeyvault"
    ROLE_ASSIGNMENT = "roleassignment"
    RS_VAULT = "rsvault"
    BACKUP_POLICY = "backuppolicy"
    PROTECTION_CONTAINER = "protectioncontainer"
    PROTECTED_ITEM = "protecteditem"
    RECOVERY_POINT = "recoverypoint"
    JOB = "backupjob"
    OPERATION = "operation"
    VM = "vm"
    DISK = "disk"
    DISK_ENCRYPTION_SET = "diskencryptionset"


SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite 3 database file


def is_database_file(path: Path) -> bool:
    """Whether ``path`` is a file a local Azure may have written: empty, or an SQLite database with
    the local Azure's ``meta`` table (or none at all, or too damaged to tell - what reset is for);
    another application's database is not."""
    try:
        if not path.is_file():
            return False
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError:
        return False
    if head != SQLITE_HEADER:
        return head == b""
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            con.close()
    except sqlite3.Error:
        return True
    return not tables or "meta" in tables

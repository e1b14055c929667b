"""The PostgreSQL backend: one row per workspace in a ``states`` table, advisory locks.

The layout is Terraform's pg backend's (https://developer.hashicorp.com/terraform/language/backend/pg:
"a table named states in the automatically-managed Postgres schema configured by the schema_name
variable", default ``terraform_remote_state``; one row per workspace, keyed by its name, the state
JSON in ``data``), so a database Terraform set up is used as it is:

    CREATE SCHEMA IF NOT EXISTS terraform_remote_state;
    CREATE SEQUENCE IF NOT EXISTS public.global_states_id_seq AS bigint;
    CREATE TABLE IF NOT EXISTS terraform_remote_state.states
        (id bigint NOT NULL DEFAULT nextval('public.global_states_id_seq') PRIMARY KEY,
         name text UNIQUE, data text);
    CREATE UNIQUE INDEX IF NOT EXISTS states_by_name ON terraform_remote_state.states (name);

``skip_schema_creation``, ``skip_table_creation`` and ``skip_index_creation`` leave the matching
statement out, for a database whose owner created them.

A write is one transaction: the stored row is locked ``FOR UPDATE``, compared with what this run
read (a row another run wrote meanwhile is refused, as the local file's stamp is), and replaced
with the next serial. The comparison is of SHA-256 digests PostgreSQL computes of the stored text
(``sha256``, PostgreSQL 11 and later), so a write neither downloads nor decodes the state it
replaces while the row is the one this run read or last wrote: apply persists many times, and a
write costs what encoding and sending the new state costs, as the local file's does.

Locking is session-level ``pg_try_advisory_lock`` on a connection this backend holds for the
whole run: vaultform's own key for the workspace, and Terraform's pg backend lock as Terraform
takes it (``pg_terraform_lock``), so a terraform run and a vaultform run on one state exclude each
other. PostgreSQL itself releases them when that session ends - however the holder ends, a
SIGKILL included - so a killed holder's lock is free at once; a run whose connection is lost while
it holds the lock stops rather than go on without it. Who holds vaultform's lock is kept beside
the state in a ``vaultform_locks`` table (invented: Terraform's pg backend records no holder), so a
run that finds the state locked names the holder - or, when only Terraform's lock is held, says
that a run holding Terraform's lock (terraform) has it - and a run that gets the lock while an old
row is still there knows that row's session ended and says whose lock PostgreSQL released.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from state.backends import pg_terraform_lock as tf_lock
from state.encryption.target import TargetEncryption
from state.errors import StateError
from state.format import StateEncoder
from state.liveness import own_start
from state.lock import Lock, LockError, LockInfo, Takeover, _user, default_unlock_command
from state.model import VAULTFORM_VERSION, State

DEFAULT_SCHEMA = "terraform_remote_state"
DEFAULT_WORKSPACE = "default"
# what tells one stored text from another: its SHA-256, computed where the text is (PostgreSQL 11+:
# https://www.postgresql.org/docs/current/functions-binarystring.html), so reading it moves 64
# characters instead of the whole state; the same expression everywhere, whatever the database's
# encoding, so digests are compared only with digests PostgreSQL made
_DIGEST = "encode(sha256(convert_to(data, 'UTF8')), 'hex')"


@dataclass(frozen=True, slots=True)
class _OwnLockHeld:
    """What refused a lock when another vaultform run holds vaultform's own key on the workspace."""


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
        raise StateError(
            "pg backend", "the psycopg package is missing", hint="Install it: pip install 'psycopg[binary]'."
        ) from None
    return psycopg


def without_password(conn_str: str) -> str:
    """``conn_str`` with any password removed (what may be written down; libpq then takes the
    password from PGPASSWORD or ~/.pgpass)."""
    conninfo = _psycopg().conninfo
    try:
        params = conninfo.conninfo_to_dict(conn_str)
    except Exception:  # psycopg.ProgrammingError; an unparsable string is reported when used
        return conn_str
    if "password" not in params:
        return conn_str
    params.pop("password")
    return str(conninfo.make_conninfo(**{k: v for k, v in params.items() if v is not None}))


class _PgLock(Lock):
    """A held advisory lock; releasing unlocks it and removes the holder's row."""

    def __init__(self, backend: PgBackend, info: LockInfo, taken_over: Takeover | None):
        self.state_path = backend.describe()
        self.lock_path = backend.describe()
        self.info = info
        self.taken_over = taken_over
        self._backend: PgBackend | None = backend
        self._fd = 0  # "held" for Lock.held

    def release(self) -> None:
        backend, self._backend = self._backend, None
        self._fd = None
        if backend is not None:
            backend._release(self.info)

    def __repr__(self) -> str:
        return f"PgLock({self.lock_path!r}, id={self.id!r}, held={self.held})"


class PgBackend:
    """State in PostgreSQL (see the module's doc)."""

    def __init__(
        self,
        conn_str: str,
        *,
        schema_name: str = DEFAULT_SCHEMA,
        workspace: str = DEFAULT_WORKSPACE,
        skip_schema_creation: bool = False,
        skip_table_creation: bool = False,
        skip_index_creation: bool = False,
        directory: str | None = None,
        encryption: TargetEncryption | None = None,
    ):
        self.conn_str = conn_str
        self.schema = schema_name
        self.workspace = workspace
        self.skip_schema_creation = skip_schema_creation
        self.skip_table_creation = skip_table_creation
        self.skip_index_creation = skip_index_creation
        self.directory = directory
        self._conn: Any = None
        self._encoder = StateEncoder(encryption)
        self._persisted: State | None = None
        self._digest: str | None = None  # the stored text as last read or written
        self._loaded = False
        self._set_up = False
        self._own_key_held = False  # vaultform's advisory lock on this workspace
        self._terraform_keys: list[int] = []  # Terraform's lock keys held (``pg_terraform_lock``)

    # ------------------------------------------------------------------ naming

    def describe(self) -> str:
        return f'pg backend {self._safe_dsn()} (schema {self.schema}, workspace "{self.workspace}")'

    def _safe_dsn(self) -> str:
        return without_password(self.conn_str)

    def identity(self) -> str:
        return f"pg:{self._safe_dsn()}:{self.schema}:{self.workspace}"

    def unlock_arguments(self) -> list[str]:
        if self.directory is None or os.path.normpath(self.directory) == ".":
            return []
        return [self.directory]

    def __repr__(self) -> str:
        return f"PgBackend({self.identity()!r})"

    # ------------------------------------------------------------------ connection

    def _holds_lock(self) -> bool:
        return self._own_key_held or bool(self._terraform_keys)

    def _connection(self) -> Any:
        if self._conn is not None and self._conn.closed and self._holds_lock():
            # the locks ended with the session: going on would write without them
            raise StateError(
                self.describe(),
                "the connection to PostgreSQL that held the state lock was lost",
                hint="PostgreSQL released the lock with the session, so another run may have taken it; "
                "this run stopped rather than go on without the lock. Check the state and run again.",
            )
        if self._conn is None or self._conn.closed:
            psycopg = _psycopg()
            try:
                self._conn = psycopg.connect(self.conn_str, autocommit=True, connect_timeout=10)
            except psycopg.Error as exc:
                raise StateError(
                    self.describe(),
                    f"cannot connect to PostgreSQL ({str(exc).strip()})",
                    hint="Check conn_str (or PG_CONN_STR) and that the server runs; the password comes "
                    "from the connection string, PGPASSWORD or ~/.pgpass.",
                ) from None
            self._set_up = False
        if not self._set_up:
            self._create_objects(self._conn)
            self._set_up = True
        return self._conn

    def _table(self, name: str) -> Any:
        sql = _psycopg().sql
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(name))

    def _create_objects(self, conn: Any) -> None:
        sql = _psycopg().sql
        schema = sql.Identifier(self.schema)
        statements = []
        if not self.skip_schema_creation:
            statements.append(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
        if not self.skip_table_creation:
            statements.append(sql.SQL("CREATE SEQUENCE IF NOT EXISTS public.global_states_id_seq AS bigint"))
            statements.append(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (id bigint NOT NULL DEFAULT "
                    "nextval('public.global_states_id_seq') PRIMARY KEY, name text UNIQUE, data text)"
                ).format(self._table("states"))
            )
        if not self.skip_index_creation:
            statements.append(
                sql.SQL("CREATE UNIQUE INDEX IF NOT EXISTS states_by_name ON {} (name)").format(
                    self._table("states")
                )
            )
        statements.append(
            sql.SQL("CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, info text NOT NULL)").format(
                self._table("vaultform_locks")
            )
        )
        psycopg = _psycopg()
        try:
            # concurrent first runs would race on CREATE ... IF NOT EXISTS; one at a time
            with conn.transaction():
                conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", ("vaultform-setup:" + self.schema,)
                )
                for statement in statements:
                    conn.execute(statement)
        except psycopg.Error as exc:
            raise StateError(
                self.describe(),
                f"cannot set up the states table ({str(exc).strip()})",
                hint="The user needs rights to create the schema and tables, or create them yourself and "
                "set skip_schema_creation / skip_table_creation / skip_index_creation.",
            ) from None

    def close(self) -> None:
        self._own_key_held, self._terraform_keys = False, []  # ending the session releases them
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def _fail(self, exc: Exception, what: str) -> StateError:
        return StateError(self.describe(), f"{what} ({str(exc).strip()})")

    # ------------------------------------------------------------------ reading

    def _fetch(self, conn: Any, *, for_update: bool = False) -> tuple[str | None, str | None]:
        """The stored text and its digest (``_DIGEST``); (None, None) when no state is stored."""
        sql = _psycopg().sql
        query = sql.SQL(
            "SELECT data, " + _DIGEST + " FROM {} WHERE name = %s" + (" FOR UPDATE" if for_update else "")
        ).format(self._table("states"))
        row = conn.execute(query, (self.workspace,)).fetchone()
        return (row[0], row[1]) if row is not None and row[0] is not None else (None, None)

    def _stored_digest(self, conn: Any, *, for_update: bool = False) -> str | None:
        """The digest of the stored text, computed by PostgreSQL: the text itself stays there."""
        sql = _psycopg().sql
        query = sql.SQL(
            "SELECT " + _DIGEST + " FROM {} WHERE name = %s" + (" FOR UPDATE" if for_update else "")
        ).format(self._table("states"))
        row = conn.execute(query, (self.workspace,)).fetchone()
        return row[0] if row is not None else None

    def read(self) -> State | None:
        psycopg = _psycopg()
        try:
            text, digest = self._fetch(self._connection())
        except psycopg.Error as exc:
            raise self._fail(exc, "cannot read the state") from None
        state = self._encoder.decode(text, source=self.describe()) if text is not None else None
        self._persisted, self._digest, self._loaded = state, digest, True
        return state

    def stored_lineage(self) -> str | None:
        """The stored state's lineage: the one this run read or wrote while the row is unchanged since
        (its digest says so), else the stored text's, downloaded and decoded."""
        psycopg = _psycopg()
        try:
            conn = self._connection()
            if self._loaded and self._stored_digest(conn) == self._digest:
                return self._persisted.lineage if self._persisted is not None else None
            text, _ = self._fetch(conn)
        except psycopg.Error as exc:
            raise self._fail(exc, "cannot read the state") from None
        return self._encoder.decode(text, source=self.describe()).lineage if text is not None else None

    def stamp(self) -> str | None:
        """What is stored now, as a digest (``reload_state_if_changed`` compares it)."""
        psycopg = _psycopg()
        try:
            return self._stored_digest(self._connection())
        except psycopg.Error as exc:
            raise self._fail(exc, "cannot read the state") from None

    def workspaces(self) -> list[str]:
        sql = _psycopg().sql
        rows = self._connection().execute(
            sql.SQL("SELECT name FROM {} ORDER BY name").format(self._table("states"))
        )
        names = {r[0] for r in rows}
        return sorted(names | {DEFAULT_WORKSPACE})

    def delete_workspace(self, name: str) -> None:
        sql = _psycopg().sql
        self._connection().execute(
            sql.SQL("DELETE FROM {} WHERE name = %s").format(self._table("states")), (name,)
        )

    # ------------------------------------------------------------------ writing

    def write(self, state: State, *, force: bool = False) -> State:
        psycopg = _psycopg()
        conn = self._connection()
        try:
            with conn.transaction():
                current, digest = self._current(conn, force)
                if current is not None:
                    if state.lineage != current.lineage and not force:
                        raise StateError(
                            self.describe(),
                            f"refusing to write a state of lineage {state.lineage} over the "
                            f"stored state of lineage {current.lineage}",
                            hint="The two states have different histories. Use `vaultform state push "
                            "-force` if you really mean to replace the stored state.",
                        )
                    if state.same_content(current) and not self._encoder.outdated:
                        self._persisted, self._digest, self._loaded = current, digest, True
                        return current
                    serial = current.serial + 1
                    if force:
                        serial = max(serial, state.serial)
                else:
                    serial = state.serial + 1
                new = state.with_serial(serial)
                data = b"".join(self._encoder.encode_chunks(new)).decode("utf-8")
                row = conn.execute(
                    _psycopg()
                    .sql.SQL(
                        "INSERT INTO {} (name, data) VALUES (%s, %s) "
                        "ON CONFLICT (name) DO UPDATE SET data = EXCLUDED.data RETURNING " + _DIGEST + ", id"
                    )
                    .format(self._table("states")),
                    (self.workspace, data),
                ).fetchone()
                self._lock_row(conn, int(row[1]))
            self._creation_done(conn)
        except psycopg.Error as exc:
            raise StateError(
                self.describe(),
                f"could not write the state ({str(exc).strip()})",
                hint="The transaction was rolled back: the stored state is unchanged. Run again.",
            ) from None
        self._persisted, self._digest, self._loaded = new, row[0], True
        return new

    def _current(self, conn: Any, force: bool) -> tuple[State | None, str | None]:
        """The stored state and its digest, its row locked until the transaction ends. While the row
        is the one this run read or last wrote, that is the state remembered, not downloaded and
        decoded again; a row another run wrote meanwhile is refused (unless ``force``)."""
        if self._loaded and not force:
            digest = self._stored_digest(conn, for_update=True)
            if digest != self._digest:
                raise StateError(
                    self.describe(),
                    "the stored state changed since this run read it",
                    hint="Another run wrote it, probably without the state lock. Nothing was written; "
                    "run again to start from the stored state.",
                )
            return self._persisted, digest
        text, digest = self._fetch(conn, for_update=True)
        if text is None:
            return None, None
        try:
            return self._encoder.decode(text, source=self.describe()), digest
        except StateError:
            if not force:
                raise
            return None, digest

    # ------------------------------------------------------------------ locking

    def _lock_key(self) -> str:
        return f"vaultform-state:{self.schema}:{self.workspace}"

    def _row_id(self, conn: Any) -> int | None:
        sql = _psycopg().sql
        row = conn.execute(
            sql.SQL("SELECT id FROM {} WHERE name = %s").format(self._table("states")), (self.workspace,)
        ).fetchone()
        return int(row[0]) if row is not None else None

    def _try_lock(self, conn: Any) -> tf_lock.Refusal | _OwnLockHeld | None:
        """Take vaultform's key, then Terraform's lock: None when both are held, else what refused,
        with neither held."""
        got = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (self._lock_key(),)).fetchone()
        if not got[0]:
            return _OwnLockHeld()
        self._own_key_held = True
        taken = tf_lock.try_lock(conn, self._row_id(conn))
        if isinstance(taken, tf_lock.Refusal):
            self._unlock(conn)
            return taken
        self._terraform_keys.append(taken)
        return None

    def _lock_row(self, conn: Any, row_id: int) -> None:
        """While this run holds Terraform's creation key for a workspace with no row, lock the row
        its write creates (within the writing transaction, so no other run sees the row unlocked)."""
        keys = self._terraform_keys
        if tf_lock.CREATION_KEY in keys and row_id not in keys and tf_lock.take(conn, row_id):
            keys.append(row_id)

    def _creation_done(self, conn: Any) -> None:
        """Let Terraform's creation key go once the workspace's row, locked, is committed."""
        keys = self._terraform_keys
        if tf_lock.CREATION_KEY in keys and any(k != tf_lock.CREATION_KEY for k in keys):
            keys.remove(tf_lock.CREATION_KEY)
            tf_lock.unlock(conn, tf_lock.CREATION_KEY)

    def _unlock(self, conn: Any) -> None:
        """Release every advisory lock this run holds for the state."""
        keys, self._terraform_keys = self._terraform_keys, []
        for key in reversed(keys):
            with contextlib.suppress(Exception):
                tf_lock.unlock(conn, key)
        if self._own_key_held:
            self._own_key_held = False
            with contextlib.suppress(Exception):
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (self._lock_key(),))

    def _holder(self, conn: Any) -> LockInfo | None:
        sql = _psycopg().sql
        row = conn.execute(
            sql.SQL("SELECT info FROM {} WHERE name = %s").format(self._table("vaultform_locks")),
            (self.workspace,),
        ).fetchone()
        return LockInfo.from_json(row[0]) if row else None

    def lock_lost(self) -> str | None:
        """Why this run no longer holds its advisory locks: PostgreSQL released them when the
        session that held them ended; None while it lives or holds none."""
        if self._holds_lock() and (self._conn is None or self._conn.closed):
            return "the connection to PostgreSQL that held the state lock was lost"
        return None

    def lock_info(self) -> LockInfo | None:
        return self._holder(self._connection())

    def lock(
        self,
        operation: str,
        timeout: float = 0.0,
        *,
        unlock_command: Callable[[str], str] = default_unlock_command,
        poll_interval: float = 0.25,
        **_options: Any,
    ) -> Lock:
        """Take vaultform's advisory lock and Terraform's, waiting up to ``timeout`` seconds;
        ``LockError`` naming the holder."""
        psycopg = _psycopg()
        conn = self._connection()
        deadline = time.monotonic() + max(timeout, 0.0)
        try:
            while True:
                refusal = self._try_lock(conn)
                if refusal is None:
                    return self._take(conn, operation)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    if isinstance(refusal, _OwnLockHeld):
                        raise self._held_error(self._holder(conn), timeout, unlock_command)
                    raise self._terraform_held_error(refusal, timeout)
                time.sleep(min(poll_interval, remaining))
        except psycopg.Error as exc:
            raise LockError(f"Cannot lock the state in {self.describe()}", str(exc).strip()) from None

    def _take(self, conn: Any, operation: str) -> Lock:
        sql = _psycopg().sql
        previous = self._holder(conn)
        taken_over = None
        if previous is not None:
            taken_over = Takeover(
                previous,
                "its PostgreSQL session ended, so PostgreSQL released its advisory lock",
            )
        host = socket.gethostname()
        info = LockInfo(
            id=str(uuid.uuid4()),
            who=f"{_user()}@{host}",
            operation=operation,
            created=datetime.now(UTC),
            pid=os.getpid(),
            host=host,
            version=VAULTFORM_VERSION,
            path=self.describe(),
            process_start=own_start(),
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (name, info) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET info = EXCLUDED.info"
            ).format(self._table("vaultform_locks")),
            (self.workspace, info.to_json()),
        )
        return _PgLock(self, info, taken_over)

    def _release(self, info: LockInfo) -> None:
        conn = self._conn
        if conn is None or conn.closed:
            self._own_key_held, self._terraform_keys = False, []
            return
        sql = _psycopg().sql
        with contextlib.suppress(Exception):
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE name = %s AND info::json->>'id' = %s").format(
                    self._table("vaultform_locks")
                ),
                (self.workspace, info.id),
            )
        self._unlock(conn)

    def _held_error(self, holder: LockInfo | None, waited: float, command: Callable[[str], str]) -> LockError:
        where = self.describe()
        lines = []
        if holder is None:
            lines.append(f"{where} is locked by a run that has not yet written its lock information.")
        else:
            lines.append(f"{where} is locked by {holder.describe()}.")
            lines.append(f"Lock ID: {holder.id}")
        if waited > 0:
            lines.append(f"vaultform waited {waited:g}s for it.")
        lines.append(
            "Wait for that run to finish and try again, or let vaultform wait for the lock with -lock-timeout=60s."
        )
        lines.append(
            "The lock is a PostgreSQL advisory lock held by that run's database session: when the run ends, "
            "however it ends, PostgreSQL releases it. If the run hangs, stop it."
        )
        return LockError("The state is locked by another run", "\n".join(lines), holder=holder)

    def _terraform_held_error(self, refusal: tf_lock.Refusal, waited: float) -> LockError:
        where = self.describe()
        if refusal.creation:
            lines = [
                f"{where} can't be locked while another run holds the workspace creation lock of "
                "Terraform's pg backend (advisory lock -1, one for every schema and workspace of the "
                "database): terraform holds it while it works on a workspace that had no stored state "
                "when it locked, vaultform until its first write to such a workspace."
            ]
        else:
            lines = [
                f"{where} is locked by a terraform run: it holds Terraform's pg backend lock on the "
                f"workspace (advisory lock {refusal.key}, its states row id), and no vaultform run "
                "holds the workspace's lock."
            ]
        if refusal.session:
            lines.append(f"The lock is held by {refusal.session}.")
        if waited > 0:
            lines.append(f"vaultform waited {waited:g}s for it.")
        lines.append(
            "Wait for that run to finish and try again, or let vaultform wait for the lock with -lock-timeout=60s."
        )
        lines.append(
            "PostgreSQL releases the lock when that run unlocks or its database session ends. "
            "vaultform force-unlock can't remove it: it records no vaultform lock ID."
        )
        return LockError("The state is locked by another run", "\n".join(lines))

    def force_unlock(self, lock_id: str, **_options: Any) -> LockInfo:
        """Remove the holder record of an ended run; a live session's advisory lock can't be taken away."""
        conn = self._connection()
        info = self._holder(conn)
        if info is None:
            raise LockError(f"{self.describe()} is not locked", "There is no lock to remove.")
        if info.id != lock_id:
            raise LockError(
                f"Lock ID {lock_id!r} does not match the lock on {self.describe()}",
                f"The lock's ID is {info.id}, held by {info.describe()}.",
                holder=info,
            )
        got = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (self._lock_key(),)).fetchone()
        self._own_key_held = bool(got[0])
        if not got[0]:
            raise LockError(
                f"The lock on {self.describe()} is held by a running process",
                f"{info.describe()} still holds its PostgreSQL session; force-unlock removes only locks whose "
                f"run has ended. Wait for it, or stop process {info.pid} first.",
                holder=info,
            )
        self._release(info)
        return info

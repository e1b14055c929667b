"""Terraform's pg backend lock, which the pg backend takes beside its own so that a terraform run and
a vaultform run on the same state exclude each other.

Terraform 1.11's pg backend (``internal/backend/remote-state/pg/client.go``) locks a workspace with
session advisory locks on single ``bigint`` keys:

* a workspace with a ``states`` row: the row's ``id`` together with the creation key ``-1``, in one
  query (``SELECT states.id, pg_try_advisory_lock(states.id), pg_try_advisory_lock(-1) FROM
  <schema>.states WHERE states.name = $1``). With both, it releases ``-1`` and holds the id; with
  only one, it releases that one and reports the workspace locked.
* a workspace with no row yet (a new workspace, or ``default`` before its first state): ``-1``
  alone, held until it unlocks.

``-1`` is one key for the whole database, every schema and workspace: while a run holds it, no run
takes any workspace's lock. Row ids come from ``public.global_states_id_seq``, which every schema's
table shares, so an id names one workspace in the database.

A run that locked a workspace with no row holds ``-1`` until its first write creates the row; the
writing transaction then takes the new row's id (``take``), and ``-1`` is let go once the row is
committed, so the rest of the run keeps only its own workspace locked, as a run that found the row
does. No other session can hold the new id meanwhile: a terraform run takes an id only together
with ``-1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CREATION_KEY = -1


@dataclass(frozen=True, slots=True)
class Refusal:
    """Terraform's lock on a workspace is held elsewhere: the ``key`` found held and, when
    PostgreSQL shows it, the session holding it."""

    key: int
    session: str = ""

    @property
    def creation(self) -> bool:
        return self.key == CREATION_KEY


def try_lock(conn: Any, row_id: int | None) -> int | Refusal:
    """Take Terraform's lock on the workspace whose ``states`` row is ``row_id`` (None: no row) as
    Terraform does: the key now held on ``conn`` (the row's id, or ``CREATION_KEY`` while there is
    no row), or what refused it, with nothing held."""
    if row_id is None:
        if take(conn, CREATION_KEY):
            return CREATION_KEY
        return _refusal(conn, CREATION_KEY)
    got_row, got_creation = conn.execute(
        "SELECT pg_try_advisory_lock(%s::bigint), pg_try_advisory_lock(%s::bigint)", (row_id, CREATION_KEY)
    ).fetchone()
    if got_creation:
        unlock(conn, CREATION_KEY)
    if got_row and got_creation:
        return row_id
    if got_row:
        unlock(conn, row_id)
        return _refusal(conn, CREATION_KEY)
    return _refusal(conn, row_id)


def take(conn: Any, key: int) -> bool:
    """Try the session advisory lock ``key`` on ``conn``."""
    return bool(conn.execute("SELECT pg_try_advisory_lock(%s::bigint)", (key,)).fetchone()[0])


def unlock(conn: Any, key: int) -> None:
    conn.execute("SELECT pg_advisory_unlock(%s::bigint)", (key,))


def _refusal(conn: Any, key: int) -> Refusal:
    return Refusal(key, _holding_session(conn, key))


def _holding_session(conn: Any, key: int) -> str:
    """Which PostgreSQL session holds the advisory lock ``key``, as far as this user may see
    (``pg_locks`` splits a ``bigint`` key into ``classid``, its high half, and ``objid``)."""
    row = conn.execute(
        "SELECT l.pid, a.client_addr::text, a.application_name, a.backend_start FROM pg_locks l "
        "LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.pid <> pg_backend_pid() "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid LIMIT 1",
        ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
    ).fetchone()
    if row is None:
        return ""
    pid, client, application, started = row
    about = [
        f"from {client.split('/')[0]}" if client else "",
        f"application {application!r}" if application else "",
    ]
    if started is not None:
        about.append(f"connected at {started:%Y-%m-%d %H:%M:%S %Z}".rstrip())
    details = ", ".join(a for a in about if a)
    return f"PostgreSQL session {pid}" + (f" ({details})" if details else "")

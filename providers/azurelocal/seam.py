"""The local Azure as another provider may use it: the only module outside ``providers.azurelocal``
imports (the azurerm provider does, for its local cloud; ``pyproject.toml`` checks it).

* ``open_emulator(path)``: the local Azure on a SQLite file; a file that is no database, a
  directory or a place that can't be written is ``LocalAzureUnavailable`` (with the reason),
  never a raw sqlite error;
* ``LocalCredential`` and ``local_session(env)``: the credential and the in-process
  ``requests`` session (no socket) that the official SDK clients use, unchanged otherwise;
* ``emulator_facts(env, kind, id)``: what the local Azure records about an object beyond the
  REST API (the ``_emulator`` section of its document, e.g. a Recovery Services vault's
  ``ever_had_items``), documented in the emulator contract.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from providers.azurelocal.app import Emulator
from providers.azurelocal.credential import LocalCredential as LocalCredential  # part of the seam
from providers.azurelocal.crypto import CryptoError
from providers.azurelocal.store import is_database_file as is_database_file  # part of the seam
from providers.azurelocal.transport import local_session as local_session  # part of the seam


class LocalAzureUnavailable(Exception):
    """The local Azure's database can't be used; ``reason`` says why in a few words.
    ``resettable``: the path holds a local Azure (an SQLite file) that ``cloud reset`` may delete;
    False for a directory or another kind of file (a state file named by mistake), which nothing
    of vaultform's deletes."""

    def __init__(self, reason: str, resettable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.resettable = resettable


def open_emulator(path: Path | None) -> Emulator:
    if path is not None and path.is_dir():
        raise LocalAzureUnavailable("it is a directory", resettable=False)
    if path is not None and path.exists() and not is_database_file(path):
        # another application's file: the local Azure would write its tables into it
        raise LocalAzureUnavailable("it is not a local Azure database", resettable=False)
    try:
        return Emulator(path)
    except sqlite3.Error as exc:
        resettable = path is None or is_database_file(path)
        reason = str(exc) if resettable else f"it is not a local Azure database: {exc}"
        raise LocalAzureUnavailable(reason, resettable) from exc
    except OSError as exc:
        raise LocalAzureUnavailable(exc.strerror or str(exc)) from exc
    except CryptoError as exc:  # its master key is gone: checked when the database is opened
        raise LocalAzureUnavailable(str(exc)) from exc


def emulator_facts(env: Emulator, kind: str, object_id: str) -> dict[str, Any]:
    """The ``_emulator`` section of one object's document ({} when none)."""
    try:
        doc = env.store.get(kind, object_id) or {}
    except sqlite3.Error as exc:
        raise LocalAzureUnavailable(str(exc)) from exc
    return doc.get("_emulator") or {}

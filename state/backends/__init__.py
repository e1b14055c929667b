"""State backends: where a state lives and how it is locked.

Every backend offers the same small interface (``Backend``); the local file
backend is the default, team backends (Azure Blob with lease locks, PostgreSQL
with advisory locks) come on the same interface.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from state.backends.local import DEFAULT_STATE_FILE, BackupPolicy, LocalBackend
from state.lock import Lock, LockInfo
from state.model import State


@runtime_checkable
class Backend(Protocol):
    def read(self) -> State | None:
        """The stored state, or None when none is stored yet; ``StateError`` when unreadable."""

    def stored_lineage(self) -> str | None:
        """The lineage of the stored state, None when none is stored yet."""

    def write(self, state: State, *, force: bool = False) -> State:
        """Store ``state`` if its content changed; returns it as stored (serial bumped)."""

    def lock(
        self, operation: str, timeout: float = 0.0, *, unlock_command: Callable[[str], str] = ...
    ) -> Lock:
        """Take the state lock, waiting up to ``timeout`` seconds; ``LockError`` otherwise.

        A lock whose holder is provably gone (``state.lock.why_gone``: a lease that ran out, a
        process on this host that no longer runs) is taken over, and ``Lock.taken_over`` says
        whose it was. ``unlock_command(lock_id)`` is the force-unlock command that messages name."""

    def lock_lost(self) -> str | None:
        """Why this run may no longer hold the lock it took (a lease that lapsed while it stalled
        and another run took), None while it surely does or holds none: asked before each cloud
        operation, so a run that lost its lock changes nothing more."""

    def lock_info(self) -> LockInfo | None:
        """Who holds the lock (who, operation, since when, pid and host or lease), if anyone."""

    def force_unlock(self, lock_id: str) -> LockInfo:
        """Remove the lock whose id is ``lock_id``, when its holder has ended; ``LockError`` otherwise."""

    def unlock_arguments(self) -> list[str]:
        """The arguments ``vaultform force-unlock`` needs, before the lock id, to find this state
        from the working directory (the configuration directory, ``-state=PATH``, ...)."""

    def identity(self) -> str:
        """Which state this is - kind and place, and the workspace on backends that have them -
        stable across runs; the key under which a configuration remembers its lineage."""

    def describe(self) -> str:
        """Where the state lives, for messages."""


__all__ = ["Backend", "BackupPolicy", "DEFAULT_STATE_FILE", "LocalBackend"]

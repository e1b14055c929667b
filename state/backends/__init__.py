"""State backends: where a state lives and how it is locked.

Every backend offers the same small interface (``Backend``); the local file
backend is the default, team backends (Azure Blob with lease locks, PostgreSQL
with advisory locks) come on the same interface.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from state.backends.local import DEFAULT_STATE_FILE, BackupPolicy, LocalBackend
from state.lock import Lock, LockInfo
from state.model import State


@runtime_checkable
class Backend(Protocol):
    def read(self) -> State | None:
        """The stored state, or None when none is stored yet; ``StateError`` when unreadable."""

    def write(self, state: State, *, force: bool = False) -> State:
        """Store ``state`` if its content changed; returns it as stored (serial bumped)."""

    def lock(self, operation: str, timeout: float = 0.0) -> Lock:
        """Take the state lock, waiting up to ``timeout`` seconds; ``LockError`` otherwise."""

    def force_unlock(self, lock_id: str) -> LockInfo:
        """Remove the lock whose id is ``lock_id``, when its holder has ended; ``LockError`` otherwise."""

    def describe(self) -> str:
        """Where the state lives, for messages."""


__all__ = ["Backend", "BackupPolicy", "DEFAULT_STATE_FILE", "LocalBackend"]

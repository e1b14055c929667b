"""One writer per key vault, everything else in parallel.

Key Vault answers 409 ConflictError to a write that overlaps another write to the same vault
(Azure/AzureKeyVault issue 6, azurerm issue 15127); azurerm therefore takes a lock per key
vault name around every write to a vault or its access policies
(internal/services/keyvault/key_vault_resource.go, key_vault_access_policy_resource.go). The
executor runs steps in threads of one process, so a process-wide lock per name does the same.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}


def _lock_for(name: str) -> threading.Lock:
    with _guard:
        return _locks.setdefault(name.lower(), threading.Lock())


@contextmanager
def key_vault_writer(name: str, report: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold key vault ``name`` for one write; say so when another write has it."""
    lock = _lock_for(name)
    if not lock.acquire(blocking=False):
        if report is not None:
            report(f"waiting for another write to key vault {name} to finish (one writer per key vault)")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()

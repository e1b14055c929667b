"""Validation's findings, kept by what they were found in.

Once a configuration is loaded, validation checks every block against its schema and every
reference against what its module declares, and looks for cycles. Those checks read only the
loaded files, the workspace's name, the working directory, the environment's ``TF_*`` and
``VAULTFORM_*`` settings (``TF_ENCRYPTION``, ``TF_WORKSPACE``) and vaultform's own code (schemas,
rules, installed provider plug-ins). Their diagnostics are stored under a digest of exactly those,
and a run whose digest matches takes them instead of checking again: at 10,000 resources the checks
are about a tenth of a plan that finds nothing to change.

A run keeps nothing when what it found could depend on anything else: a function that reads
outside the configuration ran while checking (``file``, ``templatefile``, ``fileset``,
``plantimestamp`` ... - ``FunctionSpec.reads_outside``), a file's bytes were not hashed when they
were loaded (the parse cache is off), or files joined the configuration from elsewhere (the
console's). Entries live in the parse cache's directory, under its rules (owner-only directory,
atomic writes, anything unreadable is a miss); ``VAULTFORM_NO_PARSE_CACHE=1`` turns both off.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
import os
import pickle
from collections.abc import Iterable
from pathlib import Path

from reconciler.config import paths
from reconciler.config.cache import ParseCache, cache_disabled_by_env
from reconciler.config.loader_parallel import content_digest
from reconciler.config.modules import ModuleTree
from reconciler.diagnostics import Diagnostic

_FORMAT = b"vaultform-validate-1\n"
_log = logging.getLogger(__name__)
_ENV_PREFIXES = ("TF_", "VAULTFORM_")


@functools.cache
def code_digest() -> str:
    """vaultform's code as installed: every module's name, size and modification time, and the
    provider plug-ins' entry points with their distributions' versions."""
    from reconciler import providers_registry as registry

    h = hashlib.sha256()
    for package in ("reconciler", "providers", "state"):  # found, not imported: the layers stay apart
        spec = importlib.util.find_spec(package)
        for top in (spec.submodule_search_locations or []) if spec else []:
            for directory, subdirs, names in os.walk(top):
                subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
                for name in sorted(names):
                    if name.endswith(".py"):
                        st = os.stat(os.path.join(directory, name))
                        rel = os.path.relpath(os.path.join(directory, name), top)
                        h.update(f"{package}/{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    for group in ("vaultform.schemas", "vaultform.providers"):
        for name, target in sorted(registry.plugins(group).items()):
            h.update(f"{group}\0{name}\0{target}\n".encode())
    return h.hexdigest()


def key_for(tree: ModuleTree, root: Path, workspace: str, allow_empty: bool) -> str | None:
    """The digest of everything validation's checks of ``tree`` read; None if a file's bytes are unknown."""
    h = hashlib.sha256(_FORMAT)
    h.update(f"\0root={root}\0cwd={paths.cwd()}\0workspace={workspace}\0empty={allow_empty}\n".encode())
    for name in sorted(os.environ):
        if name.startswith(_ENV_PREFIXES):
            h.update(f"env\0{name}\0{os.environ[name]}\n".encode("utf-8", "surrogateescape"))
    for module in tree.walk():
        h.update(
            f"module\0{'.'.join(module.path)}\0{module.directory}\0{module.source_dir}\n".encode(
                "utf-8", "surrogateescape"
            )
        )
        for path in module.module.files:
            digest = content_digest(path)
            if digest is None:
                return None
            h.update(f"file\0{path}\0{digest}\n".encode("utf-8", "surrogateescape"))
    h.update(code_digest().encode())  # last: a file whose bytes are unknown needs no walk of the code
    return h.hexdigest()


def _store() -> ParseCache | None:
    return None if cache_disabled_by_env() else ParseCache.default()


def load(key: str | None) -> list[Diagnostic] | None:
    """The findings stored under ``key``; None when there are none (or they can't be read)."""
    store = _store() if key is not None else None
    data = store.get_bytes(key) if store is not None and key is not None else None
    if data is None or not data.startswith(_FORMAT):
        return None
    try:
        found = pickle.loads(data[len(_FORMAT) :])
    except Exception:  # an entry from another version or a damaged file: check again
        return None
    if not isinstance(found, list) or not all(isinstance(d, Diagnostic) for d in found):
        return None
    _log.debug("validate: the same files were checked before; taking those %d findings", len(found))
    return found


def save(key: str | None, found: Iterable[Diagnostic]) -> None:
    store = _store() if key is not None else None
    if store is None or key is None:
        return
    try:
        payload = _FORMAT + pickle.dumps(list(found), protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError, ValueError):
        return
    store.put_bytes(key, payload)

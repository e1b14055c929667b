"""A directory of configuration files -> ``([ast.File], [Diagnostic])``.

``load_directory(path, *, extensions=(".tf",), cache=True)`` parses every file in
``path`` whose name ends with one of ``extensions`` (hidden names aside), in sorted
order, through the parse cache (``reconciler.config.cache``) and, for large uncached
batches, a process pool (``reconciler.config.loader_parallel``). A file that can't be
read (dangling link, pipe, directory, permissions, not UTF-8) is an error naming it,
never skipped (``reconciler.config.source_files``).
"""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.config import ast
from reconciler.config.cache import ParseCache, cache_disabled_by_env
from reconciler.config.loader_parallel import parse_many
from reconciler.config.source_files import list_source_files
from reconciler.diagnostics import Diagnostic, error


def list_config_files(path: str | os.PathLike, extensions=(".tf",)) -> list[Path]:
    """The configuration files directly in ``path``, sorted by name, whatever kind of file each is."""
    return list_source_files(path, tuple(extensions))


def load_directory(
    path: str | os.PathLike, *, extensions=(".tf",), cache: bool = True
) -> tuple[list[ast.File], list[Diagnostic]]:
    """Parse every configuration file of a directory (sorted), using the parse cache."""
    root = Path(path)
    if not root.is_dir():
        what = "is not a directory" if root.exists() else "does not exist"
        return [], [
            error(
                "config-dir",
                f"Configuration directory {str(root)!r} {what}",
                "Run vaultform from the directory holding your .tf files or pass its path.",
            )
        ]
    try:
        paths = list_config_files(root, extensions)
    except OSError as exc:
        return [], [
            error(
                "config-dir", f"Can't read configuration directory {str(root)!r}", f"{exc.strerror or exc}."
            )
        ]
    use_cache = cache and not cache_disabled_by_env()
    store = ParseCache.default() if use_cache else None
    return parse_many([str(p) for p in paths], store)

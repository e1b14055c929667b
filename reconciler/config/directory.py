"""A directory of configuration files -> ``([ast.File], [Diagnostic])``.

``load_directory(path, *, extensions=(".tf", ".tf.json"), cache=True)`` parses every
file in ``path`` whose name ends with one of ``extensions`` (hidden names aside), in
sorted order, through the parse cache (``reconciler.config.cache``) and, for large
uncached batches, a process pool (``reconciler.config.loader_parallel``). ``*.tf.json``
files are read in terraform's JSON syntax (``reconciler.config.json_syntax``). A file
that can't be read (dangling link, pipe, directory, permissions, not UTF-8) is an error
naming it, never skipped (``reconciler.config.source_files``); so is an override file,
which vaultform does not merge.
"""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.config import ast
from reconciler.config.cache import ParseCache, cache_disabled_by_env
from reconciler.config.loader_parallel import parse_many
from reconciler.config.source_files import list_source_files
from reconciler.diagnostics import Diagnostic, error

CONFIG_EXTENSIONS = (".tf", ".tf.json")


def list_config_files(path: str | os.PathLike, extensions=CONFIG_EXTENSIONS) -> list[Path]:
    """The configuration files directly in ``path``, sorted by name, whatever kind of file each is."""
    return list_source_files(path, tuple(extensions))


def load_directory(
    path: str | os.PathLike, *, extensions=CONFIG_EXTENSIONS, cache: bool = True
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
    refused = _unread_kinds(root) if ".tf" in extensions else []
    use_cache = cache and not cache_disabled_by_env()
    store = ParseCache.default() if use_cache else None
    files, diags = parse_many([str(p) for p in paths if not _is_override(p.name)], store)
    return files, refused + diags


def _is_override(name: str) -> bool:
    """terraform's override files: ``override.tf`` and ``*_override.tf`` (and their .tf.json)."""
    stem = name.removesuffix(".json").removesuffix(".tf")
    return stem == "override" or stem.endswith("_override")


def _unread_kinds(root: Path) -> list[Diagnostic]:
    """Files terraform would read that vaultform can't: skipping one would drop what it declares, and
    the plan would destroy those objects; so each is an error naming it."""
    found: list[Diagnostic] = []
    for path in list_source_files(root, CONFIG_EXTENSIONS):
        if _is_override(path.name):
            found.append(
                error(
                    "config-override",
                    f"Override files are not supported: {path.name}",
                    f"terraform merges {path} into the blocks it overrides; vaultform would read it as "
                    "declarations of their own. Move its settings into the blocks they override, then "
                    "delete it.",
                )
            )
    return found

"""A directory of configuration files -> ``([ast.File], [Diagnostic])``.

``load_directory(path, *, extensions=(".tf", ".tf.json"), cache=True)`` parses every
file in ``path`` whose name ends with one of ``extensions`` (hidden names aside), in
sorted order, through the parse cache (``reconciler.config.cache``) and, for large
uncached batches, a process pool (``reconciler.config.loader_parallel``). ``*.tf.json``
files are read in terraform's JSON syntax (``reconciler.config.json_syntax``). A file
that can't be read (dangling link, pipe, directory, permissions, not UTF-8) is an error
naming it, never skipped (``reconciler.config.source_files``). Override files
(``override.tf``, ``*_override.tf`` and their .tf.json) are parsed like the others, then
merged into the blocks of the other files (``reconciler.config.overrides``): the files
returned are the merged ones, the override files last, holding only what they add.
"""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.config import ast
from reconciler.config.cache import ParseCache, cache_disabled_by_env
from reconciler.config.loader_parallel import parse_many
from reconciler.config.overrides import is_override_file, merge_overrides
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
    use_cache = cache and not cache_disabled_by_env()
    store = ParseCache.default() if use_cache else None
    files, diags = parse_many([str(p) for p in paths], store)
    primary = [f for f in files if not is_override_file(Path(f.path).name)]
    overrides = [f for f in files if is_override_file(Path(f.path).name)]
    if not overrides:
        return files, diags
    # when another file could not be read, its blocks are missing: an override of one of them is no
    # error of its own, the file's error says what is wrong
    complete = not any(d.is_error and not _in_override_file(d) for d in diags)
    merged, found = merge_overrides(primary, overrides, report_missing=complete)
    return merged, diags + found


def _in_override_file(diag: Diagnostic) -> bool:
    return diag.range is not None and is_override_file(Path(diag.range.file).name)

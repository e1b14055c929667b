"""Local modules: the root directory and every module it calls, as a tree.

``load_module_tree(root_dir) -> (ModuleTree, diagnostics)`` loads the root
module and, recursively, each ``module`` block: a local path ("./x", "../x") is
read relative to the calling module's directory; a remote source (git, registry,
HTTPS archive) from where ``vaultform init`` installed it (.vaultform/modules),
and is an error saying to run init when it isn't there. A cycle of calls is
reported on the ``source`` that closes it.

Each module also keeps its directory as ``path.module`` gives it: as terraform 1.11 does, the
calling module's path joined with a local source ("modules/m" for "./modules/m" called from the
root, "../shared" for "../shared"), or the root joined with where init installed a remote one -
never an absolute path, so values built from it don't depend on where the code is checked out.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.config.convert_model import decode_module
from reconciler.config.directory import list_config_files, load_directory
from reconciler.config.loader import parse_text
from reconciler.config.model import Module, ModuleCall
from reconciler.diagnostics import Diagnostic, error
from reconciler.modinstall import manifest
from reconciler.modinstall.sources import parse_source

MAX_DEPTH = 32


class SourceKind(enum.Enum):
    LOCAL = "local path"
    REGISTRY = "registry module"
    GIT = "git repository"
    GITHUB = "GitHub repository"
    BITBUCKET = "Bitbucket repository"
    HTTP = "HTTP archive"
    BUCKET = "cloud storage bucket"
    MERCURIAL = "Mercurial repository"
    ABSOLUTE = "absolute path"
    OTHER = "remote source"


_REGISTRY = re.compile(r"^([a-z0-9.-]+\.[a-z]{2,}/)?[A-Za-z0-9_-]+/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+(//.*)?$")
_PREFIXES: tuple[tuple[str, SourceKind], ...] = (
    ("git::", SourceKind.GIT),
    ("git@", SourceKind.GIT),
    ("github.com/", SourceKind.GITHUB),
    ("bitbucket.org/", SourceKind.BITBUCKET),
    ("http://", SourceKind.HTTP),
    ("https://", SourceKind.HTTP),
    ("s3::", SourceKind.BUCKET),
    ("gcs::", SourceKind.BUCKET),
    ("hg::", SourceKind.MERCURIAL),
)


def classify_source(source: str) -> SourceKind:
    if source.startswith(("./", "../", ".\\", "..\\")) or source in (".", ".."):
        return SourceKind.LOCAL
    for prefix, kind in _PREFIXES:
        if source.startswith(prefix):
            return kind
    if os.path.isabs(source):
        return SourceKind.ABSOLUTE
    if _REGISTRY.match(source):
        return SourceKind.REGISTRY
    return SourceKind.OTHER


@dataclass(frozen=True, slots=True)
class ModuleTree:
    module: Module
    path: tuple[str, ...]  # call names from the root: () for the root, ("net", "subnets") ...
    directory: Path
    children: dict[str, ModuleTree] = field(default_factory=dict, hash=False)
    source_dir: str = "."  # path.module: relative to the working directory, as the root was given

    @property
    def address(self) -> str:
        return ".".join(f"module.{name}" for name in self.path)

    def walk(self) -> Iterator[ModuleTree]:
        """This module and every descendant, depth first, in call order."""
        yield self
        for child in self.children.values():
            yield from child.walk()


def load_module_tree(
    root_dir: str | os.PathLike, *, cache: bool = True, extra: tuple[tuple[str, str], ...] = ()
) -> tuple[ModuleTree, list[Diagnostic]]:
    """``extra``: (file name, text) of files that join the root module as if they were in it -
    the configuration plan -generate-config-out is about to write."""
    diags: list[Diagnostic] = []
    root = Path(root_dir)
    installed = manifest.load(root)
    tree = _load(root, os.path.normpath(root), (), (), diags, cache, installed, extra)
    return tree, diags


def _load(
    directory: Path,
    source_dir: str,
    path: tuple[str, ...],
    stack: tuple[Path, ...],
    diags: list[Diagnostic],
    cache: bool,
    installed: manifest.Manifest,
    extra: tuple[tuple[str, str], ...] = (),
) -> ModuleTree:
    files, found = load_directory(directory, cache=cache)
    for name, text in extra:
        parsed, problems = parse_text(text, name)
        found = [*found, *problems]
        if parsed is not None:
            files = [*files, parsed]
    address = ".".join(f"module.{n}" for n in path) or None
    diags.extend(d.with_address(address) for d in found)
    module, found = decode_module(files)
    diags.extend(d.with_address(address) for d in found)
    here = directory.resolve()
    children: dict[str, ModuleTree] = {}
    for call in module.module_calls.values():
        child = _child_directory(call, directory, here, path, stack, diags, installed)
        if child is not None:
            child_dir, child_source_dir = child
            if child_source_dir is None:  # a local source: beside the calling module
                child_source_dir = os.path.normpath(os.path.join(source_dir, call.source))
            children[call.name] = _load(
                child_dir, child_source_dir, path + (call.name,), stack + (here,), diags, cache, installed
            )
    return ModuleTree(module, path, directory, children, source_dir)


def _installed_directory(
    call: ModuleCall,
    key: str,
    kind: SourceKind,
    installed: manifest.Manifest,
    address: str,
    diags: list[Diagnostic],
) -> tuple[Path, str] | None:
    """Where ``vaultform init`` put a remote module, and that as ``path.module`` gives it; an
    error saying to run init when it didn't."""
    entry = installed.get(key)
    if entry is None or entry.Source != call.source:
        why = "is not installed" if entry is None else "changed since it was installed"
        diags.append(
            error(
                "module-not-installed",
                f'Module "{call.name}" ({kind.value} "{call.source}") {why}',
                "Run `vaultform init` to fetch it into .vaultform/modules (init needs the network for remote "
                "sources; without it, vendor the module and use a ./local source).",
                address=address,
                range=call.source_pos.range(),
            )
        )
        return None
    return installed.directory(entry), os.path.normpath(os.path.join(installed.root, entry.Dir))


def _child_directory(
    call: ModuleCall,
    directory: Path,
    here: Path,
    path: tuple[str, ...],
    stack: tuple[Path, ...],
    diags: list[Diagnostic],
    installed: manifest.Manifest,
) -> tuple[Path, str | None] | None:
    """The directory of the module ``call`` names, and for a remote one its ``path.module``
    (None for a local source, which the caller joins to its own)."""
    address = ".".join(f"module.{n}" for n in path + (call.name,))
    where = call.source_pos.range()
    kind = classify_source(call.source)
    if kind not in (SourceKind.LOCAL, SourceKind.ABSOLUTE, SourceKind.OTHER) or parse_source(call.source):
        return _installed_directory(call, ".".join(path + (call.name,)), kind, installed, address, diags)
    if kind is SourceKind.ABSOLUTE:
        diags.append(
            error(
                "module-source",
                f'Module "{call.name}" uses an absolute path as source',
                f'Write the path relative to this directory, starting with "./" or "../" '
                f'(for example source = "./modules/{call.name}").',
                address=address,
                range=where,
            )
        )
        return None
    if kind is SourceKind.OTHER and (directory / call.source).is_dir():
        diags.append(
            error(
                "module-source",
                f'Module "{call.name}": local paths must start with "./" or "../"',
                f'Write source = "./{call.source}" so it is read as a directory of this repository.',
                address=address,
                range=where,
            )
        )
        return None
    if kind is not SourceKind.LOCAL:
        diags.append(
            error(
                "module-source",
                f'Module "{call.name}": {kind.value} "{call.source}" can\'t be fetched',
                "vaultform init fetches git, registry and HTTPS archive sources; this one it can't. Vendor "
                f'it: copy the module\'s files into ./modules/{call.name} and set source = "./modules/{call.name}".',
                address=address,
                range=where,
            )
        )
        return None
    if call.version is not None:
        diags.append(
            error(
                "module-source",
                f'Module "{call.name}": version is only for registry modules',
                "A local module is used as it is in the repository; remove the version argument.",
                address=address,
                range=where,
            )
        )
    child = (directory / call.source).resolve()
    if not child.is_dir():
        diags.append(
            error(
                "module-source",
                f'Module "{call.name}": directory {str(child)!r} does not exist',
                f'The source "{call.source}" resolves to {child}; create it or fix the path.',
                address=address,
                range=where,
            )
        )
        return None
    if child == here or child in stack:
        chain = " -> ".join([*(f"module.{n}" for n in path), f"module.{call.name}"]) or call.name
        diags.append(
            error(
                "module-cycle",
                f'Module "{call.name}" calls a module that is already loading',
                f"The call chain {chain} leads back to {child}; a module can't include itself. "
                "Break the cycle.",
                address=address,
                range=where,
            )
        )
        return None
    if len(path) + 1 > MAX_DEPTH:
        diags.append(
            error(
                "module-depth",
                f"Modules nested more than {MAX_DEPTH} levels deep",
                "Flatten the module structure.",
                address=address,
                range=where,
            )
        )
        return None
    try:
        has_files = bool(list_config_files(child))
    except OSError:
        has_files = False
    if not has_files:
        diags.append(
            error(
                "module-source",
                f'Module "{call.name}": {str(child)!r} contains no .tf files',
                "Put the module's configuration files there or fix the source path.",
                address=address,
                range=where,
            )
        )
        return None
    return child, None

"""Install every remote module the configuration calls, recursively, and record where each went."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reconciler.config.convert_model import decode_module
from reconciler.config.directory import load_directory
from reconciler.config.model import ModuleCall
from reconciler.diagnostics import Diagnostic, error
from reconciler.modinstall import manifest, registry
from reconciler.modinstall.fetch import FetchError, fetch
from reconciler.modinstall.sources import Kind, parse_source
from reconciler.modinstall.versions import newest_matching

MAX_DEPTH = 32


@dataclass(frozen=True)
class Installed:
    key: str
    source: str
    version: str
    directory: str  # relative to the configuration root
    fetched: bool  # False: already installed and kept
    local: bool = False


def _is_local(source: str) -> bool:
    return source.startswith(("./", "../")) or source in (".", "..")


class Installer:
    def __init__(self, root: Path, *, upgrade: bool = False) -> None:
        self.root = root
        self.upgrade = upgrade
        self.previous = manifest.read(root)
        self.entries: dict[str, manifest.Entry] = {}
        self.installed: list[Installed] = []
        self.diags: list[Diagnostic] = []

    def run(self) -> tuple[list[Installed], list[Diagnostic]]:
        self._walk(self.root, "")
        if self.entries or self.previous:
            manifest.write(self.root, self.entries)
        return self.installed, self.diags

    def _walk(self, directory: Path, prefix: str) -> None:
        if prefix.count(".") >= MAX_DEPTH:
            return
        files, found = load_directory(directory, cache=False)
        errors = [d for d in found if d.is_error]
        if errors:
            self.diags.extend(errors)
            return
        module, found = decode_module(files)
        self.diags.extend(d for d in found if d.is_error)
        for call in module.module_calls.values():
            self._call(call, directory, prefix + call.name)

    def _problem(self, call: ModuleCall, summary: str, detail: str) -> None:
        self.diags.append(error("module-install", summary, detail, range=call.source_pos.range()))

    def _keeps(self, kept: manifest.Entry | None, call: ModuleCall, kind: Kind) -> bool:
        """An installed module stays unless -upgrade, its source changed, or its version no longer fits."""
        if kept is None or self.upgrade or kept.Source != call.source or not (self.root / kept.Dir).is_dir():
            return False
        return kind is not Kind.REGISTRY or _still_allowed(kept.Version, call.version)

    def _call(self, call: ModuleCall, directory: Path, key: str) -> None:
        if _is_local(call.source):
            child = (directory / call.source).resolve()
            if child.is_dir():
                self.installed.append(Installed(key, call.source, "", _rel(self.root, child), False, True))
                self._walk(child, key + ".")
            return
        source = parse_source(call.source)
        if source is None:
            self._problem(
                call,
                f'Module "{call.name}": vaultform init can\'t fetch "{call.source}"',
                "init fetches git repositories (git::URL?ref=...), registry modules (NAMESPACE/NAME/PROVIDER) "
                "and archives over HTTPS. Vendor this module into the repository and use a local source.",
            )
            return
        if call.version is not None and source.kind is not Kind.REGISTRY:
            self._problem(
                call,
                f'Module "{call.name}": version is only for registry modules',
                'Pin a git source with ?ref=TAG in the source instead (source = "git::URL?ref=v1.2.0").',
            )
            return
        dest = self.root / manifest.MODULES_DIR / key
        version = ""
        try:
            kept = self.previous.get(key)
            if kept is not None and self._keeps(kept, call, source.kind):
                self.entries[key] = kept
                self.installed.append(Installed(key, call.source, kept.Version, kept.Dir, False))
                self._walk(self.root / kept.Dir, key + ".")
                return
            fetched = source
            if source.kind is Kind.REGISTRY:
                version, fetched = registry.resolve(source.url, call.version)
            dest.parent.mkdir(parents=True, exist_ok=True)
            fetch(fetched, dest)
        except FetchError as exc:
            self._problem(call, f'Module "{call.name}" could not be installed', str(exc))
            return
        module_dir = dest
        for sub in (fetched.subdir, source.subdir if source is not fetched else ""):
            if sub:
                module_dir = module_dir / sub
        if not module_dir.is_dir():
            self._problem(
                call,
                f'Module "{call.name}": the fetched files have no directory "{module_dir.relative_to(dest)}"',
                "Check the //subdirectory part of the source.",
            )
            return
        entry = manifest.Entry(key, call.source, version, _rel(self.root, module_dir))
        self.entries[key] = entry
        self.installed.append(Installed(key, call.source, version, entry.Dir, True))
        self._walk(module_dir, key + ".")


def _still_allowed(version: str, constraint: str | None) -> bool:
    return bool(version) and newest_matching([version], constraint) == version


def _rel(root: Path, path: Path) -> str:
    return os.path.relpath(path, root.resolve()) if path.is_absolute() else str(path)


def install_modules(root: Path, *, upgrade: bool = False) -> tuple[list[Installed], list[Diagnostic]]:
    return Installer(root, upgrade=upgrade).run()

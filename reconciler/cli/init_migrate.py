"""``vaultform init -migrate-state``: copy every workspace's state from the backend init set up
before to the one the configuration names now, keeping each state's lineage and serial.

The flow and the questions are Terraform's (internal/command/meta_backend_migrate.go and
meta_backend.go, compared side by side with the terraform binary):

* a backend set up for the first time over local states that hold something copies them
  ("Do you want to copy existing state to the new backend?"), without -migrate-state, and then
  puts the local files aside (Terraform empties them and keeps ``.backup``; vaultform moves the
  file to ``.backup`` - the same state kept, and no empty file left to confuse a reader);
* a changed backend needs ``-migrate-state`` or ``-reconfigure`` ("Backend configuration changed");
* a source with workspaces besides ``default`` is copied whole, after one question ("Do you want
  to migrate all workspaces to "pg"?"); a "no" there aborts; workspaces are copied in
  alphabetical order, and an error names the workspace it stopped at;
* a single state is copied after "Do you want to copy existing state to the new backend?" -
  naming, when the destination already holds another state, the two temporary files to compare;
  a "no" there keeps the destination as it is and is no error;
* an empty source state (no resources, no outputs) is not copied, nor one the destination
  already holds (same lineage and content);
* ``-force-copy`` answers yes to every question (and implies -migrate-state); ``-input=false``
  without it refuses ("Can't ask approval for state migration when interactive input is
  disabled");
* both states are locked for the copy (``-lock=false`` skips it, ``-lock-timeout`` waits);
* the source is never changed, except the local files of a first set-up, as said above.

All three backends have workspaces, so Terraform's single-state cases (a backend without
workspaces) don't arise. A copy keeps the source's lineage and serial; over a destination that
already holds a higher serial, vaultform writes the next serial there instead (Terraform writes
the source's serial as it is; vaultform never moves a stored serial backwards, which readers
rely on to notice a change).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler import backend_select
from reconciler.cli.output import Output
from reconciler.cli.state_files import configured_encryption_of
from reconciler.diagnostics import DiagnosticsError, error
from state.backends.local import DEFAULT_STATE_FILE, LocalBackend
from state.errors import StateError
from state.format import encode_state
from state.lock import LockError, parse_duration
from state.model import State

DEFAULT = backend_select.DEFAULT_WORKSPACE


@dataclass(frozen=True, slots=True)
class Place:
    """A backend to migrate from or to: its type and configuration, secrets included (never
    written down); ``local`` with an empty configuration is the implied local file."""

    type: str
    config: dict[str, Any] = field(default_factory=dict)

    def open(self, root: Path, workspace: str) -> Any:
        # read and written through the configuration's state encryption (a fallback reads the old form)
        configured = configured_encryption_of(root)
        encryption = configured.state if configured is not None else None
        if self.type == "local":
            if not self.config and workspace == DEFAULT:
                return LocalBackend.for_directory(root, None, encryption=encryption)
            path = backend_select.local_state_path(root, self.config, workspace)
            return LocalBackend(path, directory=os.fspath(root), encryption=encryption)
        return backend_select.make_backend(
            self.type,
            dict(self.config),
            workspace=workspace,
            directory=os.fspath(root),
            encryption=encryption,
        )

    def workspaces(self, root: Path) -> list[str]:
        if self.type == "local":
            base = root / str(self.config.get("workspace_dir") or backend_select.WORKSPACE_DIR)
            names = {p.name for p in base.iterdir() if p.is_dir()} if base.is_dir() else set()
            return sorted(names | {DEFAULT})
        backend = self.open(root, DEFAULT)
        try:
            return sorted(backend.workspaces())
        finally:
            close(backend)


def close(backend: Any) -> None:
    close = getattr(backend, "close", None)
    if close is not None:
        close()


def empty(state: State | None) -> bool:
    """Terraform's State.Empty: no resources and no outputs."""
    return state is None or (not state.resources and not state.outputs)


@dataclass
class Migration:
    """One ``init``'s migration from ``source`` to ``destination`` (see the module's doc)."""

    root: Path
    source: Place
    destination: Place
    out: Output
    force: bool
    input: bool
    lock: bool = True
    lock_timeout: float = 0.0
    copied: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ the flow

    def run(self) -> None:
        """backendMigrateState: all workspaces at once, or the default one alone."""
        names = self.list_workspaces(self.source, "source")
        self.list_workspaces(self.destination, "destination")
        if names == [DEFAULT]:
            self.copy_one(DEFAULT, force=self.force)
            return
        self._copy_all(names)

    def list_workspaces(self, place: Place, _role: str) -> list[str]:
        try:
            return place.workspaces(self.root)
        except StateError as exc:
            raise DiagnosticsError(
                error(
                    "backend_migrate",
                    f'Error inspecting states in the "{place.type}" backend',
                    f"{exc.summary}\n{exc.detail}\n\nBefore a migration vaultform looks at the source and "
                    "destination states to know what to copy, and could not load them. Both are unchanged. "
                    "Fix the error above and run init again.",
                )
            ) from None

    def _copy_all(self, names: list[str]) -> None:
        """backendMigrateState_S_S: one question for every workspace, then each in turn."""
        if not self.force:
            question = f'Do you want to migrate all workspaces to "{self.destination.type}"?'
            description = (
                f'Both the existing "{self.source.type}" backend and the newly configured '
                f'"{self.destination.type}" backend support workspaces. When migrating between backends, '
                "vaultform will copy all workspaces (with the same names). THIS WILL OVERWRITE any "
                "conflicting states in the destination.\n\nvaultform initialization doesn't migrate only "
                "select workspaces. To migrate some of them, pull and push those states yourself.\n\n"
                'If you answer "yes", vaultform will migrate all states. If you answer "no", vaultform will '
                "abort."
            )
            if not self.input:
                raise DiagnosticsError(
                    error("backend_migrate", "Error asking for state migration action: input is disabled")
                )
            if not self._ask(question, description):
                raise DiagnosticsError(error("backend_migrate", "Migration aborted by user."))
        for name in names:
            try:
                self.copy_one(name, force=True)
            except DiagnosticsError as exc:
                first = exc.diagnostics[0]
                raise DiagnosticsError(
                    error(
                        "backend_migrate",
                        f'Error migrating the workspace "{name}" from the previous "{self.source.type}" '
                        f'backend to the newly configured "{self.destination.type}" backend',
                        f"{first.summary}\n{first.detail}\n\nvaultform copies workspaces in alphabetical "
                        "order: those before this one have been copied, those after it not yet; the source "
                        "is unchanged. Fix the error above and run init again: it copies (after asking) "
                        "all workspaces again.",
                    )
                ) from None

    def copy_one(self, workspace: str, *, force: bool) -> None:
        """backendMigrateState_s_s: copy one workspace's state, asking first unless ``force``."""
        source = self.source.open(self.root, workspace)
        destination = self.destination.open(self.root, workspace)
        try:
            src, dst = self.read(source, self.source), self.read(destination, self.destination)
            if empty(src):
                return
            if dst is not None and src is not None and src.same_content(dst):
                return
            if isinstance(destination, LocalBackend):  # as Terraform's local backend: make its directory
                os.makedirs(os.path.dirname(os.path.abspath(destination.path)), exist_ok=True)
            with (
                self._locked(source, "migration source state"),
                self._locked(destination, "migration destination state"),
            ):
                src, dst = self.read(source, self.source), self.read(destination, self.destination)
                if empty(src):
                    return
                assert src is not None
                if not force:
                    if not self.input:
                        raise DiagnosticsError(
                            error(
                                "backend_migrate",
                                "Can't ask approval for state migration when interactive input is disabled.",
                                'Please remove the "-input=false" option and try again, or answer yes to '
                                "every question with -force-copy.",
                            )
                        )
                    if not self._confirm_copy(src, dst):
                        return
                self._write(destination, src, dst)
                self.copied.append(workspace)
        finally:
            close(source)
            close(destination)

    # ------------------------------------------------------------------ questions

    def _confirm_copy(self, src: State, dst: State | None) -> bool:
        question = "Do you want to copy existing state to the new backend?"
        s, d = self.source.type, self.destination.type
        if empty(dst):
            return self._ask(
                question,
                f'Pre-existing state was found while migrating the previous "{s}" backend to the newly '
                f'configured "{d}" backend. No existing state was found in the newly configured "{d}" '
                f'backend. Do you want to copy this state to the new "{d}" backend? Enter "yes" to copy '
                'and "no" to start with an empty state.',
            )
        assert dst is not None
        with tempfile.TemporaryDirectory(prefix="vaultform") as tmp:
            previous = Path(tmp) / f"1-{s}.tfstate"
            new = Path(tmp) / f"2-{d}.tfstate"
            previous.write_text(encode_state(src), encoding="utf-8")
            new.write_text(encode_state(dst), encoding="utf-8")
            return self._ask(
                question,
                f'Pre-existing state was found while migrating the previous "{s}" backend to the newly '
                f'configured "{d}" backend. An existing non-empty state already exists in the new backend. '
                "The two states have been saved to temporary files that will be removed after responding "
                f'to this query.\n\nPrevious (backend "{s}"): {previous}\nNew      (backend "{d}"): {new}\n\n'
                "Do you want to overwrite the state in the new backend with the previous state? Enter "
                f'"yes" to copy and "no" to start with the existing state in the newly configured "{d}" '
                "backend.",
            )

    def _ask(self, question: str, description: str) -> bool:
        """Terraform's confirm: the answer "yes" or "no", asked up to twice; anything else is no. No
        answer at all (standard input closed) is an error, as terraform's "EOF": taking it for a no
        would start the new backend with an empty state and leave every object unmanaged."""
        self.out.print(self.out.style(question, "1"))
        for paragraph in description.splitlines():
            for line in textwrap.wrap(paragraph, 76) or [""]:
                self.out.print(f"  {line}".rstrip())
        for _ in range(2):
            self.out.print("")
            self.out.out.write("  Enter a value: ")
            self.out.out.flush()
            try:
                answer = sys.stdin.readline()
            except (OSError, ValueError):  # no standard input to read (closed, or a test's capture)
                answer = ""
            self.out.print("")
            if not answer:
                raise DiagnosticsError(
                    error(
                        "backend_migrate",
                        "Error asking for confirmation: EOF",
                        "There was no answer to read (standard input is closed), so nothing changed: the "
                        "state and the backend settings are as they were. Answer on a terminal, or run "
                        "init with -force-copy to copy the state without asking.",
                    )
                )
            if answer.strip().lower() in ("yes", "no"):
                return answer.strip().lower() == "yes"
        return False

    # ------------------------------------------------------------------ reading, locking, writing

    def read(self, backend: Any, place: Place) -> State | None:
        try:
            state: State | None = backend.read()
            return state
        except StateError as exc:
            raise DiagnosticsError(
                error(
                    "backend_migrate",
                    "Error loading state",
                    f"{exc.summary}\n{exc.detail}\n\nvaultform could not load the state from the "
                    f'"{place.type}" backend. State migration cannot occur unless the state can be loaded; '
                    "it has been aborted, and the states in the source and the destination are unchanged. "
                    "Fix the error above and try again.",
                )
            ) from None

    @contextlib.contextmanager
    def _locked(self, backend: Any, operation: str) -> Iterator[None]:
        if not self.lock:
            yield
            return
        try:
            lock = backend.lock(operation, self.lock_timeout)
        except LockError as exc:
            raise DiagnosticsError(error("state_locked", exc.summary, exc.detail)) from None
        try:
            yield
        finally:
            lock.release()

    def _write(self, destination: Any, src: State, dst: State | None) -> None:
        """statemgr.Migrate: the source's lineage and serial (see the module's doc for a higher
        serial already stored)."""
        try:
            if dst is None:
                destination.write(src.with_serial(src.serial - 1))  # a first write adds one
            else:
                destination.write(src, force=True)
        except StateError as exc:
            raise DiagnosticsError(
                error(
                    "backend_migrate",
                    f'Error copying state from the previous "{self.source.type}" backend to the newly '
                    f'configured "{self.destination.type}" backend',
                    f"{exc.summary}\n{exc.detail}\n\nThe state in the previous backend remains intact and "
                    "unmodified. Fix the error above and try again.",
                )
            ) from None


def set_local_states_aside(root: Path, source: Place, destination: Place, workspaces: list[str]) -> list[str]:
    """After a first set-up copied the local states away: each local file becomes its
    ``.backup`` - unless the new backend is local too and shares any state path with the old one
    (Terraform's PathsConflictWith, internal/backend/local/backend.go), when nothing is moved."""
    if destination.type == "local":
        names = source.workspaces(root)
        ours = {os.path.realpath(_local_path(root, source, name)) for name in names}
        theirs = {os.path.realpath(_local_path(root, destination, name)) for name in names}
        if ours & theirs:
            return []
    moved = []
    for workspace in workspaces:
        old = _local_path(root, source, workspace)
        if os.path.isfile(old):
            os.replace(old, old + ".backup")
            moved.append(old)
    return moved


def _local_path(root: Path, place: Place, workspace: str) -> str:
    if not place.config and workspace == DEFAULT:
        return os.path.join(os.fspath(root), DEFAULT_STATE_FILE)
    return backend_select.local_state_path(root, place.config, workspace)


def lock_timeout(args: Any) -> float:
    try:
        return parse_duration(getattr(args, "lock_timeout", "0s") or "0s")
    except ValueError as exc:
        raise DiagnosticsError(error("usage", "Invalid -lock-timeout", str(exc))) from None

"""The state file the state-reading commands (state, show, output) work on, read and written
with diagnostics instead of exceptions."""

from __future__ import annotations

import os

from reconciler import backend_select
from reconciler.diagnostics import DiagnosticsError, error
from state.backends.local import DEFAULT_STATE_FILE, LocalBackend
from state.errors import StateError
from state.model import State


def backend_for(state_path: str | None, directory: str = ".") -> LocalBackend:
    """The state of the configuration in ``directory``: its backend (``backend_select``), or the
    local file ``state_path`` (``-state``)."""
    if state_path is not None:
        return LocalBackend.for_directory(directory, state_path)
    return backend_select.backend_for(directory, backend_select.configured_block(directory))


def read_state(backend: LocalBackend) -> State | None:
    try:
        return backend.read()
    except StateError as exc:
        raise DiagnosticsError(error("state", exc.summary, exc.detail)) from None


def write_state(backend: LocalBackend, state: State, *, force: bool = False) -> State:
    try:
        return backend.write(state, force=force)
    except StateError as exc:
        raise DiagnosticsError(error("state", exc.summary, exc.detail)) from None


def refuse_directory(word: str, command: str) -> None:
    """A positional argument that names a directory: these commands take none, say what does."""
    if not os.path.isdir(word):
        return
    state_file = os.path.join(word, DEFAULT_STATE_FILE)
    raise DiagnosticsError(
        error(
            "usage",
            f"{word} is a directory; use -chdir=DIR or -state DIR/{DEFAULT_STATE_FILE}",
            f"`vaultform {command}` reads the state of the working directory and takes no configuration "
            f"directory. Run it there: `vaultform -chdir={word} {command}`, or name the state file: "
            f"`vaultform {command} -state {state_file}`.",
        )
    )

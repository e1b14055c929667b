"""The state file the state-reading commands (state, show, output) work on, read and written
with diagnostics instead of exceptions."""

from __future__ import annotations

import os
from pathlib import Path

from reconciler import backend_select
from reconciler.config.directory import list_config_files
from reconciler.config.modules import load_module_tree
from reconciler.config.variables import resolve_variables
from reconciler.diagnostics import DiagnosticsError, error
from reconciler.encryption_config import ENV_VARIABLE, configured_encryption
from reconciler.session import variable_specs
from state.backends.local import DEFAULT_STATE_FILE, LocalBackend
from state.encryption.target import Encryption
from state.errors import StateError
from state.model import State


def backend_for(state_path: str | None, directory: str = ".") -> LocalBackend:
    """The state of the configuration in ``directory``: its backend (``backend_select``), or the
    local file ``state_path`` (``-state``); read and written through the configuration's state
    encryption, when it has one."""
    encryption = configured_encryption_of(directory)
    state_target = encryption.state if encryption is not None else None
    if state_path is not None:
        return LocalBackend.for_directory(directory, state_path, encryption=state_target)
    return backend_select.backend_for(
        directory, backend_select.configured_block(directory), encryption=state_target
    )


def configured_encryption_of(directory: str | os.PathLike[str]) -> Encryption | None:
    """The encryption the configuration in ``directory`` (with ``TF_ENCRYPTION``) sets up, for
    commands that don't load the configuration otherwise; its variables come from their defaults,
    TF_VAR_ variables and tfvars files, as a plan's would without -var."""
    try:
        files = list_config_files(directory)
        mentioned = any("encryption" in f.read_text(encoding="utf-8", errors="replace") for f in files)
    except OSError:
        mentioned = False
    if not mentioned and not os.environ.get(ENV_VARIABLE, "").strip():
        return None
    tree, _diags = load_module_tree(Path(directory))
    block = tree.module.terraform.encryption if tree is not None and tree.module.terraform else None
    values = {}
    if tree is not None:
        resolved, _ = resolve_variables(variable_specs(tree.module), module_dir=Path(directory))
        values = {name: r.value for name, r in resolved.items()}
    return configured_encryption(block, variables=values).encryption


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

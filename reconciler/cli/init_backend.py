"""The backend part of ``vaultform init``: resolve the backend block with ``-backend-config``,
check that the backend answers, and record it in ``.vaultform/backend.json``
(``reconciler.backend_select``).

As Terraform's init (internal/command/init.go, meta_backend.go): ``-backend-config`` takes
``key=value`` or a file of ``key = value`` attributes, later ones winning; a backend that changed
since the last init is refused unless ``-reconfigure`` or ``-migrate-state`` (which copies the states
across: ``reconciler.cli.init_migrate``); ``-backend=false`` leaves the backend as it is.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from reconciler import backend_select
from reconciler.cli.init_migrate import Migration, Place, close, empty, lock_timeout, set_local_states_aside
from reconciler.cli.output import Output
from reconciler.config.evaluator import MapScope
from reconciler.config.expand import evaluate_body
from reconciler.config.loader import parse_text
from reconciler.config.model import Module
from reconciler.diagnostics import DiagnosticsError, error
from state.errors import StateError


def backend_overrides(values: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for value in values:
        if os.path.isfile(value):
            text = Path(value).read_text(encoding="utf-8")
            parsed, diags = parse_text(text, value)
            if parsed is None or any(d.is_error for d in diags):
                raise DiagnosticsError([d for d in diags if d.is_error])
            evaluated = evaluate_body(parsed.body, None, MapScope({}))
            if any(d.is_error for d in evaluated.diagnostics):
                raise DiagnosticsError([d for d in evaluated.diagnostics if d.is_error])
            out.update(evaluated.value)
        elif "=" in value:
            key, _, rest = value.partition("=")
            out[key.strip()] = rest
        else:
            raise DiagnosticsError(
                error(
                    "usage",
                    f"Invalid -backend-config value {value!r}",
                    "Give key=value (e.g. -backend-config=conn_str=postgres://host/db) or the path of a "
                    "file of key = value lines; no such file exists.",
                )
            )
    return out


def init_backend(root: Path, module: Module, args, out: Output) -> bool:
    block = module.terraform.backend if module.terraform else None
    overrides = backend_overrides(args.backend_config)
    if block is None and overrides:
        raise DiagnosticsError(
            error(
                "usage",
                "-backend-config given, but the configuration has no backend block",
                'Add terraform { backend "pg" { } } (or "local") to the configuration.',
            )
        )
    migrate = bool(getattr(args, "migrate_state", False) or getattr(args, "force_copy", False))
    if getattr(args, "migrate_state", False) and args.reconfigure:
        raise DiagnosticsError(
            error(
                "usage",
                "Invalid init options",
                "The -migrate-state and -reconfigure options are mutually-exclusive.",
            )
        )
    resolved = backend_select.resolve(block, overrides)
    previous = None if args.reconfigure else backend_select.recorded(root)
    out.print(out.style("Initializing the backend...", "1"))
    if resolved is None:
        if previous is not None:
            _unset(root, previous, args, out, migrate)
        backend_select.record(root, None)
        if previous is None:
            out.print("- no backend block: state stays in the local file vaultform.tfstate")
            out.print("")
        return True
    new = Place(resolved.type, _with_written_secrets(block, overrides, resolved))
    if resolved.type != "local":
        _check_answers(root, new)
    if previous is None:
        _first_set_up(root, new, args, out)
    elif previous != resolved:
        if not migrate:
            raise DiagnosticsError(MIGRATE_OR_RECONFIGURE)
        if previous.type != resolved.type:
            out.print(
                f'vaultform detected that the backend type changed from "{previous.type}" to "{resolved.type}".\n'
            )
        else:
            out.print(out.style("Backend configuration changed!", "1"))
            out.print(
                "\nvaultform has detected that the configuration specified for the backend\n"
                "has changed. vaultform will now check for existing state in the backends.\n"
            )
        _migration(root, Place(previous.type, dict(previous.config)), new, args, out).run()
    backend_select.record(root, resolved)
    out.print(
        f'\nSuccessfully configured the backend "{resolved.type}"! vaultform will automatically\n'
        "use this backend unless the backend configuration changes.\n"
    )
    return True


# Terraform's migrateOrReconfigDiag (internal/command/meta_backend_errors.go)
MIGRATE_OR_RECONFIGURE = error(
    "backend_changed",
    "Backend configuration changed",
    "A change in the backend configuration has been detected, which may require migrating existing state.\n\n"
    'If you wish to attempt automatic migration of the state, use "vaultform init -migrate-state".\n'
    'If you wish to store the current configuration with no changes to the state, use "vaultform init '
    '-reconfigure".',
)


def _migration(root: Path, source: Place, destination: Place, args, out: Output) -> Migration:
    return Migration(
        root,
        source,
        destination,
        out,
        force=bool(getattr(args, "force_copy", False)),
        input=bool(getattr(args, "input", True)),
        lock=bool(getattr(args, "lock", True)),
        lock_timeout=lock_timeout(args),
    )


def _first_set_up(root: Path, new: Place, args, out: Output) -> None:
    """backend_C_r_s: local states that hold something are copied to a backend set up for the
    first time (or with -reconfigure), then put aside."""
    local = Place("local")
    migration = _migration(root, local, new, args, out)
    names = migration.list_workspaces(local, "source")
    if not any(not empty(migration.read(local.open(root, name), local)) for name in names):
        return
    migration.run()
    set_local_states_aside(root, local, new, migration.copied)


def _unset(root: Path, previous: backend_select.Resolved, args, out: Output, migrate: bool) -> None:
    """backend_c_r_S: the backend block was removed; with -migrate-state its states come home."""
    if not migrate:
        raise DiagnosticsError(MIGRATE_OR_RECONFIGURE)
    out.print(f'vaultform has detected you\'re unconfiguring your previously set "{previous.type}" backend.')
    _migration(root, Place(previous.type, dict(previous.config)), Place("local"), args, out).run()
    out.print(f'\n\nSuccessfully unset the backend "{previous.type}". vaultform will now operate locally.')


def _check_answers(root: Path, place: Place) -> None:
    """Connect once, so a wrong address or password is said by init, not by the next plan."""
    backend = place.open(root, backend_select.current_workspace(root))
    try:
        backend.workspaces()
    except StateError as exc:
        raise DiagnosticsError(error("backend", exc.summary, exc.detail)) from None
    finally:
        close(backend)


def _with_written_secrets(block, overrides: dict[str, Any], resolved) -> dict[str, Any]:
    """The configuration to connect with now: the recorded one plus the secrets it leaves out."""
    config = dict(resolved.config)
    written = {**backend_select.block_values(block), **overrides}
    if "conn_str" in written:
        config["conn_str"] = written["conn_str"]
    for name in backend_select.SECRETS.get(resolved.type, ()):  # azurerm's access_key, sas_token, ...
        if name in written:
            config[name] = written[name]
    return config

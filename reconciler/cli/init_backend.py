"""The backend part of ``vaultform init``: resolve the backend block with ``-backend-config``,
check that the backend answers, and record it in ``.vaultform/backend.json``
(``reconciler.backend_select``).

As Terraform's init (internal/command/init.go, meta_backend.go): ``-backend-config`` takes
``key=value`` or a file of ``key = value`` attributes, later ones winning; a backend that changed
since the last init is refused unless ``-reconfigure`` (Terraform also offers ``-migrate-state``,
which vaultform does not have yet); ``-backend=false`` leaves the backend as it is.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from reconciler import backend_select
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
    resolved = backend_select.resolve(block, overrides)
    previous = backend_select.recorded(root)
    out.print(out.style("Initializing the backend...", "1"))
    if previous is not None and previous != resolved and not args.reconfigure:
        raise DiagnosticsError(
            error(
                "backend_changed",
                "Backend configuration changed",
                f'The backend was set up as "{previous.type}" and the configuration now asks for '
                + (f'"{resolved.type}"' if resolved else "the local file")
                + ". Run `vaultform init -reconfigure` to use the new one as it is (the state stored in the "
                "old one is not moved; vaultform has no -migrate-state yet).",
            )
        )
    if resolved is None:
        backend_select.record(root, None)
        out.print("- no backend block: state stays in the local file vaultform.tfstate")
        out.print("")
        return True
    if resolved.type != "local":
        backend = backend_select.make_backend(
            resolved.type,
            _with_written_secrets(block, overrides, resolved),
            workspace=backend_select.current_workspace(root),
            directory=str(root),
        )
        try:
            backend.workspaces()
        except StateError as exc:
            raise DiagnosticsError(error("backend", exc.summary, exc.detail)) from None
        finally:
            backend.close()
    backend_select.record(root, resolved)
    out.print(
        f'\nSuccessfully configured the backend "{resolved.type}"! vaultform will automatically\n'
        "use this backend unless the backend configuration changes.\n"
    )
    return True


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

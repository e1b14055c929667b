"""Where a configuration's state lives: its ``terraform { backend "TYPE" { ... } }`` block, as set
up by ``vaultform init``, and the selected workspace.

As with Terraform (https://developer.hashicorp.com/terraform/language/backend), a backend block
is set up by ``init`` - which may complete it with ``-backend-config`` (a partial configuration) -
and init records what it set up; a later run whose block differs is told to run init again
("Backend initialization required"). Terraform records the whole configuration, secrets included,
in ``.terraform/terraform.tfstate``; vaultform records it in ``.vaultform/backend.json`` without
secrets (a password in a pg ``conn_str`` is dropped: libpq then reads PGPASSWORD or ~/.pgpass).

A configuration without a backend block (or with ``backend "local"``) needs no init: its state is
``vaultform.tfstate`` beside it, or the block's ``path``; once init ran, the local backend's
``path`` and ``workspace_dir`` are those it recorded, ``-backend-config`` included. The selected
workspace is ``TF_WORKSPACE`` when set, else the one ``vaultform workspace select`` kept in
``.vaultform/environment`` (Terraform's ``.terraform/environment``), else ``default``; the local
backend keeps a workspace's state in ``vaultform.tfstate.d/NAME/vaultform.tfstate`` (Terraform's
``terraform.tfstate.d/NAME/terraform.tfstate``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.config.evaluator import MapScope
from reconciler.config.expand import evaluate_body
from reconciler.config.model import Backend as BackendBlock
from reconciler.diagnostics import DiagnosticsError, error
from state.backends.local import DEFAULT_STATE_FILE, LocalBackend
from state.encryption.target import TargetEncryption
from state.lineage_memory import MEMORY_DIR

RECORD_FILE = "backend.json"
ENVIRONMENT_FILE = "environment"
WORKSPACE_DIR = "vaultform.tfstate.d"
DEFAULT_WORKSPACE = "default"

# The arguments each backend takes (Terraform's names), and which are secrets never written down.
ARGUMENTS: dict[str, frozenset[str]] = {
    "local": frozenset({"path", "workspace_dir"}),
    "pg": frozenset(
        {"conn_str", "schema_name", "skip_schema_creation", "skip_table_creation", "skip_index_creation"}
    ),
    # Terraform's azurerm backend arguments (internal/backend/remote-state/azure/backend.go), and
    # blob_endpoint (vaultform's: Azurite, or a cloud the environment table doesn't know)
    "azurerm": frozenset(
        {
            "storage_account_name",
            "container_name",
            "key",
            "resource_group_name",
            "subscription_id",
            "tenant_id",
            "environment",
            "metadata_host",
            "snapshot",
            "access_key",
            "sas_token",
            "use_azuread_auth",
            "use_oidc",
            "use_msi",
            "use_cli",
            "use_aks_workload_identity",
            "msi_endpoint",
            "client_id",
            "client_id_file_path",
            "client_secret",
            "client_secret_file_path",
            "client_certificate",
            "client_certificate_path",
            "client_certificate_password",
            "oidc_token",
            "oidc_token_file_path",
            "oidc_request_url",
            "oidc_request_token",
            "ado_pipeline_service_connection_id",
            "lookup_blob_endpoint",
            "blob_endpoint",
        }
    ),
}
BOOLEANS = frozenset(
    {
        "skip_schema_creation",
        "skip_table_creation",
        "skip_index_creation",
        "snapshot",
        "use_azuread_auth",
        "use_oidc",
        "use_msi",
        "use_cli",
        "use_aks_workload_identity",
        "lookup_blob_endpoint",
    }
)
# Arguments that hold secrets: used to connect, never written under .vaultform/ (a run reads them from
# the block again, or from their environment variables: ARM_ACCESS_KEY, ARM_SAS_TOKEN, ARM_CLIENT_SECRET...)
SECRETS = {
    "azurerm": frozenset(
        {
            "access_key",
            "sas_token",
            "client_secret",
            "client_certificate",
            "client_certificate_password",
            "oidc_token",
            "oidc_request_token",
        }
    ),
}


@dataclass(frozen=True, slots=True)
class Resolved:
    """A backend's type and configuration as init resolved it (no secrets)."""

    type: str
    config: dict[str, Any] = field(default_factory=dict)
    block_hash: str = ""  # of the backend block as written, to notice a changed block

    def to_json(self) -> str:
        doc = {"version": 1, "type": self.type, "config": self.config, "block_hash": self.block_hash}
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _record_path(root: str | os.PathLike[str]) -> Path:
    return Path(root) / MEMORY_DIR / RECORD_FILE


def recorded(root: str | os.PathLike[str]) -> Resolved | None:
    try:
        doc = json.loads(_record_path(root).read_text(encoding="utf-8"))
        return Resolved(str(doc["type"]), dict(doc.get("config") or {}), str(doc.get("block_hash") or ""))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record(root: str | os.PathLike[str], resolved: Resolved | None) -> None:
    path = _record_path(root)
    if resolved is None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{RECORD_FILE}.{os.getpid()}.tmp")
    tmp.write_text(resolved.to_json(), encoding="utf-8")
    os.replace(tmp, path)


def block_values(block: BackendBlock) -> dict[str, Any]:
    """The block's arguments (literals: a backend block takes no variables, as in Terraform)."""
    evaluated = evaluate_body(block.config, None, MapScope({}))
    errors = [d for d in evaluated.diagnostics if d.is_error]
    if errors:
        raise DiagnosticsError(errors)
    known = ARGUMENTS.get(block.type)
    if known is None:
        raise DiagnosticsError(
            error(
                "backend_unsupported",
                f'vaultform has no "{block.type}" backend',
                f'Use backend "local", "azurerm" or "pg" (supported: {", ".join(sorted(ARGUMENTS))}).',
                range=block.pos.range(),
            )
        )
    unknown = sorted(set(evaluated.value) - known)
    if unknown:
        raise DiagnosticsError(
            error(
                "backend_argument",
                f'Unsupported argument {unknown[0]!r} in backend "{block.type}"',
                f"The {block.type} backend takes: {', '.join(sorted(known))}.",
                range=block.pos.range(),
            )
        )
    return dict(evaluated.value)


def block_hash(block: BackendBlock | None) -> str:
    if block is None:
        return ""
    doc = {"type": block.type, "config": block_values(block)}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _without_secrets(type_: str, config: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in config.items() if k not in SECRETS.get(type_, ())}
    if type_ == "pg" and isinstance(out.get("conn_str"), str):
        from state.backends.pg import without_password

        out["conn_str"] = without_password(out["conn_str"])
    return out


def resolve(block: BackendBlock | None, overrides: dict[str, Any]) -> Resolved | None:
    """The backend init sets up: the block completed with ``-backend-config`` values."""
    if block is None:
        return None
    config = block_values(block)
    known = ARGUMENTS[block.type]
    for key, value in overrides.items():
        if key not in known:
            raise DiagnosticsError(
                error(
                    "backend_argument",
                    f'Invalid -backend-config argument {key!r} for backend "{block.type}"',
                    f"The {block.type} backend takes: {', '.join(sorted(known))}.",
                )
            )
        config[key] = _coerce(key, value)
    return Resolved(block.type, _without_secrets(block.type, config), block_hash(block))


def _coerce(key: str, value: Any) -> Any:
    if key in BOOLEANS and isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return value


def init_required(reason: str) -> DiagnosticsError:
    """Terraform's errBackendInitDiag (internal/command/meta_backend_errors.go; the summary as the
    terraform 1.11 binary prints it), for a command other than init."""
    return DiagnosticsError(
        error(
            "backend_init_required",
            'Backend initialization required: please run "vaultform init"',
            f"Reason: {reason}\n\n"
            'The "backend" is the interface that vaultform uses to store state, perform operations, etc. '
            "If this message is showing up, it means that the vaultform configuration you're using is "
            "using a custom configuration for the vaultform backend.\n\n"
            "Changes to backend configurations require reinitialization. This allows vaultform to set up "
            'the new configuration, copy existing state, etc. Please run "vaultform init" with either the '
            '"-reconfigure" or "-migrate-state" flags to use the current configuration.\n\n'
            "If the change reason above is incorrect, please verify your configuration hasn't changed and "
            "try again. At this point, no changes to your existing configuration or state have been made.",
        )
    )


def check_initialized(root: str | os.PathLike[str], block: BackendBlock | None) -> None:
    """Refuse a backend block that differs from what ``init`` set up (Terraform's reasons, from
    meta_backend.go's backendFromConfig and determineInitReason). A configuration that never ran
    init with a local block, or without one, needs none."""
    rec = recorded(root)
    if block is None:
        if rec is not None:
            raise init_required(f'Unsetting the previously set backend "{rec.type}"')
        return
    if rec is None:
        if block.type != "local" or _leaves_the_implied_state(root, block):
            raise init_required(f'Initial configuration of the requested backend "{block.type}"')
        return
    if rec.type != block.type:
        raise init_required(f'Backend type changed from "{rec.type}" to "{block.type}"')
    if rec.block_hash != block_hash(block):
        raise init_required("Backend configuration block has changed")


def _leaves_the_implied_state(root: str | os.PathLike[str], block: BackendBlock) -> bool:
    """A local block, never initialized, that points away from a state already in the implied
    local file: planning there would start from an empty state while the estate's state sits
    beside it, so init must migrate it first (Terraform asks for init on any new backend block)."""
    implied = Path(root) / DEFAULT_STATE_FILE
    if not implied.is_file():
        return False
    path = Path(local_state_path(root, block_values(block), DEFAULT_WORKSPACE))
    return path.resolve() != implied.resolve()


def current_workspace(root: str | os.PathLike[str]) -> str:
    env = os.environ.get("TF_WORKSPACE")
    if env:
        return env
    try:
        name = (Path(root) / MEMORY_DIR / ENVIRONMENT_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return DEFAULT_WORKSPACE
    return name or DEFAULT_WORKSPACE


def select_workspace(root: str | os.PathLike[str], name: str) -> None:
    path = Path(root) / MEMORY_DIR / ENVIRONMENT_FILE
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(name, encoding="utf-8")


def local_config(root: str | os.PathLike[str], block: BackendBlock | None) -> dict[str, Any]:
    """The local backend's ``path`` and ``workspace_dir``: as ``init`` recorded them - the block
    completed with ``-backend-config`` - or, before any init, as the block writes them. Terraform
    1.11 likewise runs with the configuration init saved, not the block alone."""
    if block is None or block.type != "local":
        return {}
    rec = recorded(root)
    if rec is not None and rec.type == "local" and rec.block_hash == block_hash(block):
        return dict(rec.config)
    return block_values(block)


def local_state_path(root: str | os.PathLike[str], config: dict[str, Any], workspace: str) -> str:
    if workspace == DEFAULT_WORKSPACE:
        return os.path.join(os.fspath(root), str(config.get("path") or DEFAULT_STATE_FILE))
    base = str(config.get("workspace_dir") or WORKSPACE_DIR)
    return os.path.join(os.fspath(root), base, workspace, DEFAULT_STATE_FILE)


def backend_for(
    root: str | os.PathLike[str],
    block: BackendBlock | None,
    state_path: str | None = None,
    *,
    workspace: str | None = None,
    check_init: bool = True,
    encryption: TargetEncryption | None = None,
    **options: Any,
) -> Any:
    """The backend of the configuration in ``root`` (``-state`` names a local file and wins);
    ``encryption`` is the state target of the configuration's ``encryption`` block."""
    if encryption is not None:
        options["encryption"] = encryption
    if state_path is not None:
        return LocalBackend.for_directory(root, state_path, **options)
    workspace = workspace or current_workspace(root)
    directory = os.fspath(root)
    if check_init:
        check_initialized(root, block)
    if block is None or block.type == "local":
        config = local_config(root, block)
        if block is None and workspace == DEFAULT_WORKSPACE:
            return LocalBackend.for_directory(root, None, **options)
        return LocalBackend(local_state_path(root, config, workspace), directory=directory, **options)
    rec = recorded(root)
    config = dict(rec.config) if rec is not None else block_values(block)
    written = block_values(block).get("conn_str")
    if (
        block.type == "pg"
        and isinstance(written, str)
        and config.get("conn_str") == _without_secrets("pg", {"conn_str": written}).get("conn_str")
    ):
        config["conn_str"] = written  # the password as written in the block, which init did not record
    for name in SECRETS.get(block.type, ()):
        if name in block_values(block):
            config[name] = block_values(block)[name]  # as written in the block; init did not record it
    return make_backend(block.type, config, workspace=workspace, directory=directory, encryption=encryption)


def configured_block(root: str | os.PathLike[str]) -> BackendBlock | None:
    """The backend block of the configuration in ``root``, for commands that don't load it
    otherwise (state, show, output, force-unlock); files that don't mention one aren't parsed."""
    from reconciler.config.directory import list_config_files
    from reconciler.config.modules import load_module_tree

    try:
        files = list_config_files(root)
        if not any("backend" in f.read_text(encoding="utf-8", errors="replace") for f in files):
            return None
    except OSError:
        return None
    tree, _diags = load_module_tree(Path(root))
    if tree is None or tree.module.terraform is None:
        return None
    return tree.module.terraform.backend


def make_backend(
    type_: str,
    config: dict[str, Any],
    *,
    workspace: str,
    directory: str,
    encryption: TargetEncryption | None = None,
) -> Any:
    if type_ == "pg":
        from state.backends.pg import DEFAULT_SCHEMA, PgBackend

        conn_str = config.get("conn_str") or os.environ.get("PG_CONN_STR")
        if not conn_str:
            raise DiagnosticsError(
                error(
                    "backend_argument",
                    'The "pg" backend needs conn_str',
                    "Set conn_str in the backend block, pass -backend-config=conn_str=... to "
                    "`vaultform init`, or set PG_CONN_STR.",
                )
            )
        return PgBackend(
            conn_str,
            schema_name=str(config.get("schema_name") or DEFAULT_SCHEMA),
            workspace=workspace,
            skip_schema_creation=bool(config.get("skip_schema_creation")),
            skip_table_creation=bool(config.get("skip_table_creation")),
            skip_index_creation=bool(config.get("skip_index_creation")),
            directory=directory,
            encryption=encryption,
        )
    if type_ == "azurerm":
        from state.backends.azurerm import AzurermBackend
        from state.errors import StateError

        try:
            return AzurermBackend(
                config,
                workspace=workspace,
                directory=directory,
                sign_in=_azurerm_sign_in(config),
                encryption=encryption,
            )
        except StateError as exc:
            raise DiagnosticsError(error("backend_argument", exc.summary, exc.detail)) from None
    raise DiagnosticsError(error("backend_unsupported", f'vaultform has no "{type_}" backend'))


def _azurerm_sign_in(config: dict[str, Any]) -> Any:
    """The azurerm provider's Entra ID sign-in for the azurerm backend (``providers_registry``: the same
    one terraform_remote_state uses), so neither the engine nor the state package imports the provider."""
    from reconciler import providers_registry

    return providers_registry.storage_sign_in_for(config)


# --------------------------------------------------------------------------- workspaces

_NAME_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~")


def valid_workspace_name(name: str) -> bool:
    """Terraform's rule: URL-safe characters and no path separator (internal/command/workspace_command.go)."""
    return bool(name) and name not in (".", "..") and set(name) <= _NAME_OK


def _local_workspace_dir(root: str | os.PathLike[str], block: BackendBlock | None) -> Path:
    config = local_config(root, block)
    return Path(root) / str(config.get("workspace_dir") or WORKSPACE_DIR)


def list_workspaces(root: str | os.PathLike[str], block: BackendBlock | None) -> list[str]:
    if block is None or block.type == "local":
        base = _local_workspace_dir(root, block)
        names = {p.name for p in base.iterdir() if p.is_dir()} if base.is_dir() else set()
        return sorted(names | {DEFAULT_WORKSPACE})
    backend = backend_for(root, block, workspace=DEFAULT_WORKSPACE)
    try:
        return list(backend.workspaces())
    finally:
        backend.close()


def create_workspace(
    root: str | os.PathLike[str], block: BackendBlock | None, name: str, backend: Any
) -> None:
    """Make workspace ``name`` exist: a directory for the local backend, an empty state elsewhere
    (as Terraform's pg backend stores an empty state for a new workspace). ``backend`` is that
    workspace's (``backend_for``), its state locked by the caller unless -lock=false."""
    if block is None or block.type == "local":
        (_local_workspace_dir(root, block) / name).mkdir(parents=True, exist_ok=True)
        return
    from state.model import State

    if backend.read() is None:
        backend.write(State.new())


def delete_workspace(
    root: str | os.PathLike[str], block: BackendBlock | None, name: str, backend: Any
) -> None:
    """Delete workspace ``name`` and its state. ``backend`` is that workspace's, its state locked
    by the caller (unless -lock=false), so a run that holds the state keeps its workspace: the lock
    is held through the deletion, where terraform 1.11 releases it just before."""
    if block is None or block.type == "local":
        import shutil

        shutil.rmtree(_local_workspace_dir(root, block) / name, ignore_errors=True)
        return
    backend.delete_workspace(name)

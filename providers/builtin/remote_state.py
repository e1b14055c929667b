"""The ``terraform_remote_state`` data source: the root outputs of another configuration's state.

As Terraform's (https://developer.hashicorp.com/terraform/language/state/remote-state-data,
internal/builtin/providers/terraform/data_source_state.go): ``backend`` names the backend type,
``config`` its arguments, ``workspace`` the workspace (default ``default``), ``defaults`` values
for outputs the state lacks; ``outputs`` is the state's root outputs merged over ``defaults``.
No stored state is an error ("Unable to find remote state"), as with the terraform binary.

The state is read through the same backend classes vaultform keeps its own state with
(``local``, ``pg``, ``azurerm``), read-only and without taking the lock. A Terraform state file
is read as Terraform wrote it (``state.format`` reads version 4). Relative local paths are taken
from the working directory, as Terraform does. The azurerm backend signs in here exactly as the
azurerm backend block does (``state.backends.azurerm_auth.blob_target``, in Terraform's order): a SAS
token, an access key, Entra ID with ``use_azuread_auth`` (client secret or certificate, OIDC, managed
identity, Azure CLI - the azurerm provider's sign-in, handed to the built-in provider by the engine),
else the account key looked up through ``resource_group_name``; each argument from ``config`` or
its ARM_* variable.
"""

from __future__ import annotations

import os
from typing import Any

from providers.base import PermanentError, StorageSignInFor
from providers.schema import ANY, STRING, Attribute, BlockSchema, Mode, ResourceSchema
from state.backends.local import DEFAULT_STATE_FILE, LocalBackend
from state.errors import StateError

TYPE = "terraform_remote_state"
DEFAULT_WORKSPACE = "default"
WORKSPACE_DIR = "vaultform.tfstate.d"

SCHEMA = ResourceSchema(
    type_name=TYPE,
    mode=Mode.DATA,
    description="The root outputs of a state kept in a backend.",
    block=BlockSchema(
        attributes=(
            Attribute("backend", STRING, required=True, description='"local", "pg" or "azurerm".'),
            Attribute("config", ANY, optional=True, description="The backend's arguments."),
            Attribute("workspace", STRING, optional=True, description='The workspace (default "default").'),
            Attribute("defaults", ANY, optional=True, description="Values for outputs the state lacks."),
            Attribute("outputs", ANY, computed=True, description="The state's root outputs."),
        )
    ),
)


def _open(backend: str, config: dict[str, Any], workspace: str, sign_in_for: StorageSignInFor | None) -> Any:
    directory = os.getcwd()
    if backend == "local":
        if workspace == DEFAULT_WORKSPACE:
            path = str(config.get("path") or DEFAULT_STATE_FILE)
        else:
            base = str(config.get("workspace_dir") or WORKSPACE_DIR)
            path = os.path.join(base, workspace, DEFAULT_STATE_FILE)
        return LocalBackend(os.path.join(directory, path))
    if backend == "pg":
        from state.backends.pg import DEFAULT_SCHEMA, PgBackend

        conn_str = config.get("conn_str") or os.environ.get("PG_CONN_STR")
        if not conn_str:
            raise PermanentError('terraform_remote_state: the "pg" backend needs conn_str (or PG_CONN_STR)')
        return PgBackend(
            str(conn_str),
            schema_name=str(config.get("schema_name") or DEFAULT_SCHEMA),
            workspace=workspace,
            skip_schema_creation=bool(config.get("skip_schema_creation")),
            skip_table_creation=bool(config.get("skip_table_creation")),
            skip_index_creation=bool(config.get("skip_index_creation")),
        )
    if backend == "azurerm":
        from state.backends.azurerm import AzurermBackend

        return AzurermBackend(
            dict(config),
            workspace=workspace,
            sign_in=sign_in_for(config) if sign_in_for is not None else None,
        )
    raise PermanentError(
        f'Invalid backend configuration: There is no backend type named "{backend}". vaultform reads '
        'terraform_remote_state from "local", "pg" and "azurerm".',
        code="InvalidBackendConfiguration",
    )


def read_outputs(config: dict[str, Any], *, sign_in_for: StorageSignInFor | None = None) -> dict[str, Any]:
    """The data source's values for ``config`` (its arguments as written); ``sign_in_for`` makes the
    azurerm backend's Entra ID sign-in (None: only keys and SAS tokens sign in)."""
    backend_type = str(config.get("backend") or "")
    arguments = dict(config.get("config") or {})
    workspace = str(config.get("workspace") or DEFAULT_WORKSPACE)
    defaults = dict(config.get("defaults") or {})
    try:
        backend = _open(backend_type, arguments, workspace, sign_in_for)
    except StateError as exc:
        raise PermanentError(f"terraform_remote_state: {exc.summary}: {exc.detail}") from None
    try:
        state = backend.read()
    except StateError as exc:
        raise PermanentError(
            f"terraform_remote_state: unable to load the state of {backend.describe()}: {exc.summary}"
        ) from None
    finally:
        close = getattr(backend, "close", None)
        if close is not None:
            close()
    if state is None:
        raise PermanentError(
            "Unable to find remote state: No stored state was found for the given workspace in the given "
            f"backend ({backend.describe()}).",
            code="UnableToFindRemoteState",
        )
    outputs = dict(defaults)
    if state is not None:
        outputs.update({name: output.value for name, output in state.outputs.items()})
    return {
        "backend": backend_type,
        "config": config.get("config"),
        "workspace": config.get("workspace"),
        "defaults": config.get("defaults"),
        "outputs": outputs,
    }

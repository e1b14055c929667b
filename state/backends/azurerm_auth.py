"""Where the azurerm backend's container is and how it signs in to it.

The arguments are Terraform's azurerm backend's, each from the block or else its environment variable
(hashicorp/terraform internal/backend/remote-state/azure/backend.go, ``SDKLikeDefaults``):
``access_key`` (ARM_ACCESS_KEY), ``sas_token`` (ARM_SAS_TOKEN), ``use_azuread_auth`` (ARM_USE_AZUREAD),
``resource_group_name`` + ``subscription_id`` (ARM_SUBSCRIPTION_ID) to look the access key up,
``environment`` (ARM_ENVIRONMENT) and ``snapshot`` (ARM_SNAPSHOT). The Entra ID sign-in (client secret
or certificate, OIDC, managed identity, Azure CLI) is the azurerm provider's own: the state package
does not import providers, so whoever builds the backend hands it a ``sign_in`` callable that makes the
credential (``reconciler.backend_select`` asks the installed azurerm provider for it).

``blob_endpoint`` (ARM_BLOB_ENDPOINT) is invented - Terraform's backend has no such argument: the
account's blob service URL, for Azurite (``http://127.0.0.1:10000/devstoreaccount1``) and for clouds
whose storage suffix the ``environment`` table does not know.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from state.errors import StateError

# Storage endpoint suffix per cloud ("storageEndpointSuffix": MicrosoftDocs/azure-docs
# articles/storage/common/storage-powershell-independent-clouds.md; zazortik/azure-xplat-cli
# Documentation/Endpoints.md), the blob service being https://ACCOUNT.blob.SUFFIX.
STORAGE_SUFFIX = {
    "public": "core.windows.net",
    "usgovernment": "core.usgovcloudapi.net",
    "china": "core.chinacloudapi.cn",
}

# Storage account keys through Resource Manager: POST .../storageAccounts/{name}/listKeys
# (Azure/azure-rest-api-specs specification/storage/resource-manager/Microsoft.Storage/stable/2023-01-01/
# storage.json, StorageAccounts_ListKeys; answer {"keys": [{"keyName", "value", "permissions"}]}).
LIST_KEYS_API_VERSION = "2023-01-01"


@dataclass(frozen=True)
class SignIn:
    """What the provider's sign-in gives: an azure-identity credential and Resource Manager's endpoint."""

    credential: Any
    arm_endpoint: str = "https://management.azure.com"
    arm_scope: str = "https://management.azure.com/.default"


@dataclass(frozen=True)
class BlobTarget:
    """The container's account URL and the credential the SDK takes (secrets never shown)."""

    account_url: str
    credential: Any = field(repr=False, default=None)
    how: str = ""  # how it signs in, for messages


def setting(
    config: Mapping[str, Any], name: str, *variables: str, environ: Mapping[str, str] | None = None
) -> str:
    """An argument from the block, else the first of its environment variables that is set."""
    env = os.environ if environ is None else environ
    value = config.get(name)
    if value not in (None, ""):
        return str(value)
    for variable in variables:
        if env.get(variable):
            return env[variable]
    return ""


def flag(
    config: Mapping[str, Any], name: str, *variables: str, environ: Mapping[str, str] | None = None
) -> bool:
    value = config.get(name)
    if isinstance(value, bool):
        return value
    return setting(config, name, *variables, environ=environ).strip().lower() in ("1", "true", "yes")


def account_url(config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> str:
    endpoint = setting(config, "blob_endpoint", "ARM_BLOB_ENDPOINT", environ=environ)
    if endpoint:
        return endpoint.rstrip("/")
    account = setting(config, "storage_account_name", environ=environ)
    environment = setting(config, "environment", "ARM_ENVIRONMENT", environ=environ).lower() or "public"
    suffix = STORAGE_SUFFIX.get(environment)
    if suffix is None:
        raise StateError(
            "azurerm backend",
            f"unknown Azure environment {environment!r}",
            hint=f"Use one of {', '.join(STORAGE_SUFFIX)}, or set blob_endpoint to the account's blob URL.",
        )
    return f"https://{account}.blob.{suffix}"


def blob_target(
    config: Mapping[str, Any],
    sign_in: Callable[[], SignIn] | None,
    environ: Mapping[str, str] | None = None,
) -> BlobTarget:
    """How to reach the container, in Terraform's order: a SAS token, an access key, Entra ID
    (``use_azuread_auth``), else the account key looked up through Resource Manager."""
    url = account_url(config, environ)
    sas = setting(config, "sas_token", "ARM_SAS_TOKEN", environ=environ)
    if sas:
        from azure.core.credentials import AzureSasCredential

        return BlobTarget(url, AzureSasCredential(sas.lstrip("?")), "SAS token")
    key = setting(config, "access_key", "ARM_ACCESS_KEY", environ=environ)
    account = setting(config, "storage_account_name", environ=environ)
    if key:
        return BlobTarget(url, {"account_name": account, "account_key": key}, "access key")
    if flag(config, "use_azuread_auth", "ARM_USE_AZUREAD", environ=environ):
        return BlobTarget(url, _signed_in(sign_in).credential, "Entra ID")
    group = setting(config, "resource_group_name", environ=environ)
    if not group:
        # Terraform's own words (backend.go Configure)
        raise StateError(
            "azurerm backend",
            "One of `access_key`, `sas_token`, `use_azuread_auth` and `resource_group_name` must be specified",
            hint="Set ARM_ACCESS_KEY or ARM_SAS_TOKEN in the environment (secrets are never written down), "
            "or use_azuread_auth = true to sign in with Entra ID as the azurerm provider does.",
        )
    subscription = setting(config, "subscription_id", "ARM_SUBSCRIPTION_ID", environ=environ)
    if not subscription:
        raise StateError(
            "azurerm backend",
            "resource_group_name needs subscription_id to look up the storage account's access key",
            hint="Set subscription_id in the backend block or ARM_SUBSCRIPTION_ID.",
        )
    found = _signed_in(sign_in)
    return BlobTarget(
        url,
        {"account_name": account, "account_key": list_key(found, subscription, group, account)},
        "access key from Resource Manager",
    )


def _signed_in(sign_in: Callable[[], SignIn] | None) -> SignIn:
    if sign_in is None:
        raise StateError(
            "azurerm backend",
            "Entra ID sign-in needs the azurerm provider, which is not installed",
            hint="Install vaultform with its azurerm provider, or use access_key / sas_token.",
        )
    return sign_in()


def list_key(found: SignIn, subscription: str, group: str, account: str) -> str:
    """The account's first key, as Terraform's backend looks it up when only the group is given."""
    import requests

    url = (
        f"{found.arm_endpoint.rstrip('/')}/subscriptions/{subscription}/resourceGroups/{group}/providers/"
        f"Microsoft.Storage/storageAccounts/{account}/listKeys?api-version={LIST_KEYS_API_VERSION}"
    )
    token = found.credential.get_token(found.arm_scope).token
    try:
        answer = requests.post(url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        answer.raise_for_status()
        keys = answer.json().get("keys") or []
        return str(keys[0]["value"])
    except (requests.RequestException, ValueError, LookupError, TypeError) as exc:
        raise StateError(
            "azurerm backend",
            f"could not list the keys of storage account {account} in resource group {group} ({exc})",
            hint="The signed-in identity needs Microsoft.Storage/storageAccounts/listkeys/action, or set "
            "access_key / sas_token / use_azuread_auth.",
        ) from None

"""The key wrapping of the ``azure_keyvault`` state-encryption key provider, on the official
``CryptographyClient`` and the azurerm provider's sign-in (``ClientFactory``): the local Azure by
default, real Azure with ``cloud = "azure"`` or ``VAULTFORM_CLOUD=azure`` and the ARM_* variables.

The engine finds it through the ``vaultform.key_wrappers`` entry point, so it never imports this
provider. Wrapping is RSA-OAEP-256, as Azure Backup wraps its data keys with a customer-managed key
(https://learn.microsoft.com/en-us/azure/key-vault/keys/about-keys-details#wrapkeyunwrapkey-encryptdecrypt).
The SDK fetches the key's public part once (``keys/get``) and wraps locally from then on - a fresh
data key per write costs no request; the version that wrapped is the one the key's id names.
Unwrapping needs the private key, so it is Key Vault's ``unwrapKey`` on exactly the recorded
version.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError

from providers.azurerm.clients import ClientFactory
from providers.base import ProviderError
from state.encryption.keys import KeyUnavailable

WRAP_ALGORITHM = "RSA-OAEP-256"
# The Key Vault data plane needs no subscription; the provider's sign-in asks for one on real Azure.
NO_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def _error_code(exc: HttpResponseError) -> str:
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None) or ""
    inner = getattr(error, "innererror", None)
    inner_code = inner.get("code") if isinstance(inner, dict) else getattr(inner, "code", None)
    return f"{code}/{inner_code}" if inner_code else str(code or exc.status_code)


class KeyVaultWrapper:
    def __init__(self, factory: ClientFactory, vault_uri: str, key_name: str, key_version: str = "") -> None:
        self.factory = factory
        self.vault_uri = vault_uri.rstrip("/")
        self.key_name = key_name
        self.key_version = key_version

    def describe(self) -> str:
        return f"{self.vault_uri}/keys/{self.key_name}" + (f"/{self.key_version}" if self.key_version else "")

    def _key_id(self, version: str) -> str:
        return f"{self.vault_uri}/keys/{self.key_name}" + (f"/{version}" if version else "")

    def _unavailable(self, exc: Exception, operation: str) -> KeyUnavailable:
        where = f"{self.describe()} ({self.factory.describe()})"
        if isinstance(exc, ClientAuthenticationError):
            return KeyUnavailable(
                f"cannot sign in to Key Vault for {operation} with {where}: {exc.message}",
                "Check the sign-in settings (ARM_* variables, or the key provider's own arguments).",
            )
        if isinstance(exc, HttpResponseError):
            code = _error_code(exc)
            hint = {
                403: f"Grant the signed-in identity the key permissions get, wrapKey and unwrapKey on {self.vault_uri}.",
                404: "Check vault_uri, key_name and key_version: Key Vault has no such key (version).",
            }.get(exc.status_code or 0, "")
            return KeyUnavailable(f"Key Vault refused {operation} with {where} ({code})", hint)
        if isinstance(exc, ProviderError):
            return KeyUnavailable(f"cannot reach Key Vault for {operation}: {exc.message}")
        return KeyUnavailable(f"cannot reach Key Vault for {operation} with {where}: {exc}")

    def wrap(self, data_key: bytes) -> tuple[bytes, str]:
        from azure.keyvault.keys.crypto import KeyWrapAlgorithm

        try:
            result = self.factory.crypto(self._key_id(self.key_version)).wrap_key(
                KeyWrapAlgorithm.rsa_oaep_256, data_key
            )
        except (HttpResponseError, ClientAuthenticationError, ServiceRequestError, ProviderError) as exc:
            raise self._unavailable(exc, "wrapKey") from None
        version = (result.key_id or "").rstrip("/").split("/keys/", 1)[-1].partition("/")[2]
        return result.encrypted_key, version or self.key_version

    def unwrap(self, wrapped: bytes, key_version: str) -> bytes:
        from azure.keyvault.keys.crypto import KeyWrapAlgorithm

        try:
            result = self.factory.crypto(self._key_id(key_version)).unwrap_key(
                KeyWrapAlgorithm.rsa_oaep_256, wrapped
            )
        except (HttpResponseError, ClientAuthenticationError, ServiceRequestError, ProviderError) as exc:
            raise self._unavailable(exc, f"unwrapKey (key version {key_version or 'latest'})") from None
        return bytes(result.key)


def key_wrapper(settings: Mapping[str, Any]) -> KeyVaultWrapper:
    """The ``vaultform.key_wrappers`` entry point: ``settings`` are the key provider's arguments
    (vault_uri, key_name, key_version and the azurerm provider's sign-in arguments)."""
    config = {k: v for k, v in settings.items() if k not in ("vault_uri", "key_name", "key_version")}
    environ = dict(os.environ)
    if not (
        config.get("subscription_id")
        or environ.get("ARM_SUBSCRIPTION_ID")
        or environ.get("AZURE_SUBSCRIPTION_ID")
    ):
        config["subscription_id"] = NO_SUBSCRIPTION
    try:
        factory = ClientFactory.from_config(config, environ)
    except ProviderError as exc:
        raise ValueError(exc.message) from None
    return KeyVaultWrapper(
        factory, str(settings["vault_uri"]), str(settings["key_name"]), str(settings.get("key_version") or "")
    )

"""The ``azure_keyvault`` key provider: a fresh data key for every write, wrapped by an RSA key
in Azure Key Vault with RSA-OAEP-256 - the envelope Azure Backup uses for customer-managed keys
(the data key never leaves the process in the clear; only Key Vault can unwrap it).

OpenTofu's ``azure_vault`` key provider (internal/encryption/keyprovider/azure_vault) does the
same with Key Vault's encrypt/decrypt operations; for an RSA key, wrapKey and encrypt with
RSA-OAEP-256 are the same operation (https://learn.microsoft.com/en-us/azure/key-vault/keys/
about-keys-details#wrapkeyunwrapkey-encryptdecrypt). The stored metadata has OpenTofu's shape::

    {"ciphertext": "<base64 wrapped key>", "iv": null, "authentication_tag": null,
     "additional_authenticated_data": null, "key_version": "<version>", "algo": "RSA-OAEP-256"}

``key_version`` is the version that wrapped the data key; unwrapping asks for exactly that
version, so a state written before a key rotation still opens afterwards (as long as the old
version stays enabled), and the next write wraps with the new version.

The wrapping itself is injected (``KeyWrapper``): the state package knows no SDK. The azurerm
provider offers one on the official ``CryptographyClient`` (``providers.azurerm.state_keys``).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Protocol

from state.encryption.keys import KeyUnavailable, ProviderName

ALGORITHM = "RSA-OAEP-256"
DEFAULT_KEY_LENGTH = 32


class KeyWrapper(Protocol):
    def wrap(self, data_key: bytes) -> tuple[bytes, str]:
        """``data_key`` wrapped (RSA-OAEP-256) and the key version that wrapped it; raises
        ``KeyUnavailable`` saying what to fix."""

    def unwrap(self, wrapped: bytes, key_version: str) -> bytes:
        """The data key ``key_version`` wrapped; ``KeyUnavailable`` otherwise."""

    def describe(self) -> str:
        """The key, for messages (``https://VAULT.vault.azure.net/keys/NAME``)."""


class KeyVaultProvider:
    def __init__(
        self, label: ProviderName, wrapper: KeyWrapper, key_length: int = DEFAULT_KEY_LENGTH
    ) -> None:
        self._label = label
        self.wrapper = wrapper
        self.key_length = key_length
        self._unwrapped: dict[tuple[bytes, str], bytes] = {}

    @property
    def label(self) -> ProviderName:
        return self._label

    def encryption_key(self) -> tuple[bytes, bytes]:
        data_key = os.urandom(self.key_length)
        wrapped, version = self.wrapper.wrap(data_key)
        meta = {
            "ciphertext": base64.b64encode(wrapped).decode("ascii"),
            "iv": None,
            "authentication_tag": None,
            "additional_authenticated_data": None,
            "key_version": version,
            "algo": ALGORITHM,
        }
        return data_key, json.dumps(meta, separators=(",", ":")).encode("ascii")

    def decryption_key(self, meta: bytes) -> bytes:
        try:
            doc = json.loads(meta)
            wrapped = base64.b64decode(doc["ciphertext"], validate=True)
            version = doc.get("key_version") or ""
            algorithm = doc.get("algo") or ALGORITHM
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
            raise KeyUnavailable(f"the stored metadata of {self.label.address} is damaged") from None
        if algorithm != ALGORITHM or not isinstance(version, str):
            raise KeyUnavailable(
                f"the data key was wrapped with {algorithm}; {self.label.address} unwraps {ALGORITHM} only"
            )
        marker = (wrapped, version)
        if marker not in self._unwrapped:
            self._unwrapped[marker] = self.wrapper.unwrap(wrapped, version)
        return self._unwrapped[marker]

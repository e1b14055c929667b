"""Encryption methods: ``aes_gcm`` and ``unencrypted`` (OpenTofu's internal/encryption/method).

``aes_gcm`` seals the data with AES-GCM under the key its key provider gives (16, 24 or 32
bytes: AES-128, -192 or -256), a fresh 12-byte nonce in front of the ciphertext and its tag -
OpenTofu's layout (method/aesgcm/aesgcm.go: ``append(nonce, gcm.Seal(...))``), no associated
data. ``unencrypted`` marks a target that reads (and, as the primary method, writes) plain data:
it is how a configuration migrates to encryption and back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

from state.encryption.keys import KeyProvider, KeyUnavailable

AES_KEY_LENGTHS = (16, 24, 32)
NONCE_BYTES = 12


@dataclass(frozen=True, slots=True)
class MethodName:
    """``method.TYPE.NAME`` and where it is declared, for messages."""

    type: str
    name: str
    declared_at: str = ""

    @property
    def address(self) -> str:
        return f"method.{self.type}.{self.name}"

    def __str__(self) -> str:
        return self.address + (f" ({self.declared_at})" if self.declared_at else "")


class Method(Protocol):
    @property
    def label(self) -> MethodName: ...


class Unencrypted:
    def __init__(self, label: MethodName) -> None:
        self._label = label

    @property
    def label(self) -> MethodName:
        return self._label


class AesGcm:
    def __init__(self, label: MethodName, keys: KeyProvider) -> None:
        self._label = label
        self.keys = keys

    @property
    def label(self) -> MethodName:
        return self._label

    def encrypt(self, data: bytes) -> tuple[bytes, dict[str, bytes]]:
        """The sealed data and the key provider's metadata, keyed by its address."""
        key, meta = self.keys.encryption_key()
        _check_length(key, self.keys)
        nonce = os.urandom(NONCE_BYTES)
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # loaded only for encrypted state

        return nonce + AESGCM(key).encrypt(nonce, data, None), {self.keys.label.address: meta}

    def decrypt(self, sealed: bytes, meta: dict[str, bytes]) -> bytes:
        stored = meta.get(self.keys.label.address)
        if stored is None:
            written_by = ", ".join(sorted(meta)) or "no key provider"
            raise KeyUnavailable(f"it was not written with {self.keys.label.address} (it names {written_by})")
        key = self.keys.decryption_key(stored)
        _check_length(key, self.keys)
        if len(sealed) < NONCE_BYTES + 16:
            raise KeyUnavailable("the encrypted data is too short (damaged)")
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], None)
        except InvalidTag:
            raise KeyUnavailable(
                f"the key from {self.keys.label} does not open it (a wrong passphrase or key, "
                "or altered data)"
            ) from None


def _check_length(key: bytes, keys: KeyProvider) -> None:
    if len(key) not in AES_KEY_LENGTHS:
        raise KeyUnavailable(
            f"aes_gcm needs a key of 16, 24 or 32 bytes; {keys.label.address} gives {len(key)}",
            "Set key_length to 16, 24 or 32 in that key provider.",
        )

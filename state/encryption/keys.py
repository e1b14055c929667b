"""Key providers: where a method's keys come from.

As in OpenTofu (internal/encryption/keyprovider), a key provider gives two things: a key to
encrypt with, together with the metadata to store beside the encrypted data (a salt, a wrapped
data key), and - given such stored metadata - the key to decrypt with. The metadata is kept in
the envelope under the provider's address, ``key_provider.TYPE.NAME``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class KeyUnavailable(Exception):
    """A key provider can't give a key: ``problem`` says why, ``hint`` how to fix it."""

    def __init__(self, problem: str, hint: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint


@dataclass(frozen=True, slots=True)
class ProviderName:
    """``key_provider.TYPE.NAME`` and where it is declared (``main.tf:4``), for messages."""

    type: str
    name: str
    declared_at: str = ""

    @property
    def address(self) -> str:
        return f"key_provider.{self.type}.{self.name}"

    def __str__(self) -> str:
        return self.address + (f" ({self.declared_at})" if self.declared_at else "")


class KeyProvider(Protocol):
    @property
    def label(self) -> ProviderName:
        """Its address, which is also the key of its metadata in the envelope."""

    def encryption_key(self) -> tuple[bytes, bytes]:
        """A key to encrypt with and the metadata (JSON) to store beside the data."""

    def decryption_key(self, meta: bytes) -> bytes:
        """The key that decrypts data stored with ``meta``; ``KeyUnavailable`` otherwise."""

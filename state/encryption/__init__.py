"""State and plan encryption, as OpenTofu does it (internal/encryption in opentofu/opentofu).

The pieces, each a small module:

* ``keys``: what a key provider is (a key to encrypt with, and its metadata; a key to decrypt
  with, from the metadata stored beside the data) and the errors a key provider raises;
* ``pbkdf2``: a key derived from a passphrase (OpenTofu's ``pbkdf2`` key provider);
* ``keyvault``: a fresh data key per write, wrapped by an RSA key in Azure Key Vault
  (RSA-OAEP-256), the key wrapping itself injected (``KeyWrapper``) so this package needs no SDK;
* ``methods``: ``aes_gcm`` and ``unencrypted``;
* ``envelope``: OpenTofu's on-disk form, ``{"serial", "lineage", "meta", "encrypted_data",
  "encryption_version": "v0"}``;
* ``target``: one target (``state`` or ``plan``): its method, its fallbacks, ``enforced``.

Nothing here reads configuration: the engine (``reconciler.encryption_config``) turns an
``encryption`` block into these objects.
"""

from __future__ import annotations

from state.encryption.envelope import is_envelope
from state.encryption.keys import KeyProvider, KeyUnavailable
from state.encryption.methods import AesGcm, Method, Unencrypted
from state.encryption.target import Encryption, TargetEncryption

__all__ = [
    "AesGcm",
    "Encryption",
    "KeyProvider",
    "KeyUnavailable",
    "Method",
    "TargetEncryption",
    "Unencrypted",
    "is_envelope",
]

"""The ``pbkdf2`` key provider: a key derived from a passphrase (OpenTofu's
internal/encryption/keyprovider/pbkdf2).

Defaults and limits are OpenTofu's (descriptor.go, config_constants.go): key_length 32,
iterations 600000 (at least 200000), salt_length 32, hash_function sha512 (or sha256), a
passphrase of at least 16 characters. The metadata stored beside the data is OpenTofu's too,
``{"salt": base64, "iterations": N, "hash_function": "sha512", "key_length": 32}``, so a state
either writes, the other reads.

As in OpenTofu (base.go: one encryption key per run "reduces the overhead"), the salt is drawn
and the key derived once per provider object, i.e. once per run, however many times the state
is written; derived decryption keys are remembered by their parameters.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field

from state.encryption.keys import KeyUnavailable, ProviderName

HASH_FUNCTIONS = ("sha256", "sha512")
DEFAULT_KEY_LENGTH = 32
DEFAULT_ITERATIONS = 600_000
MINIMUM_ITERATIONS = 200_000
DEFAULT_SALT_LENGTH = 32
DEFAULT_HASH_FUNCTION = "sha512"
MINIMUM_PASSPHRASE_LENGTH = 16


@dataclass(frozen=True, slots=True)
class Pbkdf2Settings:
    passphrase: str = field(repr=False)
    key_length: int = DEFAULT_KEY_LENGTH
    iterations: int = DEFAULT_ITERATIONS
    salt_length: int = DEFAULT_SALT_LENGTH
    hash_function: str = DEFAULT_HASH_FUNCTION

    def problems(self) -> list[tuple[str, str]]:
        """``(argument, what is wrong)`` for each setting OpenTofu would refuse (config.go Build)."""
        found = []
        if not self.passphrase:
            found.append(("passphrase", "is required"))
        elif len(self.passphrase) < MINIMUM_PASSPHRASE_LENGTH:
            found.append(("passphrase", f"is too short (at least {MINIMUM_PASSPHRASE_LENGTH} characters)"))
        if self.key_length <= 0:
            found.append(("key_length", "must be larger than zero"))
        if self.iterations < MINIMUM_ITERATIONS:
            found.append(("iterations", f"is dangerously low: at least {MINIMUM_ITERATIONS}"))
        if self.salt_length <= 0:
            found.append(("salt_length", "must be larger than zero"))
        if self.hash_function not in HASH_FUNCTIONS:
            found.append(("hash_function", f"must be one of {', '.join(HASH_FUNCTIONS)}"))
        return found


class Pbkdf2Provider:
    def __init__(self, label: ProviderName, settings: Pbkdf2Settings) -> None:
        self._label = label
        self.settings = settings
        self._lock = threading.Lock()
        self._encryption: tuple[bytes, bytes] | None = None
        self._derived: dict[tuple[bytes, int, str, int], bytes] = {}

    @property
    def label(self) -> ProviderName:
        return self._label

    def _derive(self, salt: bytes, iterations: int, hash_function: str, key_length: int) -> bytes:
        marker = (salt, iterations, hash_function, key_length)
        with self._lock:
            key = self._derived.get(marker)
            if key is None:
                secret = self.settings.passphrase.encode("utf-8")
                key = hashlib.pbkdf2_hmac(hash_function, secret, salt, iterations, key_length)
                self._derived[marker] = key
            return key

    def encryption_key(self) -> tuple[bytes, bytes]:
        if self._encryption is None:
            s = self.settings
            salt = os.urandom(s.salt_length)
            key = self._derive(salt, s.iterations, s.hash_function, s.key_length)
            meta = {
                "salt": base64.b64encode(salt).decode("ascii"),
                "iterations": s.iterations,
                "hash_function": s.hash_function,
                "key_length": s.key_length,
            }
            self._encryption = (key, json.dumps(meta, separators=(",", ":")).encode("ascii"))
        return self._encryption

    def decryption_key(self, meta: bytes) -> bytes:
        try:
            doc = json.loads(meta)
            salt = base64.b64decode(doc["salt"], validate=True)
            iterations, hash_function, key_length = doc["iterations"], doc["hash_function"], doc["key_length"]
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise KeyUnavailable(f"the stored metadata of {self.label.address} is damaged") from None
        if (
            not salt
            or type(iterations) is not int
            or type(key_length) is not int
            or iterations <= 0
            or not 0 < key_length <= 1024
            or hash_function not in HASH_FUNCTIONS
        ):
            raise KeyUnavailable(f"the stored metadata of {self.label.address} is not valid pbkdf2 metadata")
        return self._derive(salt, iterations, hash_function, key_length)

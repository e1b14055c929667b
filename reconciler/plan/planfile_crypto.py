"""The key that seals the secrets of saved plans, and the sealing itself (AES-256-GCM).

Where the key comes from, first match wins:

1. ``VAULTFORM_PLAN_KEY``: 32 random bytes, written as base64 (``openssl rand -base64 32``)
   or as 64 hexadecimal digits. Pipelines set it from their secret store, so the job that
   runs ``plan -out`` and the job that runs ``apply`` share it.
2. ``~/.vaultform/plan.key``: created on the first ``plan -out`` that has a secret to seal,
   with mode 0600 in a 0700 directory, holding the key as base64. A key file that others may
   read is refused (a key anyone can read protects nothing).

Each sealed value is ``base64(nonce || ciphertext || tag)`` with a fresh 12-byte nonce and the
associated data ``vaultform-plan/1``. A plan file records the key's id (a digest that does
not reveal the key) so that opening it with another key says so plainly.

The same key authenticates the whole plan file: ``mac`` is an HMAC-SHA256 over the file's
exact bytes, under a key derived from the plan key for that purpose only (the AES key is
never used for two things). Sealing alone protects the secrets, not the rest: without the
code, an edited grant (another principal id in the clear) would be applied as approved.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from reconciler.diagnostics import DiagnosticsError, error

KEY_ENV = "VAULTFORM_PLAN_KEY"
KEY_BYTES = 32
NONCE_BYTES = 12
ASSOCIATED_DATA = b"vaultform-plan/1"
MAC_LABEL = b"vaultform plan file authentication\0"
MAC_HEX_DIGITS = 64


def key_file_path() -> Path:
    return Path.home() / ".vaultform" / "plan.key"


@dataclass(frozen=True)
class PlanKey:
    key: bytes
    source: str  # where it came from, for messages

    @property
    def id(self) -> str:
        return hashlib.sha256(b"vaultform plan key id\0" + self.key).hexdigest()[:16]

    def mac(self, data: bytes) -> str:
        """The authentication code of ``data``: 64 hexadecimal digits."""
        subkey = hmac.digest(self.key, MAC_LABEL, "sha256")
        return hmac.new(subkey, data, hashlib.sha256).hexdigest()

    def verify(self, data: bytes, code: str) -> bool:
        return hmac.compare_digest(self.mac(data), code)

    def seal(self, plaintext: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.key).encrypt(nonce, plaintext, ASSOCIATED_DATA)
        return base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, text: str) -> bytes:
        try:
            raw = base64.b64decode(text.encode("ascii"), validate=True)
            return AESGCM(self.key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], ASSOCIATED_DATA)
        except (InvalidTag, ValueError, binascii.Error, UnicodeEncodeError):
            raise DiagnosticsError(
                error(
                    "plan_file_secret",
                    "A sealed value of the saved plan does not open",
                    f"The value was altered, or sealed with another key than the one from {self.source}. "
                    "Run plan again to save a fresh plan.",
                )
            ) from None


def _parse_key(text: str, source: str) -> bytes:
    text = text.strip()
    candidates = []
    if len(text) == 2 * KEY_BYTES:
        with contextlib.suppress(ValueError):
            candidates.append(bytes.fromhex(text))
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        with contextlib.suppress(binascii.Error, ValueError, UnicodeEncodeError):
            candidates.append(decode(text.encode("ascii")))
    for key in candidates:
        if len(key) == KEY_BYTES:
            return key
    raise DiagnosticsError(
        error(
            "plan_key",
            f"The saved-plan key in {source} is not a 32-byte key",
            "Write 32 random bytes as base64 or as 64 hexadecimal digits, for example the output of "
            "`openssl rand -base64 32`.",
        )
    )


def _read_key_file(path: Path) -> PlanKey:
    try:
        st = path.stat()
        text = path.read_text()
    except OSError as exc:
        raise DiagnosticsError(
            error(
                "plan_key",
                f"Cannot read the saved-plan key {path}",
                f"{exc.strerror}. Fix the file's permissions, or set {KEY_ENV} instead.",
            )
        ) from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise DiagnosticsError(
            error(
                "plan_key",
                f"The saved-plan key {path} can be read by others",
                f"Its mode is {stat.S_IMODE(st.st_mode):04o}. Run `chmod 600 {path}` and try again.",
            )
        )
    return PlanKey(_parse_key(text, str(path)), str(path))


def load_key(*, create: bool) -> PlanKey:
    """The plan key; with ``create`` a missing key file is made (mode 0600)."""
    env = os.environ.get(KEY_ENV)
    if env:
        return PlanKey(_parse_key(env, KEY_ENV), KEY_ENV)
    path = key_file_path()
    if path.exists():
        return _read_key_file(path)
    if not create:
        raise DiagnosticsError(
            error(
                "plan_key",
                "No key to open the saved plan",
                f"A saved plan is authenticated (and its secrets sealed) with the plan key, and neither "
                f"{KEY_ENV} is set nor {path} exists. Use the "
                f"key that was in effect when the plan was saved (set {KEY_ENV}, or copy that key file "
                "here), or run plan again.",
            )
        )
    return _create_key_file(path)


def _create_key_file(path: Path) -> PlanKey:
    key = os.urandom(KEY_BYTES)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made by a run at the same moment: use that one
        return _read_key_file(path)
    except OSError as exc:
        raise DiagnosticsError(
            error(
                "plan_key",
                f"Cannot create the saved-plan key {path}",
                f"{exc.strerror}. Set {KEY_ENV} to 32 random bytes in base64 (`openssl rand -base64 32`) "
                "instead.",
            )
        ) from None
    with os.fdopen(fd, "w") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(base64.b64encode(key).decode("ascii") + "\n")
    return PlanKey(key, str(path))

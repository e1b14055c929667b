"""The local Azure's cryptography: sealed key material, Key Vault algorithms, backup envelopes.

Three layers, all built on the ``cryptography`` package:

* ``Sealer``: AES-256-GCM under the emulator master key. Every private key and
  data key is sealed before it reaches SQLite, so the database file never holds
  PEM/DER private keys nor raw data keys.
* Key Vault algorithms on real keys: RSA-OAEP, RSA-OAEP-256 and RSA1_5 for
  wrap/unwrap and encrypt/decrypt; RS*/PS*/ES* signatures over a digest;
  JWK export of the public half (base64url, no padding, as Key Vault sends it).
* ``Envelope``: AES-256-GCM with associated data, used for recovery points so
  that the ciphertext is bound to its recovery point id.

The master key comes from ``VAULTFORM_LOCAL_AZURE_MASTER_KEY`` (any string; a
key is derived from it) or from 32 random bytes in ``<db>.key`` (mode 0600)
next to the database. An in-memory database gets a per-process random key.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MASTER_KEY_ENV = "VAULTFORM_LOCAL_AZURE_MASTER_KEY"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16


class IntegrityError(Exception):
    """Ciphertext, tag or associated data did not verify: the data was altered."""


class CryptoError(ValueError):
    """A request the algorithms can't satisfy (unknown algorithm, wrong key type, bad length)."""


# --------------------------------------------------------------------------- base64url


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str):
        raise CryptoError("expected a base64url string")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise CryptoError(f"not valid base64url: {exc}") from None


def _int_to_b64url(value: int, length: int | None = None) -> str:
    size = length or max(1, (value.bit_length() + 7) // 8)
    return b64url_encode(value.to_bytes(size, "big"))


# --------------------------------------------------------------------------- master key


def master_key_path(db_path: str | os.PathLike) -> Path:
    return Path(f"{db_path}.key")


def load_master_key(db_path: str | os.PathLike | None) -> bytes:
    """The emulator master key for the database at ``db_path`` (created on first use)."""
    from_env = os.environ.get(MASTER_KEY_ENV)
    if from_env:
        return hashlib.sha256(b"vaultform-local-azure-master-key\x00" + from_env.encode()).digest()
    if db_path is None or str(db_path) == ":memory:":
        return _process_key()
    path = master_key_path(db_path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if _holds_sealed_keys(db_path):
            raise CryptoError(
                f"the master key file {path} is missing, but {db_path} holds keys sealed with it; "
                "restore the file, or start a new local Azure with `vaultform cloud reset`"
            ) from None
        data = _create_key_file(path)
    if len(data) != KEY_BYTES:
        raise CryptoError(
            f"master key file {path} is damaged (expected {KEY_BYTES} bytes); "
            f"restore it, or reset the local Azure"
        )
    return data


def check_master_key(db_path: str | os.PathLike) -> None:
    """Raise CryptoError when the database holds sealed keys and their master key file is gone
    (run when the database is opened; the key itself is loaded on first use)."""
    if os.environ.get(MASTER_KEY_ENV):
        return
    path = master_key_path(db_path)
    if not path.exists() and _holds_sealed_keys(db_path):
        raise CryptoError(
            f"the master key file {path} is missing, but {db_path} holds keys sealed with it; "
            "restore the file, or start a new local Azure with `vaultform cloud reset`"
        )


def _holds_sealed_keys(db_path) -> bool:
    """Whether the database already holds key material sealed under some master key."""
    import sqlite3

    if not Path(db_path).is_file():
        return False
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT 1 FROM kv_key_versions LIMIT 1").fetchone() is not None
        finally:
            conn.close()
    except sqlite3.Error:
        return False


_PROCESS_KEY: bytes | None = None


def _process_key() -> bytes:
    global _PROCESS_KEY
    if _PROCESS_KEY is None:
        _PROCESS_KEY = secrets.token_bytes(KEY_BYTES)
    return _PROCESS_KEY


def _create_key_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(path, 0o600)
    return key


class Sealer:
    """AES-256-GCM under one key; ``context`` is bound as associated data."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise CryptoError("a sealing key is 32 bytes")
        self._key = key
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, blob: bytes, context: str) -> bytes:
        if len(blob) < NONCE_BYTES + TAG_BYTES:
            raise IntegrityError("sealed data is truncated")
        try:
            return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise IntegrityError("sealed data failed its integrity check") from None

    def derive(self, label: str) -> Sealer:
        """A sealer under a sub-key of this one (e.g. the emulator's platform key)."""
        return Sealer(
            HKDF(
                algorithm=hashes.SHA256(),
                length=KEY_BYTES,
                salt=None,
                info=f"vaultform-local-azure:{label}".encode(),
            ).derive(self._key)
        )


# --------------------------------------------------------------------------- key types


class KeyType(enum.Enum):
    RSA = "RSA"
    RSA_HSM = "RSA-HSM"
    EC = "EC"
    EC_HSM = "EC-HSM"

    @property
    def is_rsa(self) -> bool:
        return self in (KeyType.RSA, KeyType.RSA_HSM)


RSA_SIZES = (2048, 3072, 4096)
DEFAULT_RSA_SIZE = 2048

CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
    "P-256K": ec.SECP256K1(),
}
DEFAULT_CURVE = "P-256"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def generate_key(
    kty: KeyType, *, size: int | None = None, curve: str | None = None, public_exponent: int = 65537
) -> PrivateKey:
    if kty.is_rsa:
        size = size or DEFAULT_RSA_SIZE
        if size not in RSA_SIZES:
            raise CryptoError(
                f"RSA key size {size} is not supported; use one of {', '.join(map(str, RSA_SIZES))}"
            )
        return rsa.generate_private_key(public_exponent=public_exponent, key_size=size)
    name = curve or DEFAULT_CURVE
    if name not in CURVES:
        raise CryptoError(f"curve {name!r} is not supported; use one of {', '.join(CURVES)}")
    return ec.generate_private_key(CURVES[name])


def private_to_der(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def private_from_der(der: bytes) -> PrivateKey:
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise CryptoError("stored key is neither RSA nor EC")
    return key


def curve_name(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> str:
    for name, curve in CURVES.items():
        if curve.name == key.curve.name:
            return name
    raise CryptoError(f"unknown curve {key.curve.name}")


def curve_of(key: PrivateKey) -> str | None:
    """An EC key's curve name (P-256, ...); None for an RSA key."""
    return curve_name(key) if isinstance(key, ec.EllipticCurvePrivateKey) else None


def key_size(key: PrivateKey) -> int:
    return key.key_size if isinstance(key, rsa.RSAPrivateKey) else key.curve.key_size


def public_jwk(key: PrivateKey) -> dict:
    """The public half as JWK members (n/e for RSA, crv/x/y for EC)."""
    if isinstance(key, rsa.RSAPrivateKey):
        rsa_numbers = key.public_key().public_numbers()
        return {"n": _int_to_b64url(rsa_numbers.n), "e": _int_to_b64url(rsa_numbers.e)}
    numbers = key.public_key().public_numbers()
    length = (key.curve.key_size + 7) // 8
    return {
        "crv": curve_name(key),
        "x": _int_to_b64url(numbers.x, length),
        "y": _int_to_b64url(numbers.y, length),
    }


# --------------------------------------------------------------------------- encryption algorithms


class WrapAlgorithm(enum.Enum):
    RSA_OAEP = "RSA-OAEP"
    RSA_OAEP_256 = "RSA-OAEP-256"
    RSA1_5 = "RSA1_5"


def _rsa_padding(alg: WrapAlgorithm) -> padding.AsymmetricPadding:
    if alg is WrapAlgorithm.RSA_OAEP:
        return padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    if alg is WrapAlgorithm.RSA_OAEP_256:
        return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    return padding.PKCS1v15()


def wrap_algorithm(name: str) -> WrapAlgorithm:
    try:
        return WrapAlgorithm(name)
    except ValueError:
        raise CryptoError(
            f"algorithm {name!r} is not supported; use one of {', '.join(a.value for a in WrapAlgorithm)}"
        ) from None


def _rsa(key: PrivateKey) -> rsa.RSAPrivateKey:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CryptoError("this operation needs an RSA key")
    return key


def rsa_encrypt(key: PrivateKey, alg: WrapAlgorithm, plaintext: bytes) -> bytes:
    """Wrap/encrypt with the public half (Key Vault's wrapKey and encrypt)."""
    try:
        return _rsa(key).public_key().encrypt(plaintext, _rsa_padding(alg))
    except ValueError as exc:
        raise CryptoError(f"the value can't be encrypted with {alg.value}: {exc}") from None


def rsa_decrypt(key: PrivateKey, alg: WrapAlgorithm, ciphertext: bytes) -> bytes:
    """Unwrap/decrypt with the private half; a wrong or altered value is an IntegrityError."""
    try:
        return _rsa(key).decrypt(ciphertext, _rsa_padding(alg))
    except ValueError:
        raise IntegrityError(f"the value could not be decrypted with {alg.value}") from None


# --------------------------------------------------------------------------- signatures

_SIGN_HASHES: dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
SIGN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "ES256K")


def _sign_parts(alg: str) -> tuple[str, hashes.HashAlgorithm]:
    if alg not in SIGN_ALGORITHMS:
        raise CryptoError(
            f"signature algorithm {alg!r} is not supported; use one of {', '.join(SIGN_ALGORITHMS)}"
        )
    bits = "256" if alg == "ES256K" else alg[2:]
    return alg[:2], _SIGN_HASHES[bits]()


def sign_digest(key: PrivateKey, alg: str, digest: bytes) -> bytes:
    family, algo = _sign_parts(alg)
    if len(digest) != algo.digest_size:
        raise CryptoError(f"{alg} signs a {algo.digest_size}-byte digest, got {len(digest)} bytes")
    if family in ("RS", "PS"):
        pad = (
            padding.PKCS1v15()
            if family == "RS"
            else padding.PSS(mgf=padding.MGF1(algo), salt_length=algo.digest_size)
        )
        return _rsa(key).sign(digest, pad, Prehashed(algo))
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CryptoError(f"{alg} needs an EC key")
    r, s = decode_dss_signature(key.sign(digest, ec.ECDSA(Prehashed(algo))))
    size = (key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def verify_digest(key: PrivateKey, alg: str, digest: bytes, signature: bytes) -> bool:
    family, algo = _sign_parts(alg)
    try:
        if family in ("RS", "PS"):
            pad = (
                padding.PKCS1v15()
                if family == "RS"
                else padding.PSS(mgf=padding.MGF1(algo), salt_length=padding.PSS.AUTO)
            )
            _rsa(key).public_key().verify(signature, digest, pad, Prehashed(algo))
            return True
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise CryptoError(f"{alg} needs an EC key")
        size = (key.curve.key_size + 7) // 8
        if len(signature) != 2 * size:
            return False
        der = encode_dss_signature(
            int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
        )
        key.public_key().verify(der, digest, ec.ECDSA(Prehashed(algo)))
        return True
    except InvalidSignature:
        return False


# --------------------------------------------------------------------------- data keys and envelopes


def new_data_key() -> bytes:
    """A fresh AES-256 data encryption key."""
    return AESGCM.generate_key(bit_length=256)


@dataclass(frozen=True)
class Envelope:
    """AES-256-GCM output: the tag is kept apart so a record shows all three parts."""

    nonce: bytes
    ciphertext: bytes
    tag: bytes

    def to_json(self) -> dict:
        return {
            "nonce": b64url_encode(self.nonce),
            "ciphertext": b64url_encode(self.ciphertext),
            "tag": b64url_encode(self.tag),
        }

    @classmethod
    def from_json(cls, data: dict) -> Envelope:
        try:
            return cls(
                b64url_decode(data["nonce"]), b64url_decode(data["ciphertext"]), b64url_decode(data["tag"])
            )
        except (KeyError, TypeError, CryptoError) as exc:
            raise IntegrityError(f"envelope is malformed: {exc}") from None


def seal_envelope(dek: bytes, plaintext: bytes, associated_data: bytes) -> Envelope:
    if len(dek) != KEY_BYTES:
        raise CryptoError("a data encryption key is 32 bytes (AES-256)")
    nonce = secrets.token_bytes(NONCE_BYTES)
    out = AESGCM(dek).encrypt(nonce, plaintext, associated_data)
    return Envelope(nonce, out[:-TAG_BYTES], out[-TAG_BYTES:])


def open_envelope(dek: bytes, envelope: Envelope, associated_data: bytes) -> bytes:
    if len(dek) != KEY_BYTES or len(envelope.nonce) != NONCE_BYTES or len(envelope.tag) != TAG_BYTES:
        raise IntegrityError("envelope or data key has the wrong shape")
    try:
        return AESGCM(dek).decrypt(envelope.nonce, envelope.ciphertext + envelope.tag, associated_data)
    except InvalidTag:
        raise IntegrityError(
            "backup data failed its integrity check (ciphertext, tag or binding altered)"
        ) from None


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

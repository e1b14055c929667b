"""Password hashing and RSA decryption: bcrypt and rsadecrypt (terraform's funcs/crypto.go).

``bcrypt`` is salted, so a new hash comes out of every call; like ``uuid`` and ``timestamp`` it
is impure, unknown at plan time and computed when impure calls are allowed (the console).
Its hashes start ``$2a$`` as Go's ``golang.org/x/crypto/bcrypt`` writes them, and a cost
below 4 falls back to the default 10 as there.

``rsadecrypt`` takes base64 PKCS #1 v1.5 ciphertext and a PEM private key (PKCS #1, PKCS #8 or
OpenSSH) and returns the cleartext.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from reconciler.config.functions_spec import FunctionError, Param, ParamType, spec, table

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

# bcrypt and cryptography's key loading are imported by the functions that use them: every plan
# imports this table, few call bcrypt() or rsadecrypt(), and the two cost ~12 ms at start-up

_DEFAULT_COST = 10
_MIN_COST, _MAX_COST = 4, 31


@spec("bcrypt", Param("str", ParamType.STRING), variadic=Param("cost", ParamType.NUMBER), impure=True)
def _bcrypt(text, *cost):
    if len(cost) > 1:
        raise FunctionError("bcrypt() takes no more than two arguments")
    rounds = _DEFAULT_COST
    if cost:
        if not isinstance(cost[0], int):
            raise FunctionError(f"a whole number is required for the cost, not {cost[0]}", 1)
        rounds = cost[0]
    if rounds > _MAX_COST:
        raise FunctionError(
            f"error occured generating password crypto/bcrypt: cost {rounds} is outside allowed range "
            f"({_MIN_COST},{_MAX_COST})",
            1,
        )
    if rounds < _MIN_COST:
        rounds = _DEFAULT_COST
    data = text.encode()
    if len(data) > 72:
        raise FunctionError("error occured generating password bcrypt: password length exceeds 72 bytes", 0)
    import bcrypt as _bcrypt_lib

    return _bcrypt_lib.hashpw(data, _bcrypt_lib.gensalt(rounds, prefix=b"2a")).decode()


def _private_key(text: str) -> rsa.RSAPrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    data = text.encode()
    key: object = None
    try:
        if b"OPENSSH PRIVATE KEY" in data:
            key = serialization.load_ssh_private_key(data, password=None)
        elif b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise FunctionError(f"invalid private key: {exc}", 1) from None
    if key is None:
        raise FunctionError("invalid private key: ssh: no key found", 1)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise FunctionError(f"invalid private key type {type(key).__name__}; an RSA key is required", 1)
    return key


@spec("rsadecrypt", Param("ciphertext", ParamType.STRING), Param("privatekey", ParamType.STRING))
def _rsadecrypt(ciphertext, privatekey):
    try:
        raw = base64.b64decode(ciphertext, validate=True)
    except (binascii.Error, ValueError):
        raise FunctionError(
            f'failed to decode input "{ciphertext}": cipher text must be base64-encoded', 0
        ) from None
    key = _private_key(privatekey)
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        clear = key.decrypt(raw, padding.PKCS1v15())
    except ValueError:
        raise FunctionError("failed to decrypt: crypto/rsa: decryption error", 0) from None
    try:
        return clear.decode("utf-8")
    except UnicodeDecodeError:
        raise FunctionError("the decrypted bytes are not valid UTF-8", 0) from None


FUNCTIONS = table(_bcrypt, _rsadecrypt)

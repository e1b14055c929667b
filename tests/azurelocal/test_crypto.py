"""The emulator's cryptography: master key, sealing, Key Vault algorithms, envelopes."""

import hashlib
import os
import stat

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.azurelocal import crypto

RSA_KEY = crypto.generate_key(crypto.KeyType.RSA, size=2048)
EC_KEY = crypto.generate_key(crypto.KeyType.EC, curve="P-256")


def test_master_key_file_is_created_once_with_mode_0600(tmp_path, monkeypatch):
    monkeypatch.delenv(crypto.MASTER_KEY_ENV, raising=False)
    db = tmp_path / "cloud.db"
    first = crypto.load_master_key(db)
    path = crypto.master_key_path(db)
    assert len(first) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert crypto.load_master_key(db) == first


def test_master_key_from_environment_is_derived_not_stored(tmp_path, monkeypatch):
    monkeypatch.setenv(crypto.MASTER_KEY_ENV, "correct horse")
    db = tmp_path / "cloud.db"
    assert crypto.load_master_key(db) == crypto.load_master_key(tmp_path / "other.db")
    assert not crypto.master_key_path(db).exists()


def test_damaged_master_key_file_is_reported(tmp_path, monkeypatch):
    monkeypatch.delenv(crypto.MASTER_KEY_ENV, raising=False)
    db = tmp_path / "cloud.db"
    crypto.master_key_path(db).write_bytes(b"short")
    with pytest.raises(crypto.CryptoError, match="damaged"):
        crypto.load_master_key(db)


def test_sealer_round_trip_and_context_binding():
    sealer = crypto.Sealer(os.urandom(32))
    blob = sealer.seal(b"secret", "keys/a/1")
    assert b"secret" not in blob
    assert sealer.open(blob, "keys/a/1") == b"secret"
    with pytest.raises(crypto.IntegrityError):
        sealer.open(blob, "keys/a/2")
    altered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(crypto.IntegrityError):
        sealer.open(altered, "keys/a/1")


def test_derived_sealer_differs_from_parent_and_is_stable():
    key = os.urandom(32)
    parent = crypto.Sealer(key)
    blob = parent.derive("platform").seal(b"x", "c")
    assert crypto.Sealer(key).derive("platform").open(blob, "c") == b"x"
    with pytest.raises(crypto.IntegrityError):
        parent.open(blob, "c")


@pytest.mark.parametrize("alg", list(crypto.WrapAlgorithm))
def test_rsa_wrap_unwrap_round_trip(alg):
    dek = crypto.new_data_key()
    wrapped = crypto.rsa_encrypt(RSA_KEY, alg, dek)
    assert len(wrapped) == 256 and wrapped != dek
    assert crypto.rsa_decrypt(RSA_KEY, alg, wrapped) == dek


def test_oaep_256_matches_the_standard_construction():
    """A value wrapped by any RSA-OAEP-256 implementation (here: cryptography directly) unwraps."""
    pub = RSA_KEY.public_key()
    wrapped = pub.encrypt(
        b"k" * 32, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    )
    assert crypto.rsa_decrypt(RSA_KEY, crypto.WrapAlgorithm.RSA_OAEP_256, wrapped) == b"k" * 32
    with pytest.raises(crypto.IntegrityError):
        crypto.rsa_decrypt(RSA_KEY, crypto.WrapAlgorithm.RSA_OAEP, wrapped)


def test_unknown_algorithm_and_bad_key_sizes_are_refused():
    with pytest.raises(crypto.CryptoError, match="RSA-OAEP-256"):
        crypto.wrap_algorithm("A256KW")
    with pytest.raises(crypto.CryptoError, match="2048"):
        crypto.generate_key(crypto.KeyType.RSA, size=1024)
    with pytest.raises(crypto.CryptoError, match="RSA key"):
        crypto.rsa_encrypt(EC_KEY, crypto.WrapAlgorithm.RSA_OAEP, b"x")


def test_public_jwk_rebuilds_the_same_public_key():
    jwk = crypto.public_jwk(RSA_KEY)
    n = int.from_bytes(crypto.b64url_decode(jwk["n"]), "big")
    e = int.from_bytes(crypto.b64url_decode(jwk["e"]), "big")
    assert "=" not in jwk["n"] and e == 65537
    assert rsa.RSAPublicNumbers(e, n) == RSA_KEY.public_key().public_numbers()
    ec_jwk = crypto.public_jwk(EC_KEY)
    assert ec_jwk["crv"] == "P-256" and len(crypto.b64url_decode(ec_jwk["x"])) == 32


@pytest.mark.parametrize("alg,key", [("RS256", RSA_KEY), ("PS384", RSA_KEY), ("ES256", EC_KEY)])
def test_sign_and_verify_a_digest(alg, key):
    size = {"256": 32, "384": 48}[alg[2:]]
    digest = hashlib.new(f"sha{alg[2:]}", b"payload").digest()
    assert len(digest) == size
    signature = crypto.sign_digest(key, alg, digest)
    assert crypto.verify_digest(key, alg, digest, signature)
    assert not crypto.verify_digest(key, alg, bytes(size), signature)


def test_private_key_der_round_trip():
    der = crypto.private_to_der(RSA_KEY)
    assert crypto.private_from_der(der).private_numbers() == RSA_KEY.private_numbers()


@settings(max_examples=25, deadline=None)
@given(data=st.binary(max_size=4096), rp=st.text(min_size=1, max_size=40))
def test_envelope_round_trip_and_binding(data, rp):
    dek = crypto.new_data_key()
    env = crypto.seal_envelope(dek, data, rp.encode())
    assert len(env.tag) == 16 and len(env.nonce) == 12
    again = crypto.Envelope.from_json(env.to_json())
    assert crypto.open_envelope(dek, again, rp.encode()) == data
    with pytest.raises(crypto.IntegrityError):
        crypto.open_envelope(dek, again, rp.encode() + b"x")


def test_tampered_envelope_never_yields_data():
    dek = crypto.new_data_key()
    env = crypto.seal_envelope(dek, b"disk-bytes" * 100, b"rp-1")
    flipped = bytes([env.ciphertext[0] ^ 0x80]) + env.ciphertext[1:]
    with pytest.raises(crypto.IntegrityError):
        crypto.open_envelope(dek, crypto.Envelope(env.nonce, flipped, env.tag), b"rp-1")
    with pytest.raises(crypto.IntegrityError):
        crypto.open_envelope(crypto.new_data_key(), env, b"rp-1")
    with pytest.raises(crypto.IntegrityError):
        crypto.Envelope.from_json({"nonce": "!!"})

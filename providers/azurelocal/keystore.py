"""Key Vault keys of the local Azure: versions, lifecycle, and the wrap/unwrap the data path uses.

Keys live in two tables of the emulator's SQLite store. ``kv_key_names`` holds one row per key
name in a vault (its soft-delete state and rotation policy); ``kv_key_versions`` one row per
version: public attributes as JSON and the private key sealed with the emulator master key
(``crypto.Sealer``), never as plain DER. Callers on the REST side (``services/keys.py``) check
permissions before calling the lifecycle functions here; ``wrap``/``unwrap`` check them themselves,
because the ARM and data-path code call them on behalf of a managed identity.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from providers.azurelocal import crypto
from providers.azurelocal.kvrules import KeyVaultError, authorize, check_usable, key_not_found, vault_document

VAULT_DOMAIN = "vault.azure.net"
NAME_RE = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
ALL_KEY_OPS = ("encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey")
RSA_DEFAULT_OPS = ALL_KEY_OPS
EC_DEFAULT_OPS = ("sign", "verify")

_DDL = """
CREATE TABLE IF NOT EXISTS kv_key_names (
    vault TEXT NOT NULL,
    name_key TEXT NOT NULL,
    name TEXT NOT NULL,
    deleted TEXT,
    rotation_policy TEXT,
    PRIMARY KEY (vault, name_key)
);
CREATE TABLE IF NOT EXISTS kv_key_versions (
    vault TEXT NOT NULL,
    name_key TEXT NOT NULL,
    version TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    sealed BLOB NOT NULL,
    PRIMARY KEY (vault, name_key, version)
);
"""


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class KeyInfo:
    vault_id: str
    vault_name: str
    name: str
    version: str
    kty: str
    size: int | None
    curve: str | None
    enabled: bool
    expires: datetime | None
    not_before: datetime | None
    created: datetime
    updated: datetime
    key_ops: tuple[str, ...]
    tags: dict
    jwk: dict
    location: str
    deleted: bool = False
    exportable: bool = False
    release_policy: dict | None = None  # {"contentType", "immutable", "data"} as the wire carries it

    @property
    def vault_url(self) -> str:
        return f"https://{self.vault_name}.{VAULT_DOMAIN}"

    @property
    def versionless_id(self) -> str:
        return f"{self.vault_url}/keys/{self.name}"

    @property
    def versioned_id(self) -> str:
        return f"{self.versionless_id}/{self.version}"

    @property
    def is_rsa(self) -> bool:
        return self.kty in ("RSA", "RSA-HSM")

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires

    def not_yet_valid(self, now: datetime) -> bool:
        return self.not_before is not None and now < self.not_before


@dataclass(frozen=True)
class KeyRef:
    """A parsed key identifier: ``https://{vault}.vault.azure.net/keys/{name}[/{version}]``."""

    vault_name: str
    name: str
    version: str | None


_KEY_ID_RE = re.compile(
    r"^https://([0-9a-zA-Z-]+)\.vault\.azure\.net(?::443)?/keys/([0-9a-zA-Z-]+)(?:/([0-9a-fA-F]{32}))?/?$"
)


def parse_key_id(key_id: str) -> KeyRef | None:
    m = _KEY_ID_RE.match((key_id or "").strip())
    if not m:
        return None
    return KeyRef(m.group(1).lower(), m.group(2), (m.group(3) or "").lower() or None)


def _ts(dt: datetime | None) -> int | None:
    return None if dt is None else int(dt.timestamp())


def _dt(value) -> datetime | None:
    return None if value is None else _when(value)


def _when(value: int | float | str) -> datetime:
    return datetime.fromtimestamp(int(value), tz=UTC)


def _existing(info: KeyInfo | None, name: str) -> KeyInfo:
    """A key version just written or found; one removed meanwhile is not found."""
    if info is None:
        raise key_not_found(name)
    return info


def _existing_vault(env, vault_name: str, key_name: str) -> dict:
    """The vault of a key just found; a vault removed meanwhile leaves the key not found."""
    vault = vault_document(env, vault_name)
    if vault is None:
        raise key_not_found(key_name)
    return vault


def ensure_tables(env) -> None:
    if not getattr(env, "_kv_tables_ready", False):
        env.store.ensure_table(_DDL)
        env._kv_tables_ready = True


def _db(env):
    ensure_tables(env)
    return env.store._conn()


def master_sealer(env) -> crypto.Sealer:
    """The Emulator's sealer under its master key (loaded once per Emulator)."""
    sealer = getattr(env, "_kv_sealer", None)
    if sealer is None:
        path = env.store.path
        sealer = crypto.Sealer(crypto.load_master_key(None if str(path) == ":memory:" else path))
        env._kv_sealer = sealer
    return sealer


def _seal_context(vault: str, name: str, version: str) -> str:
    return f"kv-key:{vault}/{name.lower()}/{version}"


def _info(env, vault: dict, name: str, body: dict, deleted: bool) -> KeyInfo:
    attrs = body["attributes"]
    return KeyInfo(
        vault_id=vault["id"],
        vault_name=vault["name"].lower(),
        name=name,
        version=body["version"],
        kty=body["kty"],
        size=body.get("size"),
        curve=body.get("crv"),
        enabled=bool(attrs.get("enabled", True)),
        expires=_dt(attrs.get("exp")),
        not_before=_dt(attrs.get("nbf")),
        created=_when(attrs["created"]),
        updated=_when(attrs["updated"]),
        key_ops=tuple(body.get("key_ops", ())),
        tags=dict(body.get("tags") or {}),
        jwk=dict(body.get("jwk") or {}),
        location=vault.get("location", env.location_default),
        deleted=deleted,
        exportable=bool(attrs.get("exportable", False)),
        release_policy=body.get("release_policy"),
    )


def _name_row(env, vault: str, name: str):
    return (
        _db(env)
        .execute(
            "SELECT name, deleted, rotation_policy FROM kv_key_names WHERE vault=? AND name_key=?",
            (vault, name.lower()),
        )
        .fetchone()
    )


def _version_rows(env, vault: str, name: str) -> list[tuple[str, str]]:
    return (
        _db(env)
        .execute(
            "SELECT version, body FROM kv_key_versions WHERE vault=? AND name_key=? ORDER BY seq",
            (vault, name.lower()),
        )
        .fetchall()
    )


# --------------------------------------------------------------------------- reads


def get_key(env, key_id: str, *, include_deleted: bool = False) -> KeyInfo | None:
    """The key version ``key_id`` names (its latest version when the id has none), or None."""
    ref = parse_key_id(key_id)
    if ref is None:
        return None
    if ref.version is None:
        return latest_version(env, ref.vault_name, ref.name, include_deleted=include_deleted)
    return key_version(env, ref.vault_name, ref.name, ref.version, include_deleted=include_deleted)


def key_version(
    env, vault_name: str, key_name: str, version: str, *, include_deleted: bool = False
) -> KeyInfo | None:
    vault = vault_document(env, vault_name)
    row = _name_row(env, vault_name.lower(), key_name)
    if vault is None or row is None or (row[1] and not include_deleted):
        return None
    found = (
        _db(env)
        .execute(
            "SELECT body FROM kv_key_versions WHERE vault=? AND name_key=? AND version=?",
            (vault_name.lower(), key_name.lower(), version.lower()),
        )
        .fetchone()
    )
    return _info(env, vault, row[0], json.loads(found[0]), bool(row[1])) if found else None


def latest_version(env, vault_name: str, key_name: str, *, include_deleted: bool = False) -> KeyInfo | None:
    versions = list_versions(env, vault_name, key_name, include_deleted=include_deleted)
    return versions[-1] if versions else None


def list_versions(env, vault_name: str, key_name: str, *, include_deleted: bool = False) -> list[KeyInfo]:
    """All versions of a key, oldest first."""
    vault = vault_document(env, vault_name)
    row = _name_row(env, vault_name.lower(), key_name)
    if vault is None or row is None or (row[1] and not include_deleted):
        return []
    return [
        _info(env, vault, row[0], json.loads(body), bool(row[1]))
        for _, body in _version_rows(env, vault_name.lower(), key_name)
    ]


def list_keys(env, vault_name: str, *, deleted: bool = False) -> list[KeyInfo]:
    """The latest version of every key in a vault (or of every soft-deleted key), by name."""
    rows = (
        _db(env)
        .execute(
            "SELECT name FROM kv_key_names WHERE vault=? AND (deleted IS NOT NULL)=? ORDER BY name_key",
            (vault_name.lower(), 1 if deleted else 0),
        )
        .fetchall()
    )
    out = []
    for (name,) in rows:
        if deleted and deleted_state(env, vault_name, name) is None:
            continue
        info = latest_version(env, vault_name, name, include_deleted=deleted)
        if info is not None:
            out.append(info)
    return out


def deleted_state(env, vault_name: str, key_name: str) -> dict | None:
    row = _name_row(env, vault_name.lower(), key_name)
    state = json.loads(row[1]) if row and row[1] else None
    if state and env.clock.now().timestamp() >= state["scheduledPurgeDate"]:
        with env.store.transaction() as db:  # Key Vault purges it once retention has passed
            _remove(db, vault_name, key_name)
        env.log(
            None,
            "KeyPurge (retention elapsed)",
            f"https://{vault_name.lower()}.{VAULT_DOMAIN}/deletedkeys/{row[0]}",
        )
        return None
    return state


def private_key(env, info: KeyInfo) -> crypto.PrivateKey:
    row = (
        _db(env)
        .execute(
            "SELECT sealed FROM kv_key_versions WHERE vault=? AND name_key=? AND version=?",
            (info.vault_name, info.name.lower(), info.version),
        )
        .fetchone()
    )
    if row is None:
        raise key_not_found(info.name, info.version)
    der = master_sealer(env).open(bytes(row[0]), _seal_context(info.vault_name, info.name, info.version))
    return crypto.private_from_der(der)


# --------------------------------------------------------------------------- writes


def bad_parameter(message: str) -> KeyVaultError:
    return KeyVaultError(400, "BadParameter", message)


def validate_name(name: str) -> None:
    if not NAME_RE.match(name or ""):
        raise bad_parameter(f"The key name '{name}' is not valid: use 1-127 letters, digits and dashes.")


def _kty(value: str | None) -> crypto.KeyType:
    try:
        return crypto.KeyType(value)
    except ValueError:
        raise bad_parameter(
            f"The key type '{value}' is not supported; use RSA, RSA-HSM, EC or EC-HSM."
        ) from None


def _key_ops(kty: crypto.KeyType, ops) -> list[str]:
    if ops is None:
        return list(RSA_DEFAULT_OPS if kty.is_rsa else EC_DEFAULT_OPS)
    if not isinstance(ops, list):
        raise bad_parameter("key_ops must be a list of operation names.")
    canonical = {o.lower(): o for o in ALL_KEY_OPS}
    out = []
    for op in ops:
        if not isinstance(op, str) or op.lower() not in canonical:
            raise bad_parameter(f"The key operation '{op}' is not valid; use {', '.join(ALL_KEY_OPS)}.")
        if not kty.is_rsa and canonical[op.lower()] not in EC_DEFAULT_OPS:
            raise bad_parameter(f"The key operation '{op}' is not supported for {kty.value} keys.")
        out.append(canonical[op.lower()])
    return out


def check_tags(tags) -> None:
    if tags is None:
        return
    if not isinstance(tags, dict) or len(tags) > 15 or not all(isinstance(v, str) for v in tags.values()):
        raise bad_parameter("Tags must be an object of at most 15 string values.")


def create_key(
    env,
    vault_name: str,
    name: str,
    *,
    kty: str,
    size: int | None = None,
    curve: str | None = None,
    key_ops=None,
    enabled: bool = True,
    not_before: datetime | None = None,
    expires: datetime | None = None,
    tags: dict | None = None,
    public_exponent: int | None = None,
    principal_id: str | None = None,
    created_at: datetime | None = None,
    exportable: bool = False,
    release_policy: dict | None = None,
) -> KeyInfo:
    """A new key, or a new version of an existing one (Key Vault's create semantics)."""
    validate_name(name)
    kind = _kty(kty)
    vault = vault_document(env, vault_name)
    if vault is None:
        raise KeyVaultError(404, "VaultNotFound", f"The key vault '{vault_name}' does not exist.")
    if deleted_state(env, vault_name, name):
        raise KeyVaultError(
            409,
            "Conflict",
            f"Key {name} is currently in a deleted but recoverable state, and its name cannot be "
            f"reused; in this state, the key can only be recovered or purged.",
        )
    if public_exponent not in (None, 3, 65537) or not (size is None or type(size) is int):
        raise bad_parameter("key_size must be 2048, 3072 or 4096 and public_exponent 65537 (or 3).")
    if key_ops is not None and not isinstance(key_ops, list):
        raise bad_parameter("key_ops must be a list of operation names.")
    if curve is not None and not isinstance(curve, str):
        raise bad_parameter("crv must be a curve name such as P-256.")
    try:
        key = crypto.generate_key(kind, size=size, curve=curve, public_exponent=public_exponent or 65537)
    except crypto.CryptoError as exc:
        raise bad_parameter(str(exc)) from None
    ops = _key_ops(kind, key_ops)
    check_tags(tags)
    policy = release_policy_of(kind.value, exportable, release_policy)
    version = env.new_guid().replace("-", "")
    now = int((created_at or env.clock.now()).timestamp())
    body = {
        "version": version,
        "kty": kind.value,
        "key_ops": ops,
        "tags": tags or {},
        "size": crypto.key_size(key) if kind.is_rsa else None,
        "crv": crypto.curve_of(key),
        "jwk": crypto.public_jwk(key),
        "attributes": {
            "enabled": bool(enabled),
            "nbf": _ts(not_before),
            "exp": _ts(expires),
            "created": now,
            "updated": now,
            "exportable": bool(exportable),
        },
    }
    if policy is not None:
        body["release_policy"] = policy
    sealed = master_sealer(env).seal(
        crypto.private_to_der(key), _seal_context(vault_name.lower(), name, version)
    )
    with env.store.transaction() as db:
        ensure_tables(env)
        db.execute(
            "INSERT INTO kv_key_names(vault, name_key, name) VALUES (?,?,?) "
            "ON CONFLICT(vault, name_key) DO NOTHING",
            (vault_name.lower(), name.lower(), name),
        )
        seq = db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM kv_key_versions WHERE vault=? AND name_key=?",
            (vault_name.lower(), name.lower()),
        ).fetchone()[0]
        db.execute(
            "INSERT INTO kv_key_versions(vault, name_key, version, seq, body, sealed) VALUES (?,?,?,?,?,?)",
            (vault_name.lower(), name.lower(), version, seq, json.dumps(body), sealed),
        )
    info = _existing(key_version(env, vault_name, name, version), name)
    env.log(principal_id, "KeyCreate", info.versioned_id)
    return info


RELEASE_POLICY_CONTENT_TYPE = "application/json; charset=utf-8"  # KeyReleasePolicy.contentType's default


def release_policy_of(kty: str, exportable: bool, policy: Any) -> dict | None:
    """The release policy a create stores: Key Vault data plane 7.3+ KeyReleasePolicy {contentType,
    immutable, data (base64url)}, on ``attributes.exportable`` keys only. Release needs an
    HSM-backed key (azurerm refuses other key types before it calls: key_vault_key_resource.go);
    the codes and wording below are invented, none was found."""
    if policy is None:
        if exportable:
            raise bad_parameter("An exportable key needs a release_policy.")
        return None
    if not isinstance(policy, dict) or not isinstance(policy.get("data"), str):
        raise bad_parameter("release_policy must be an object with base64url 'data'.")
    if not exportable:
        raise bad_parameter("A release_policy can only be set on an exportable key (attributes.exportable).")
    if not kty.endswith("-HSM"):
        raise bad_parameter(f"Only HSM-backed keys can be exportable; '{kty}' is not.")
    return {
        "contentType": policy.get("contentType") or RELEASE_POLICY_CONTENT_TYPE,
        "immutable": bool(policy.get("immutable", False)),
        "data": policy["data"],
    }


def update_version(
    env,
    info: KeyInfo,
    *,
    enabled: bool | None = None,
    not_before=...,
    expires=...,
    key_ops=None,
    tags=None,
    principal_id: str | None = None,
    operation: str = "KeyUpdate",
) -> KeyInfo:
    """Change a version's attributes; ``...`` leaves a date as it is, None clears it."""
    with env.store.transaction() as db:
        row = db.execute(
            "SELECT body FROM kv_key_versions WHERE vault=? AND name_key=? AND version=?",
            (info.vault_name, info.name.lower(), info.version),
        ).fetchone()
        if row is None:
            raise key_not_found(info.name, info.version)
        body = json.loads(row[0])
        attrs = body["attributes"]
        if enabled is not None:
            attrs["enabled"] = bool(enabled)
        if not_before is not ...:
            attrs["nbf"] = _ts(not_before)
        if expires is not ...:
            attrs["exp"] = _ts(expires)
        if key_ops is not None:
            body["key_ops"] = _key_ops(_kty(body["kty"]), key_ops)
        if tags is not None:
            check_tags(tags)
            body["tags"] = dict(tags)
        attrs["updated"] = int(env.clock.now().timestamp())
        db.execute(
            "UPDATE kv_key_versions SET body=? WHERE vault=? AND name_key=? AND version=?",
            (json.dumps(body), info.vault_name, info.name.lower(), info.version),
        )
    env.log(principal_id, operation, info.versioned_id)
    return _existing(
        key_version(env, info.vault_name, info.name, info.version, include_deleted=True), info.name
    )


def delete_key(
    env, vault_name: str, name: str, *, principal_id: str | None = None
) -> tuple[KeyInfo, dict | None]:
    """Soft-delete a key (all its versions) or, when the vault has no soft delete, remove it."""
    latest = latest_version(env, vault_name, name)
    if latest is None:
        raise key_not_found(name)
    vault = _existing_vault(env, vault_name, name)
    props = vault.get("properties", {})
    now = env.clock.now()
    state = None
    with env.store.transaction() as db:
        if props.get("enableSoftDelete", True) is False:
            _remove(db, vault_name, name)
        else:
            days = int(props.get("softDeleteRetentionInDays") or 90)
            state = {
                "deletedDate": int(now.timestamp()),
                "scheduledPurgeDate": int((now + timedelta(days=days)).timestamp()),
            }
            db.execute(
                "UPDATE kv_key_names SET deleted=? WHERE vault=? AND name_key=?",
                (json.dumps(state), vault_name.lower(), name.lower()),
            )
    env.log(principal_id, "KeyDelete", latest.versionless_id)
    return latest, state


def _remove(db, vault_name: str, name: str) -> None:
    db.execute("DELETE FROM kv_key_versions WHERE vault=? AND name_key=?", (vault_name.lower(), name.lower()))
    db.execute("DELETE FROM kv_key_names WHERE vault=? AND name_key=?", (vault_name.lower(), name.lower()))


def recover_key(env, vault_name: str, name: str, *, principal_id: str | None = None) -> KeyInfo:
    if deleted_state(env, vault_name, name) is None:
        raise KeyVaultError(404, "KeyNotFound", f"Deleted Key not found: {name}")
    with env.store.transaction() as db:
        db.execute(
            "UPDATE kv_key_names SET deleted=NULL WHERE vault=? AND name_key=?",
            (vault_name.lower(), name.lower()),
        )
    info = _existing(latest_version(env, vault_name, name), name)
    env.log(principal_id, "KeyRecover", info.versionless_id)
    return info


def purge_key(env, vault_name: str, name: str, *, principal_id: str | None = None) -> None:
    if deleted_state(env, vault_name, name) is None:
        raise KeyVaultError(404, "KeyNotFound", f"Deleted Key not found: {name}")
    vault = _existing_vault(env, vault_name, name)
    if vault.get("properties", {}).get("enablePurgeProtection"):
        raise KeyVaultError(
            403,
            "Forbidden",
            f'Operation "purge" is not allowed because purge protection is enabled for this '
            f"vault. Key Vault will automatically purge '{name}' after its retention period.",
            inner="PurgeProtectionEnabled",
        )
    with env.store.transaction() as db:
        _remove(db, vault_name, name)
    env.log(principal_id, "KeyPurge", f"https://{vault_name.lower()}.{VAULT_DOMAIN}/deletedkeys/{name}")


def purge_vault_keys(env, vault_name: str) -> int:
    """Forget every key of a vault (the vault itself was purged). Returns the number of names removed."""
    with env.store.transaction() as db:
        ensure_tables(env)
        n = db.execute("DELETE FROM kv_key_names WHERE vault=?", (vault_name.lower(),)).rowcount
        db.execute("DELETE FROM kv_key_versions WHERE vault=?", (vault_name.lower(),))
    return n


purge_vault = purge_vault_keys


def stored_rotation_policy(env, vault_name: str, name: str) -> tuple[str, dict | None]:
    """(the key's name as created, its stored rotation policy or None); KeyNotFound for a missing or deleted key."""
    row = _name_row(env, vault_name.lower(), name)
    if row is None or row[1]:
        raise key_not_found(name)
    return row[0], (json.loads(row[2]) if row[2] else None)


def store_rotation_policy(env, vault_name: str, name: str, policy: dict) -> None:
    with env.store.transaction() as db:
        db.execute(
            "UPDATE kv_key_names SET rotation_policy=? WHERE vault=? AND name_key=?",
            (json.dumps(policy), vault_name.lower(), name.lower()),
        )


def key_names(env, vault_name: str) -> list[str]:
    rows = (
        _db(env)
        .execute(
            "SELECT name FROM kv_key_names WHERE vault=? AND deleted IS NULL ORDER BY name_key",
            (vault_name.lower(),),
        )
        .fetchall()
    )
    return [r[0] for r in rows]


# --------------------------------------------------------------------------- cryptography for identities


def _resolve(env, key_id: str) -> KeyInfo:
    ref = parse_key_id(key_id)
    if ref is None:
        raise bad_parameter(f"'{key_id}' is not a Key Vault key identifier.")
    if vault_document(env, ref.vault_name) is None:
        raise KeyVaultError(404, "VaultNotFound", f"The key vault '{ref.vault_name}' does not exist.")
    info = get_key(env, key_id)
    if info is None:
        raise key_not_found(ref.name, ref.version)
    return info


def wrap(
    env,
    principal_id: str | None,
    key_id: str,
    plaintext: bytes,
    *,
    alg: str = "RSA-OAEP-256",
    trusted_service: bool = False,
) -> tuple[str, bytes]:
    """Wrap ``plaintext`` with the key (its latest version when ``key_id`` has none) as ``principal_id``."""
    info = _resolve(env, key_id)
    authorize(
        env,
        principal_id,
        _existing_vault(env, info.vault_name, info.name),
        "wrapKey",
        key_name=info.name,
        trusted_service=trusted_service,
    )
    check_usable(env, info, "wrapKey")
    try:
        wrapped = crypto.rsa_encrypt(private_key(env, info), crypto.wrap_algorithm(alg), plaintext)
    except crypto.CryptoError as exc:
        raise bad_parameter(str(exc)) from None
    return info.versioned_id, wrapped


def unwrap(
    env,
    principal_id: str,
    versioned_key_id: str,
    wrapped: bytes,
    *,
    alg: str = "RSA-OAEP-256",
    trusted_service: bool = False,
) -> bytes:
    info = _resolve(env, versioned_key_id)
    authorize(
        env,
        principal_id,
        _existing_vault(env, info.vault_name, info.name),
        "unwrapKey",
        key_name=info.name,
        trusted_service=trusted_service,
    )
    check_usable(env, info, "unwrapKey")
    try:
        return crypto.rsa_decrypt(private_key(env, info), crypto.wrap_algorithm(alg), wrapped)
    except crypto.CryptoError as exc:
        raise bad_parameter(str(exc)) from None
    except crypto.IntegrityError:
        raise KeyVaultError(
            400,
            "BadParameter",
            "The wrapped value could not be unwrapped with this key version "
            "(it was altered or wrapped by another key).",
        ) from None


__all__ = [
    "KeyInfo",
    "KeyRef",
    "master_sealer",
    "parse_key_id",
    "get_key",
    "key_version",
    "latest_version",
    "list_versions",
    "list_keys",
    "deleted_state",
    "private_key",
    "create_key",
    "update_version",
    "delete_key",
    "recover_key",
    "purge_key",
    "purge_vault_keys",
    "purge_vault",
    "stored_rotation_policy",
    "store_rotation_policy",
    "key_names",
    "wrap",
    "unwrap",
    "bad_parameter",
]

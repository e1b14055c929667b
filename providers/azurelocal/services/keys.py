"""Key Vault data plane for keys: the REST surface azure-keyvault-keys (KeyClient, CryptographyClient) uses.

Every request first passes the challenge handshake (no token -> 401 with the Bearer challenge),
then the vault's firewall and access model (access policies or RBAC, through ``kvrules.authorize``),
then the key's state rules. Bodies follow Key Vault's JSON: key bundles with a JWK under ``key``,
Unix-second attributes, ``recoveryLevel``; errors with an ``innererror`` code.
"""

from __future__ import annotations

from datetime import UTC, datetime

from providers.azurelocal import crypto, keyrotation, keystore
from providers.azurelocal.http import AzureError, Request, Response
from providers.azurelocal.kvrules import (
    LOCAL_CLIENT_ADDRESS,
    KeyVaultError,
    authorize,
    check_usable,
    key_not_found,
    requested_vault,
)
from providers.azurelocal.router import VAULT, Router
from providers.azurelocal.services import _arm

CLIENT_ADDRESS_HEADER = "x-vaultform-client-address"
_CRYPTO_OPS = {
    "wrapkey": "wrapKey",
    "unwrapkey": "unwrapKey",
    "encrypt": "encrypt",
    "decrypt": "decrypt",
    "sign": "sign",
    "verify": "verify",
}
_AUDIT_NAMES = {
    "wrapKey": "KeyWrap",
    "unwrapKey": "KeyUnwrap",
    "encrypt": "KeyEncrypt",
    "decrypt": "KeyDecrypt",
    "sign": "KeySign",
    "verify": "KeyVerify",
}


# --------------------------------------------------------------------------- rendering


def recovery_level(vault: dict) -> tuple[str, int | None]:
    props = vault.get("properties") or {}
    if props.get("enableSoftDelete", True) is False:
        return "Purgeable", None
    days = int(props.get("softDeleteRetentionInDays") or 90)
    level = "Recoverable" if props.get("enablePurgeProtection") else "Recoverable+Purgeable"
    return ("CustomizedRecoverable" + level[len("Recoverable") :] if days < 90 else level), days


def _attributes(info: keystore.KeyInfo, vault: dict) -> dict:
    level, days = recovery_level(vault)
    attrs = {
        "enabled": info.enabled,
        "created": int(info.created.timestamp()),
        "updated": int(info.updated.timestamp()),
        "recoveryLevel": level,
        "exportable": info.exportable,
    }
    if days is not None:
        attrs["recoverableDays"] = days
    if info.not_before is not None:
        attrs["nbf"] = int(info.not_before.timestamp())
    if info.expires is not None:
        attrs["exp"] = int(info.expires.timestamp())
    return attrs


def key_bundle(info: keystore.KeyInfo, vault: dict) -> dict:
    jwk = {"kid": info.versioned_id, "kty": info.kty, "key_ops": list(info.key_ops), **info.jwk}
    body = {"key": jwk, "attributes": _attributes(info, vault)}
    if info.tags:
        body["tags"] = dict(info.tags)
    if info.release_policy is not None:
        body["release_policy"] = dict(info.release_policy)  # KeyBundle.release_policy (7.3+)
    return body


def key_item(info: keystore.KeyInfo, vault: dict, versioned: bool = False) -> dict:
    item = {
        "kid": info.versioned_id if versioned else info.versionless_id,
        "attributes": _attributes(info, vault),
    }
    if info.tags:
        item["tags"] = dict(info.tags)
    return item


def _deleted_fields(info: keystore.KeyInfo, state: dict | None) -> dict:
    if not state:
        return {}
    return {
        "recoveryId": f"{info.vault_url}/deletedkeys/{info.name}",
        "deletedDate": state["deletedDate"],
        "scheduledPurgeDate": state["scheduledPurgeDate"],
    }


def _ok(body, status: int = 200) -> Response:
    return Response(status, body, {"content-type": "application/json; charset=utf-8"})


# --------------------------------------------------------------------------- request parsing


def _body(request: Request) -> dict:
    data = request.json()
    if not isinstance(data, dict):
        raise KeyVaultError(400, "BadParameter", "The request body must be a JSON object.")
    return data


def _attributes_of(body: dict) -> dict:
    attrs = body.get("attributes")
    if attrs is None:
        return {}
    if not isinstance(attrs, dict):
        raise KeyVaultError(400, "BadParameter", "Property 'attributes' must be an object.")
    if "enabled" in attrs and attrs["enabled"] is not None and not isinstance(attrs["enabled"], bool):
        raise KeyVaultError(400, "BadParameter", "Attribute 'enabled' must be true or false.")
    return attrs


def _time(value, field: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise KeyVaultError(400, "BadParameter", f"Attribute '{field}' must be a Unix time in seconds.")
    return datetime.fromtimestamp(int(value), tz=UTC)


def _b64(body: dict, field: str) -> bytes:
    value = body.get(field)
    if not isinstance(value, str):
        raise KeyVaultError(400, "BadParameter", f"Property '{field}' is required (base64url).")
    try:
        return crypto.b64url_decode(value)
    except crypto.CryptoError as exc:
        raise KeyVaultError(400, "BadParameter", f"Property '{field}': {exc}") from None


# --------------------------------------------------------------------------- the service


class KeysService:
    def __init__(self, env) -> None:
        self.env = env

    # ---- access

    def _vault(self, request: Request) -> dict:
        return requested_vault(self.env, request)

    def _caller(self, request: Request, vault: dict, permission: str) -> str:
        record = self.env.require_token(request)
        keyrotation.run_due_rotations(self.env, vault["name"], request.params.get("name"))
        address = request.header(CLIENT_ADDRESS_HEADER) or LOCAL_CLIENT_ADDRESS
        try:
            authorize(
                self.env,
                record["object_id"],
                vault,
                permission,
                key_name=request.params.get("name"),
                client_address=address,
            )
        except AzureError as exc:
            if request.method != "GET":
                self.env.log(
                    record["object_id"],
                    f"Key{permission[:1].upper()}{permission[1:]}",
                    f"https://{vault['name'].lower()}.vault.azure.net{request.path}",
                    "Failed",
                    exc.code,
                )
            raise
        return record["object_id"]

    def _existing(self, vault: dict, name: str, version: str | None = None) -> keystore.KeyInfo:
        vname = vault["name"]
        info = (
            keystore.key_version(self.env, vname, name, version)
            if version
            else keystore.latest_version(self.env, vname, name)
        )
        if info is None:
            raise key_not_found(name, version)
        return info

    # ---- keys

    def create(self, request: Request) -> Response:
        vault = self._vault(request)
        who = self._caller(request, vault, "create")
        body = _body(request)
        attrs = _attributes_of(body)
        if "kty" not in body:
            raise KeyVaultError(
                400, "BadParameter", "Property 'kty' is required: RSA, RSA-HSM, EC or EC-HSM."
            )
        info = keystore.create_key(
            self.env,
            vault["name"],
            request.params["name"],
            kty=body["kty"],
            size=body.get("key_size"),
            curve=body.get("crv"),
            key_ops=body.get("key_ops"),
            enabled=attrs.get("enabled") is not False,
            not_before=_time(attrs.get("nbf"), "nbf"),
            expires=_time(attrs.get("exp"), "exp"),
            tags=body.get("tags"),
            public_exponent=body.get("public_exponent"),
            principal_id=who,
            exportable=attrs.get("exportable") is True,
            release_policy=body.get("release_policy"),
        )
        return _ok(key_bundle(info, vault))

    def get(self, request: Request) -> Response:
        version = (request.params.get("version") or "").lower() or None
        if version == "versions":
            return self.versions(request)
        if version == "rotationpolicy":
            return self.get_policy(request)
        vault = self._vault(request)
        self._caller(request, vault, "get")
        return _ok(key_bundle(self._existing(vault, request.params["name"], version), vault))

    def list(self, request: Request) -> Response:
        vault = self._vault(request)
        self._caller(request, vault, "list")
        return _page([key_item(i, vault) for i in keystore.list_keys(self.env, vault["name"])], request)

    def versions(self, request: Request) -> Response:
        vault = self._vault(request)
        self._caller(request, vault, "list")
        infos = keystore.list_versions(self.env, vault["name"], request.params["name"])
        if not infos:
            raise key_not_found(request.params["name"])
        return _page([key_item(i, vault, versioned=True) for i in infos], request)

    def update(self, request: Request) -> Response:
        vault = self._vault(request)
        who = self._caller(request, vault, "update")
        info = self._existing(
            vault, request.params["name"], (request.params.get("version") or "").lower() or None
        )
        body = _body(request)
        attrs = _attributes_of(body)
        info = keystore.update_version(
            self.env,
            info,
            enabled=attrs.get("enabled"),
            not_before=_time(attrs["nbf"], "nbf") if "nbf" in attrs else ...,
            expires=_time(attrs["exp"], "exp") if "exp" in attrs else ...,
            key_ops=body.get("key_ops"),
            tags=body.get("tags"),
            principal_id=who,
        )
        return _ok(key_bundle(info, vault))

    def delete(self, request: Request) -> Response:
        vault = self._vault(request)
        who = self._caller(request, vault, "delete")
        info, state = keystore.delete_key(self.env, vault["name"], request.params["name"], principal_id=who)
        return _ok({**key_bundle(info, vault), **_deleted_fields(info, state)})

    def rotate(self, request: Request) -> Response:
        vault = self._vault(request)
        who = self._caller(request, vault, "rotate")
        return _ok(
            key_bundle(
                keyrotation.rotate_key(self.env, vault["name"], request.params["name"], principal_id=who),
                vault,
            )
        )

    def get_policy(self, request: Request) -> Response:
        vault = self._vault(request)
        self._caller(request, vault, "getrotationpolicy")
        return _ok(keyrotation.rotation_policy(self.env, vault["name"], request.params["name"]))

    def put_policy(self, request: Request) -> Response:
        vault = self._vault(request)
        who = self._caller(request, vault, "setrotationpolicy")
        return _ok(
            keyrotation.set_rotation_policy(
                self.env, vault["name"], request.params["name"], _body(request), principal_id=who
            )
        )

    # ---- deleted keys

    def _deleted(self, vault: dict, name: str) -> tuple[keystore.KeyInfo, dict]:
        state = keystore.deleted_state(self.env, vault["name"], name)
        info = keystore.latest_version(self.env, vault["name"], name, include_deleted=True) if state else None
        if info is None or state is None:
            raise KeyVaultError(404, "KeyNotFound", f"Deleted Key not found: {name}")
        return info, state

    def get_deleted(self, request: Request) -> Response:
        vault = self._vault(request)
        self._caller(request, vault, "get")
        info, state = self._deleted(vault, request.params["name"])
        return _ok({**key_bundle(info, vault), **_deleted_fields(info, state)})

    def list_deleted(self, request: Request) -> Response:
        vault = self._vault(request)
        self._caller(request, vault, "list")
        items = []
        for info in keystore.list_keys(self.env, vault["name"], deleted=True):
            state = keystore.deleted_state(self.env, vault["name"], info.name)
            items.append({**key_item(info, vault), **_deleted_fields(info, state)})
        return _ok({"value": items, "nextLink": None})

    def recover(self, request: Request) -> Response:
        vault = self._vault(request)
        who = self._caller(request, vault, "recover")
        info = keystore.recover_key(self.env, vault["name"], request.params["name"], principal_id=who)
        return _ok(key_bundle(info, vault))

    def purge(self, request: Request) -> Response:
        vault = self._vault(request)
        who = self._caller(request, vault, "purge")
        keystore.purge_key(self.env, vault["name"], request.params["name"], principal_id=who)
        return Response(204)

    # ---- cryptography

    def operate(self, request: Request) -> Response:
        op = _CRYPTO_OPS.get((request.params.get("op") or "").lower())
        if op is None:
            raise KeyVaultError(400, "BadParameter", f"Unknown key operation '{request.params.get('op')}'.")
        vault = self._vault(request)
        who = self._caller(request, vault, op)
        version = (request.params.get("version") or "").lower() or None
        info = self._existing(vault, request.params["name"], version)
        body = _body(request)
        alg = body.get("alg")
        if not isinstance(alg, str):
            raise KeyVaultError(400, "BadParameter", "Property 'alg' is required.")
        check_usable(self.env, info, op)
        key = keystore.private_key(self.env, info)
        try:
            result = self._compute(op, key, alg, body)
        except crypto.CryptoError as exc:
            raise KeyVaultError(400, "BadParameter", str(exc)) from None
        except crypto.IntegrityError:
            raise KeyVaultError(
                400,
                "BadParameter",
                f"The value could not be processed by {op}: it was not produced by this key "
                f"version with {alg}, or it was altered.",
            ) from None
        if op in ("wrapKey", "unwrapKey", "encrypt", "decrypt", "sign"):
            self.env.log(who, _AUDIT_NAMES[op], info.versioned_id)
        if op == "verify":
            return _ok({"value": result})
        return _ok({"kid": info.versioned_id, "value": crypto.b64url_encode(result)})

    @staticmethod
    def _compute(op: str, key, alg: str, body: dict):
        if op in ("wrapKey", "encrypt"):
            return crypto.rsa_encrypt(key, crypto.wrap_algorithm(alg), _b64(body, "value"))
        if op in ("unwrapKey", "decrypt"):
            return crypto.rsa_decrypt(key, crypto.wrap_algorithm(alg), _b64(body, "value"))
        if op == "sign":
            return crypto.sign_digest(key, alg, _b64(body, "value"))
        return crypto.verify_digest(key, alg, _b64(body, "digest"), _b64(body, "value"))


# Key Vault's lists answer "up to 25 results" a page unless ``maxresults`` (at most 25) says fewer,
# with a ``nextLink`` to the next page (Key Vault REST reference, Get Keys / Get Key Versions:
# learn.microsoft.com/rest/api/keyvault/keys/get-keys). The token in it is opaque.
KEY_PAGE_SIZE = 25


def _page(items: list[dict], request: Request) -> Response:
    asked = request.query.get("maxresults") or ""
    size = min(KEY_PAGE_SIZE, int(asked)) if asked.isdigit() and int(asked) > 0 else KEY_PAGE_SIZE
    page, next_link = _arm.paged(items, request, size)
    return _ok({"value": page, "nextLink": next_link})


def register(router: Router, env) -> None:
    keystore.ensure_tables(env)
    svc = KeysService(env)
    add = router.add
    add(VAULT, "GET", "/keys", svc.list)
    add(VAULT, "POST", "/keys/{name}/create", svc.create)
    add(VAULT, "GET", "/keys/{name}", svc.get)
    add(VAULT, "GET", "/keys/{name}/{version}", svc.get)
    add(VAULT, "GET", "/keys/{name}/versions", svc.versions)
    add(VAULT, "PATCH", "/keys/{name}", svc.update)
    add(VAULT, "PATCH", "/keys/{name}/{version}", svc.update)
    add(VAULT, "DELETE", "/keys/{name}", svc.delete)
    add(VAULT, "POST", "/keys/{name}/rotate", svc.rotate)
    add(VAULT, "GET", "/keys/{name}/rotationpolicy", svc.get_policy)
    add(VAULT, "PUT", "/keys/{name}/rotationpolicy", svc.put_policy)
    add(VAULT, "POST", "/keys/{name}/{version}/{op}", svc.operate)
    add(VAULT, "GET", "/deletedkeys", svc.list_deleted)
    add(VAULT, "GET", "/deletedkeys/{name}", svc.get_deleted)
    add(VAULT, "DELETE", "/deletedkeys/{name}", svc.purge)
    add(VAULT, "POST", "/deletedkeys/{name}/recover", svc.recover)

"""azurerm_key_vault_key <-> a key in a vault's data plane (azure-keyvault-keys).

``id`` is the versioned key id; a refresh reads the newest version (as azurerm
does), so a rotation out of band shows as a change of ``id``/``version``. Delete
is Key Vault's soft delete, then a purge as ``features.key_vault.
purge_soft_deleted_keys_on_destroy`` says (azurerm's default: true; never under purge
protection; the plan refuses to destroy a key recovery points still depend on, R11),
and a create that meets a soft-deleted key of the same name recovers it (azurerm's
default).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from azure.keyvault.keys import (
    KeyReleasePolicy,
    KeyRotationLifetimeAction,
    KeyRotationPolicy,
    KeyRotationPolicyAction,
)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from providers.azurerm.grant_arrival import caller_granted, refused_for_want_of_grant, waiting_message
from providers.azurerm.ids import parse_key_id, parse_resource_id
from providers.azurerm.resources.base import (
    Context,
    DataSource,
    Handler,
    block,
    call,
    canon,
    canon_list,
    dig,
    known,
    not_found_is_none,
    tags_of,
    value,
    wire,
)
from providers.azurerm.resources.key_vault import find_vault_by_uri
from providers.base import PermanentError, RetryableError
from providers.roles import KEYS_READ

KEY_TYPES = ("RSA", "RSA-HSM", "EC", "EC-HSM")
RSA_TYPES = ("RSA", "RSA-HSM")
RSA_SIZES = (2048, 3072, 4096)
CURVES = ("P-256", "P-256K", "P-384", "P-521")
KEY_OPS = ("decrypt", "encrypt", "sign", "unwrapKey", "verify", "wrapKey")


def _b64url(data: bytes | None) -> str | None:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode() if data else None


def _time(v: datetime | None) -> str | None:
    if v is None:
        return None
    return v.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: Any, attr: str) -> datetime | None:
    if not known(text) or text == "":
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise PermanentError(
            f"{attr} = {text!r} is not an RFC 3339 time (like 2030-01-31T00:00:00Z)", code="InvalidArgument"
        ) from None


def _public_key(kty: str, jwk) -> dict[str, Any]:
    out: dict[str, Any] = {
        "n": None,
        "e": None,
        "x": None,
        "y": None,
        "public_key_pem": None,
        "public_key_openssh": None,
    }
    if kty.startswith("RSA") and jwk.n and jwk.e:
        out["n"], out["e"] = _b64url(jwk.n), _b64url(jwk.e)
        public: rsa.RSAPublicKey | ec.EllipticCurvePublicKey = rsa.RSAPublicNumbers(
            int.from_bytes(jwk.e, "big"), int.from_bytes(jwk.n, "big")
        ).public_key()
    elif kty.startswith("EC") and jwk.x and jwk.y:
        out["x"], out["y"] = _b64url(jwk.x), _b64url(jwk.y)
        curve = {
            "P-256": ec.SECP256R1(),
            "P-256K": ec.SECP256K1(),
            "P-384": ec.SECP384R1(),
            "P-521": ec.SECP521R1(),
        }[str(jwk.crv)]
        public = ec.EllipticCurvePublicNumbers(
            int.from_bytes(jwk.x, "big"), int.from_bytes(jwk.y, "big"), curve
        ).public_key()
    else:
        return out
    out["public_key_pem"] = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    try:
        out["public_key_openssh"] = public.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ).decode()
    except ValueError:  # OpenSSH has no encoding for some curves (P-256K)
        out["public_key_openssh"] = ""
    return out


def _enum(v: Any) -> str:
    return getattr(v, "value", v) if v is not None else ""


def _same_instant(a: Any, b: Any) -> bool:
    try:
        return parse_time(a, "") == parse_time(b, "")
    except PermanentError:
        return False


def to_state(
    key, key_vault_id: str, *, rotation_policy: Any = None, ref: dict[str, Any] | None = None
) -> dict[str, Any]:
    kid = parse_key_id(key.id)
    props = key.properties
    kty = canon(_enum(key.key_type), KEY_TYPES)
    jwk = key.key
    size = len(jwk.n) * 8 if kty in RSA_TYPES and jwk.n else None
    vault = str(parse_resource_id(key_vault_id, expect="Microsoft.KeyVault/vaults"))
    state = {
        "id": kid.versioned_id,
        "name": kid.name,
        "key_vault_id": key_vault_id,
        "key_type": kty,
        "key_size": size,
        "curve": str(_enum(jwk.crv)) if jwk.crv else None,
        "key_opts": canon_list([_enum(o) for o in key.key_operations or []], KEY_OPS),
        "not_before_date": _time(props.not_before),
        "expiration_date": _time(props.expires_on),
        "tags": dict(props.tags or {}),
        "version": kid.version,
        "versionless_id": kid.versionless_id,
        "resource_id": f"{vault}/keys/{kid.name}/versions/{kid.version}",
        "resource_versionless_id": f"{vault}/keys/{kid.name}",
        "rotation_policy": rotation_policy,
        "release_policy": _release_policy(props, (ref or {}).get("release_policy")),
        "enabled": props.enabled is not False,
    }
    state.update(_public_key(kty, jwk))
    for attr in ("not_before_date", "expiration_date"):
        # the configuration's spelling of the same instant (+00:00 or Z, fractions)
        mine = (ref or {}).get(attr)
        if isinstance(mine, str) and state[attr] and _same_instant(mine, state[attr]):
            state[attr] = mine
    return state


# --------------------------------------------------------------------------- release policy


def _same_json(a: Any, b: Any) -> bool:
    try:
        return bool(json.loads(a) == json.loads(b))
    except (TypeError, ValueError):
        return False


def _release_policy(props, shape_like: Any) -> Any:
    """``release_policy`` as azurerm reads it: the policy's data as JSON text and immutable; the
    configuration's spelling is kept when it says the same (azurerm suppresses JSON diffs)."""
    policy = getattr(props, "release_policy", None)
    if policy is None or policy.encoded_policy is None:
        return None
    raw = policy.encoded_policy
    text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
    mine = block({"r": shape_like}, "r") if shape_like else None
    if mine and isinstance(mine.get("json"), str) and _same_json(mine["json"], text):
        text = mine["json"]
    got = {"json": text, "immutable": bool(policy.immutable)}
    return got if isinstance(shape_like, dict) else [got]


def _release_policy_to_sdk(rp: dict[str, Any]) -> KeyReleasePolicy:
    return KeyReleasePolicy(str(rp["json"]).encode("utf-8"), immutable=bool(value(rp, "immutable", False)))


# --------------------------------------------------------------------------- rotation policy


def _policy_to_sdk(rp: dict[str, Any]):
    actions = []
    auto = block(rp, "automatic")
    if auto:
        actions.append(
            KeyRotationLifetimeAction(
                KeyRotationPolicyAction.rotate,
                time_after_create=value(auto, "time_after_creation") or None,
                time_before_expiry=value(auto, "time_before_expiry") or None,
            )
        )
    if value(rp, "notify_before_expiry"):
        actions.append(
            KeyRotationLifetimeAction(
                KeyRotationPolicyAction.notify, time_before_expiry=rp["notify_before_expiry"]
            )
        )
    return KeyRotationPolicy(expires_in=value(rp, "expire_after") or None, lifetime_actions=actions)


def _policy_from_sdk(policy, shape_like: Any) -> Any:
    if policy is None:
        return None
    out: dict[str, Any] = {"expire_after": policy.expires_in, "notify_before_expiry": None, "automatic": None}
    for action in policy.lifetime_actions or []:
        kind = str(_enum(action.action)).lower()
        if kind == "rotate":
            auto = {
                "time_after_creation": action.time_after_create,
                "time_before_expiry": action.time_before_expiry,
            }
            out["automatic"] = [auto] if isinstance(shape_like, list) and _nested_list(shape_like) else auto
        elif kind == "notify":
            out["notify_before_expiry"] = action.time_before_expiry
    if not out["expire_after"] and not out["automatic"]:
        # Key Vault gives every key a default policy (notify 30 days before expiry, no
        # expiry, no rotation); that is "no rotation policy" in configuration terms.
        return None
    return [out] if isinstance(shape_like, list) else out


def _nested_list(shape_like: list) -> bool:
    return (
        bool(shape_like)
        and isinstance(shape_like[0], dict)
        and isinstance(shape_like[0].get("automatic"), list)
    )


class KeyVaultKey(Handler):
    type_name = "azurerm_key_vault_key"
    refreshed = (
        "id",
        "version",
        "key_opts",
        "expiration_date",
        "not_before_date",
        "tags",
        "rotation_policy",
        "release_policy",
        "n",
        "e",
        "public_key_pem",
    )
    updatable = ("key_opts", "expiration_date", "not_before_date", "tags", "rotation_policy")
    private = ("enabled", "_rotated_from")

    @staticmethod
    def _client(ctx: Context, key_vault_id: str):
        """The data-plane client of the key vault (its URI comes from ARM)."""
        rid = parse_resource_id(key_vault_id, expect="Microsoft.KeyVault/vaults")
        vault = call(lambda: ctx.clients.keyvault_mgmt().vaults.get(rid.resource_group, rid.name))
        return ctx.clients.keys(dig(wire(vault), "properties.vaultUri"))

    def create(self, ctx: Context, planned: dict[str, Any]) -> dict[str, Any]:
        client = self._client(ctx, planned["key_vault_id"])
        kty = canon(planned["key_type"], KEY_TYPES)
        kwargs: dict[str, Any] = {
            "key_operations": list(value(planned, "key_opts", []) or []),
            "tags": tags_of(planned),
            "expires_on": parse_time(planned.get("expiration_date"), "expiration_date"),
            "not_before": parse_time(planned.get("not_before_date"), "not_before_date"),
        }
        if kty in RSA_TYPES:
            kwargs["size"] = value(planned, "key_size")
        else:
            kwargs["curve"] = value(planned, "curve")
        release = block(planned, "release_policy")
        if release:
            # azurerm marks the key exportable whenever it has a release policy (Key Vault requires it)
            kwargs["exportable"] = True
            kwargs["release_policy"] = _release_policy_to_sdk(release)
        came_back = self._came_back(ctx, client, planned, kty)
        try:
            key = came_back or call(lambda: client.create_key(planned["name"], kty, **kwargs))
        except PermanentError as exc:
            if refused_for_want_of_grant(exc) and caller_granted(
                ctx.clients, planned["key_vault_id"], KEYS_CREATE, "create"
            ):
                raise _grant_not_live(planned["key_vault_id"], planned["name"], "creating", exc) from exc
            key = self._recover(ctx, client, planned["name"], exc, kwargs, planned["key_vault_id"])
        policy = None
        rp = block(planned, "rotation_policy")
        if rp:
            policy = _policy_from_sdk(
                call(lambda: client.update_key_rotation_policy(planned["name"], _policy_to_sdk(rp))),
                planned.get("rotation_policy"),
            )
        return to_state(key, planned["key_vault_id"], rotation_policy=policy, ref=planned)

    @classmethod
    def _came_back(cls, ctx: Context, client, planned: dict[str, Any], kty: str):
        """The key, when its key vault was recovered from soft delete in this run and the key came
        back with it (Microsoft Learn, "Azure Key Vault soft-delete overview": a deleted key vault is held
        with its objects for the retention period, and recovering it undoes the deletion; the plan
        says so,
        ``soft_delete.plan_notes``); its key_opts, tags and dates
        are set to the configuration. Creating it instead would add a version to it, and the
        create that used to run failed as "already exists" with an import the state refused. A key
        of another type under the name is not this configuration's: refused as any taken name."""
        vault_id = str(planned["key_vault_id"])
        if vault_id.lower() not in ctx.recovered_key_vaults:
            return None
        name = planned["name"]
        found = not_found_is_none(lambda: client.get_key(name))
        if found is None:
            return None
        if canon(_enum(found.key_type), KEY_TYPES) != kty:
            raise PermanentError(
                f"The key vault came back from soft delete holding a key named {name} of type "
                f"{_enum(found.key_type)}, not {kty}: import it (vaultform import with its id "
                f"{found.id}) or give this key another name.",
                code="ResourceAlreadyExists",
            )
        ctx.waiter.report(f"the key {name} came back with its recovered key vault; taking it as it is")
        wanted = {
            "key_operations": list(value(planned, "key_opts", []) or []),
            "tags": tags_of(planned),
            "expires_on": parse_time(planned.get("expiration_date"), "expiration_date"),
            "not_before": parse_time(planned.get("not_before_date"), "not_before_date"),
        }
        return cls._as_wanted(ctx, client, name, found, wanted)

    @staticmethod
    def _as_wanted(ctx: Context, client, name: str, key, wanted: dict[str, Any], how: str = "took the key"):
        """``key`` with its key_opts, tags and dates set to ``wanted`` when they differ; kept as it is
        when Key Vault refuses the update for want of a permission (the next plan shows it)."""
        if not _differs(key, wanted):
            return key
        try:
            call(
                lambda: client.update_key_properties(
                    name,
                    key_operations=wanted["key_operations"],
                    tags=wanted["tags"],
                    expires_on=wanted["expires_on"],
                    not_before=wanted["not_before"],
                )
            )
        except PermanentError as exc:
            if not refused_for_want_of_grant(exc):
                raise
            ctx.waiter.report(
                f"{how} {name} as it was: Key Vault refused setting its key_opts, tags and dates "
                f"to the configuration ({exc.code}); the next plan shows the difference"
            )
            return key
        return call(lambda: client.get_key(name))

    @classmethod
    def _recover(
        cls, ctx: Context, client, name: str, refused: PermanentError, wanted: dict[str, Any], vault_id: str
    ):
        """Azure refuses a name held by a soft-deleted key (409); azurerm recovers that key
        (``features.key_vault.recover_soft_deleted_keys``, on by default). Recovery needs the
        Recover key permission, not Create. azurerm leaves the recovered key as it was
        (key_vault_key_resource.go); vaultform also sets its key_opts, tags and dates to the
        configuration when they differ - and when Key Vault refuses that update (no Update
        permission), the recovered key is kept as it is, so it is in the state and the next plan
        shows the difference, rather than left in Azure out of the state."""
        if refused.status != 409 or not ctx.feature("key_vault", "recover_soft_deleted_keys", True):
            raise refused
        if not_found_is_none(lambda: client.get_deleted_key(name)) is None:
            raise refused
        ctx.waiter.report(
            f"recovering the soft-deleted key {name} (features.key_vault.recover_soft_deleted_keys)"
        )
        try:
            call(lambda: client.begin_recover_deleted_key(name).result())
        except PermanentError as exc:
            if not refused_for_want_of_grant(exc):
                raise
            if caller_granted(ctx.clients, vault_id, KEYS_RECOVER, "recover"):
                raise _grant_not_live(vault_id, name, "recovering", exc) from exc
            raise PermanentError(
                f"Recovering the soft-deleted key {name}, which holds the name in this key vault (azurerm "
                f"recovers it: features.key_vault.recover_soft_deleted_keys), needs the Recover key "
                f'permission, which the identity running vaultform doesn\'t have. Add "Recover" to its '
                f"key_permissions, or give the key another name. ({exc.message})",
                code=exc.code,
                status=exc.status,
            ) from exc
        recovered = call(lambda: client.get_key(name))
        return cls._as_wanted(ctx, client, name, recovered, wanted, "recovered the soft-deleted key")

    def read(self, ctx: Context, prior: dict[str, Any]) -> dict[str, Any] | None:
        kid = parse_key_id(prior["id"])
        vault_id = prior.get("key_vault_id") or self._vault_id_for(ctx, kid.vault_uri)
        if vault_id is None:
            return None
        client = ctx.clients.keys(kid.vault_uri)
        key = not_found_is_none(lambda: client.get_key(kid.name))
        if key is None:
            return None
        if ctx.listing is not None:
            ctx.listing.remember_key(key)
        out = to_state(key, vault_id, rotation_policy=self._read_policy(client, kid.name, prior), ref=prior)
        if out["id"].lower() != str(prior["id"]).lower():
            # a version made since the state was written (rotated out of band or by its policy): the
            # plan looks again at the versions its vaults may still need (``key_in_use``)
            out["_rotated_from"] = prior["id"]
        return out

    @staticmethod
    def _read_policy(client, name: str, prior: dict[str, Any]) -> Any:
        """The rotation policy; when the caller may not read it (no GetRotationPolicy
        permission) the recorded value stands, as nothing can be observed."""
        shape = prior.get("rotation_policy") if known(prior.get("rotation_policy")) else []
        try:
            got = not_found_is_none(lambda: client.get_key_rotation_policy(name))
        except PermanentError as exc:
            if exc.status == 403:
                return prior.get("rotation_policy")
            raise
        return _policy_from_sdk(got, shape if shape is not None else [])

    def import_(self, ctx: Context, id_: str) -> dict[str, Any] | None:
        kid = parse_key_id(id_)
        vault_id = self._vault_id_for(ctx, kid.vault_uri)
        if vault_id is None:
            return None
        try:
            return self.read(ctx, {"id": id_, "key_vault_id": vault_id})
        except PermanentError as exc:
            # a run stopped right after granting itself access looks for the key its create may have
            # made, and Key Vault refuses the read until that grant arrives: a wait, as for the create
            if refused_for_want_of_grant(exc) and caller_granted(ctx.clients, vault_id, KEYS_READ, "get"):
                raise _grant_not_live(vault_id, kid.name, "reading", exc) from exc
            raise

    def existing(self, ctx: Context, planned: dict[str, Any], id_: str) -> str | None:
        """A key of that name (any enabled state): creating it would add a version to it.
        A soft-deleted one doesn't count: create recovers it."""
        kid = parse_key_id(id_)
        try:
            key = not_found_is_none(lambda: ctx.clients.keys(kid.vault_uri).get_key(kid.name))
        except PermanentError as exc:
            if exc.status != 403:
                raise
            # the caller may create keys but not read them: nothing to check with, so
            # the create goes ahead and Key Vault's own answer stands
            ctx.waiter.report(f"can't check whether key {kid.name} exists (no keys get permission)")
            return None
        return None if key is None else str(key.id)

    @staticmethod
    def _vault_id_for(ctx: Context, vault_uri: str) -> str | None:
        body = find_vault_by_uri(ctx, vault_uri)
        return str(parse_resource_id(body["id"])) if body else None

    def update(self, ctx, prior, planned, changed):
        kid = parse_key_id(prior["id"])
        client = ctx.clients.keys(kid.vault_uri)
        if set(changed) & {"key_opts", "expiration_date", "not_before_date", "tags"}:
            call(
                lambda: client.update_key_properties(
                    kid.name,
                    key_operations=list(value(planned, "key_opts", []) or []),
                    expires_on=parse_time(planned.get("expiration_date"), "expiration_date"),
                    not_before=parse_time(planned.get("not_before_date"), "not_before_date"),
                    tags=tags_of(planned),
                )
            )
        if "rotation_policy" in changed:
            rp = block(planned, "rotation_policy")
            call(
                lambda: client.update_key_rotation_policy(
                    kid.name, _policy_to_sdk(rp) if rp else KeyRotationPolicy(lifetime_actions=[])
                )
            )
        state = self.read(
            ctx,
            {
                **prior,
                "rotation_policy": planned.get("rotation_policy"),
                "not_before_date": planned.get("not_before_date"),
                "expiration_date": planned.get("expiration_date"),
            },
        )
        if state is None:
            raise PermanentError(
                f"key {kid.versionless_id} disappeared during the update", code="KeyNotFound"
            )
        return state

    def delete(self, ctx: Context, prior: dict[str, Any]) -> None:
        kid = parse_key_id(prior["id"])
        client = ctx.clients.keys(kid.vault_uri)
        poller = not_found_is_none(lambda: client.begin_delete_key(kid.name))
        if poller is None or not ctx.feature("key_vault", "purge_soft_deleted_keys_on_destroy", True):
            return
        # As azurerm (key_vault_key_resource.go): purge the deleted key, unless its vault has
        # purge protection (Key Vault refuses then; the key is purged at the end of retention).
        vault_id = prior.get("key_vault_id") or self._vault_id_for(ctx, kid.vault_uri)
        if not vault_id or self._purge_protected(ctx, vault_id):
            return
        not_found_is_none(lambda: poller.result())
        ctx.waiter.report(
            f"purging the deleted key {kid.name} (features.key_vault.purge_soft_deleted_keys_on_destroy)"
        )
        try:
            not_found_is_none(lambda: client.purge_deleted_key(kid.name))
        except PermanentError as exc:
            if exc.status != 403:
                raise
            # the key is deleted; only its purge is not allowed to this caller: say so, don't fail
            ctx.waiter.report(
                f"the deleted key {kid.name} stays soft-deleted: purging it was refused ({exc.message})"
            )

    @staticmethod
    def _purge_protected(ctx: Context, vault_id: str) -> bool:
        rid = parse_resource_id(vault_id)
        got = not_found_is_none(lambda: ctx.clients.keyvault_mgmt().vaults.get(rid.resource_group, rid.name))
        return got is None or bool(dig(wire(got), "properties.enablePurgeProtection"))


class KeyVaultKeyData(DataSource):
    type_name = "azurerm_key_vault_key"
    private = ("enabled",)

    def read(self, ctx: Context, config: dict[str, Any]) -> dict[str, Any] | None:
        client = KeyVaultKey._client(ctx, config["key_vault_id"])
        key = not_found_is_none(lambda: client.get_key(config["name"]))
        return None if key is None else to_state(key, config["key_vault_id"])


# --------------------------------------------------------------------------- a grant not live yet

KEYS_CREATE = "Microsoft.KeyVault/vaults/keys/create/action"
KEYS_RECOVER = "Microsoft.KeyVault/vaults/keys/recover/action"
GRANT_ON_ITS_WAY = "GrantPropagating"


def _differs(key: Any, wanted: dict[str, Any]) -> bool:
    """Whether a key's operations, tags or dates differ from those ``create`` asked for."""
    ops = [str(getattr(o, "value", o)) for o in (getattr(key, "key_operations", None) or [])]
    props = key.properties
    return (
        sorted(ops) != sorted(str(o) for o in wanted["key_operations"])
        or (props.tags or {}) != (wanted["tags"] or {})
        or props.expires_on != wanted["expires_on"]
        or props.not_before != wanted["not_before"]
    )


def _grant_not_live(key_vault_id: str, key: str, doing: str, refused: PermanentError) -> RetryableError:
    name = parse_resource_id(key_vault_id, expect="Microsoft.KeyVault/vaults").name
    return RetryableError(
        waiting_message(name, doing, f"key {key}", refused.code),
        # vaultform's own name for the wait (its retry budget: reconciler/apply/retry_policy.py),
        # with Key Vault's code after it
        code=f"{GRANT_ON_ITS_WAY}/{refused.code}",
        status=refused.status,
    )

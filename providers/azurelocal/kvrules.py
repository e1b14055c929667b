"""Key Vault's rules for using a key: who may call, from where, and in which key state.

Shared by the REST routes (``services/keys.py``) and the identity-side callers (``keystore.wrap`` /
``unwrap``, the data path). Facts carried over from Key Vault:

* errors are ``{"error": {"code", "message", "innererror": {"code"}}}``;
* a disabled key refuses decrypt, sign and unwrapKey (403 Forbidden, inner KeyDisabled) while the
  public-key operations still work; an expired or not-yet-valid key refuses encrypt, sign and
  wrapKey, and still decrypts, unwraps and verifies (so old data stays readable);
* a vault whose network rules deny by default refuses callers that are neither in its IP rules
  nor a trusted Azure service admitted by ``bypass: AzureServices`` (inner ForbiddenByFirewall).
"""

from __future__ import annotations

import ipaddress
from datetime import datetime

from providers.azurelocal import access
from providers.azurelocal.http import Request
from providers.azurelocal.kverrors import KeyVaultError
from providers.azurelocal.kverrors import inner_code as inner_code  # re-exported for the routes
from providers.azurelocal.kverrors import key_not_found as key_not_found  # re-exported for the routes
from providers.azurelocal.store import Kind

LOCAL_CLIENT_ADDRESS = "127.0.0.1"

_REFUSED_WHEN_DISABLED = frozenset({"decrypt", "sign", "unwrapkey"})
_REFUSED_WHEN_OUT_OF_DATE = frozenset({"encrypt", "sign", "wrapkey"})


def vault_name_of(doc: dict) -> str:
    return (doc.get("name") or "").lower()


def vault_document(env, vault_name: str) -> dict | None:
    """The ARM document of the (not deleted) key vault called ``vault_name``."""
    wanted = (vault_name or "").lower()
    cache = getattr(env, "_kv_vault_ids", None)
    if cache is None:
        cache = env._kv_vault_ids = {}
    vault_id = cache.get(wanted)
    if vault_id:
        doc = env.store.get(Kind.KEY_VAULT, vault_id)
        if doc is not None and vault_name_of(doc) == wanted:
            return doc
    found: dict[str, dict] = {}
    for doc in env.store.list(Kind.KEY_VAULT):  # one pass learns every vault's name, not just this one's
        found.setdefault(vault_name_of(doc), doc)
    cache.update((name, doc["id"]) for name, doc in found.items())
    return found.get(wanted)


# --------------------------------------------------------------------------- callers


def _principal(env, principal_id: str | None) -> dict:
    record = env.principal(principal_id) if principal_id else None
    if record is None:
        raise KeyVaultError(
            401,
            "Unauthorized",
            f"AKV10032: The principal '{principal_id}' is not known to "
            f"tenant '{env.tenant_id}'; it can't obtain a token.",
        )
    if not record.get("enabled", True):
        raise KeyVaultError(
            401,
            "Unauthorized",
            f"AKV10032: The principal '{principal_id}' is disabled; "
            f"it can't obtain a token for the key vault.",
        )
    return record


def _address_allowed(address: str, rules: list) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for rule in rules or []:
        value = rule.get("value") if isinstance(rule, dict) else rule
        try:
            if ip in ipaddress.ip_network(str(value), strict=False):
                return True
        except ValueError:
            continue
    return False


def check_network(env, vault: dict, *, client_address: str | None, trusted_service: bool) -> None:
    acls = (vault.get("properties") or {}).get("networkAcls") or {}
    if str(acls.get("defaultAction", "Allow")).lower() != "deny":
        return
    if trusted_service and str(acls.get("bypass", "AzureServices")).lower() == "azureservices":
        return
    if client_address and _address_allowed(client_address, acls.get("ipRules") or []):
        return
    caller = "a trusted Azure service not admitted by bypass" if trusted_service else "not a trusted service"
    raise KeyVaultError(
        403,
        "Forbidden",
        f"Client address is not authorized and caller is {caller}.\r\n"
        f"Client address: {client_address or 'unknown'}\r\nVault: {vault_name_of(vault)}",
        inner="ForbiddenByFirewall",
    )


def authorize(
    env,
    principal_id: str | None,
    vault: dict,
    permission: str,
    *,
    key_name: str | None = None,
    client_address: str | None = None,
    trusted_service: bool = False,
) -> dict:
    """Refuse unless ``principal_id`` may use ``permission`` on keys of ``vault`` from where it calls."""
    record = _principal(env, principal_id)
    check_network(env, vault, client_address=client_address, trusted_service=trusted_service)
    access.check_key_permission(env, record["object_id"], vault["id"], permission, key_name=key_name)
    return record


# --------------------------------------------------------------------------- key state


def check_usable(env, info, operation: str, now: datetime | None = None) -> None:
    """Refuse ``operation`` (a Key Vault key operation name) when the key's state forbids it."""
    op = operation.lower()
    now = now or env.clock.now()
    if not info.enabled and op in _REFUSED_WHEN_DISABLED:
        raise KeyVaultError(
            403, "Forbidden", f"Operation {operation} is not allowed on a disabled key.", inner="KeyDisabled"
        )
    if op in _REFUSED_WHEN_OUT_OF_DATE:
        if info.expired(now):
            raise KeyVaultError(
                403,
                "Forbidden",
                f"Operation {operation} is not allowed on an expired key.",
                inner="KeyExpired",
            )
        if info.not_yet_valid(now):
            raise KeyVaultError(
                403,
                "Forbidden",
                f"Operation {operation} is not allowed on a key that is not yet valid.",
                inner="KeyNotYetValid",
            )
    allowed = {o.lower() for o in info.key_ops}
    if op in {"encrypt", "decrypt", "sign", "verify", "wrapkey", "unwrapkey"} and op not in allowed:
        raise KeyVaultError(
            403,
            "Forbidden",
            f"Operation {operation} is not permitted on this key; its key_ops are "
            f"{', '.join(info.key_ops) or 'empty'}.",
            inner="KeyOperationForbidden",
        )


def requested_vault(env, request: Request) -> dict:
    """The key vault a data-plane request is addressed to; 404 VaultNotFound when there is none."""
    name = request.params.get("vault", "")
    vault = vault_document(env, name)
    if vault is None:
        raise KeyVaultError(
            404, "VaultNotFound", f"The key vault '{name}' does not exist in the local Azure."
        )
    return vault

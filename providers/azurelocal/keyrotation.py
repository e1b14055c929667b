"""Key rotation in the local Key Vault: rotate now, rotation policies, and rotation when a policy says so.

A rotation policy holds lifetime actions (``Rotate`` or ``Notify``, triggered ``timeAfterCreate`` or
``timeBeforeExpiry`` as ISO 8601 durations) and an ``expiryTime`` given to new versions. Key Vault
rotates on its own when a Rotate trigger comes due; the emulator does the same lazily, when the key
is next read (``run_due_rotations``), dating the new version at the moment it came due so a
versionless key id follows it on the same schedule as in Azure.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from providers.azurelocal import keystore
from providers.azurelocal.http import AzureError
from providers.azurelocal.kvrules import key_not_found

VAULT_DOMAIN = keystore.VAULT_DOMAIN
_DURATION_RE = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
MAX_AUTOMATIC_ROTATIONS = 100


def iso_duration(text: str) -> timedelta:
    """Key Vault's ISO 8601 durations (P90D, P1Y, PT12H); a year is 365 days, a month 30."""
    m = _DURATION_RE.match(text) if isinstance(text, str) else None
    if not m or text in ("P", "PT"):
        raise keystore.bad_parameter(f"'{text}' is not an ISO 8601 duration such as P90D or P1Y.")
    y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    return timedelta(days=365 * y + 30 * mo + d, hours=h, minutes=mi, seconds=s)


def default_rotation_policy(vault_name: str, name: str) -> dict:
    return {
        "id": f"https://{vault_name.lower()}.{VAULT_DOMAIN}/keys/{name}/rotationpolicy",
        "lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}],
        "attributes": {},
    }


def rotation_policy(env, vault_name: str, name: str) -> dict:
    real_name, stored = keystore.stored_rotation_policy(env, vault_name, name)
    return stored or default_rotation_policy(vault_name, real_name)


def set_rotation_policy(
    env, vault_name: str, name: str, policy: dict, *, principal_id: str | None = None
) -> dict:
    real_name, previous = keystore.stored_rotation_policy(env, vault_name, name)
    actions = policy.get("lifetimeActions") or []
    if not isinstance(actions, list):
        raise keystore.bad_parameter("lifetimeActions must be a list.")
    clean = []
    for item in actions:
        item = item if isinstance(item, dict) else {}
        trigger = item["trigger"] if isinstance(item.get("trigger"), dict) else {}
        action = (item.get("action") or {}).get("type") if isinstance(item.get("action"), dict) else None
        if str(action).lower() not in ("rotate", "notify"):
            raise keystore.bad_parameter(
                f"The lifetime action type '{action}' is not valid; use Rotate or Notify."
            )
        when = {k: v for k, v in trigger.items() if k in ("timeAfterCreate", "timeBeforeExpiry") and v}
        if len(when) != 1:
            raise keystore.bad_parameter(
                "Each lifetime action needs exactly one trigger: timeAfterCreate or timeBeforeExpiry."
            )
        for value in when.values():
            iso_duration(value)
        clean.append(
            {"trigger": when, "action": {"type": "Rotate" if str(action).lower() == "rotate" else "Notify"}}
        )
    attrs = policy.get("attributes") or {}
    if not isinstance(attrs, dict):
        raise keystore.bad_parameter("attributes must be an object.")
    if attrs.get("expiryTime"):
        iso_duration(attrs["expiryTime"])
    now = int(env.clock.now().timestamp())
    stored = {
        "id": f"https://{vault_name.lower()}.{VAULT_DOMAIN}/keys/{real_name}/rotationpolicy",
        "lifetimeActions": clean,
        "attributes": {
            "expiryTime": attrs.get("expiryTime"),
            "created": ((previous or {}).get("attributes") or {}).get("created", now),
            "updated": now,
        },
    }
    keystore.store_rotation_policy(env, vault_name, real_name, stored)
    env.log(principal_id, "KeyRotationPolicySet", stored["id"])
    return stored


def rotate_key(
    env,
    vault_name: str,
    name: str,
    *,
    principal_id: str | None = None,
    at: datetime | None = None,
    operation: str = "KeyRotate",
) -> keystore.KeyInfo:
    """A new version with the latest version's type, size, operations and tags (Key Vault's rotate)."""
    latest = keystore.latest_version(env, vault_name, name)
    if latest is None:
        raise key_not_found(name)
    expiry = (rotation_policy(env, vault_name, name).get("attributes") or {}).get("expiryTime")
    when = at or env.clock.now()
    info = keystore.create_key(
        env,
        vault_name,
        latest.name,
        kty=latest.kty,
        size=latest.size,
        curve=latest.curve,
        key_ops=list(latest.key_ops),
        tags=latest.tags,
        expires=when + iso_duration(expiry) if expiry else None,
        created_at=when,
    )
    env.log(principal_id, operation, info.versioned_id)
    return info


def _due(policy: dict, latest: keystore.KeyInfo) -> datetime | None:
    """When the policy's Rotate action comes due for the latest version, or None."""
    for action in policy.get("lifetimeActions") or []:
        if (action.get("action") or {}).get("type") != "Rotate":
            continue
        trigger = action.get("trigger") or {}
        if trigger.get("timeAfterCreate"):
            return latest.created + iso_duration(trigger["timeAfterCreate"])
        if trigger.get("timeBeforeExpiry") and latest.expires is not None:
            return latest.expires - iso_duration(trigger["timeBeforeExpiry"])
    return None


def run_due_rotations(env, vault_name: str, name: str | None = None) -> list[keystore.KeyInfo]:
    """Rotate the vault's keys (or one key) whose policy's Rotate trigger has come due; returns new versions."""
    created = []
    names = [name] if name else keystore.key_names(env, vault_name)
    now = env.clock.now()
    for key_name in names:
        try:
            _, policy = keystore.stored_rotation_policy(env, vault_name, key_name)
        except AzureError:  # a missing or deleted key has nothing to rotate
            continue
        for _ in range(MAX_AUTOMATIC_ROTATIONS):
            latest = keystore.latest_version(env, vault_name, key_name)
            due = _due(policy or {}, latest) if latest else None
            if latest is None or due is None or due > now:
                break
            created.append(
                rotate_key(
                    env,
                    vault_name,
                    key_name,
                    at=max(due, latest.created + timedelta(seconds=1)),
                    operation="KeyRotate (rotation policy)",
                )
            )
    return created

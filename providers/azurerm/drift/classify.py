"""Consequence classes of drift for azurerm objects, as data: what each kind of change breaks.

``RULES`` is read top to bottom; the first row whose resource type, attribute pattern
(``fnmatch`` over the path without selectors, ``""`` for the whole object), change kinds,
members and conditions all match gives the severity and the reason. Nothing matching
is INFO. Conditions are named facts about the estate (``Facts``), computed once by
``facts_of`` from state and the refreshed objects, so the table stays a table.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

from providers.azurerm.drift.types import BACKUP_POLICY, KEY, KV, POLICY, PROTECTED_VM, ROLE, RSV, UAI
from providers.drift_protocol import Baseline, ChangeKind, Severity, Subject

K = ChangeKind
CRITICAL, WARNING, INFO = Severity.CRITICAL, Severity.WARNING, Severity.INFO

# What a vault's identity needs on its key (DOMAIN.md R7), in access-policy and key-operation terms.
CMK_PERMISSIONS = frozenset({"get", "list", "wrapkey", "unwrapkey"})
CMK_KEY_OPS = frozenset({"wrapkey", "unwrapkey"})


@dataclass
class Facts:
    """What the estate's objects say about each other, for the rules' conditions."""

    cmk_key_vault_uris: set[str] = field(default_factory=set)  # key vaults holding a vault's key
    user_identity_key_vault_uris: set[str] = field(
        default_factory=set
    )  # ... used by a user-assigned identity
    cmk_principals: set[str] = field(default_factory=set)  # identities that wrap data keys
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


class Condition(enum.Enum):
    CMK_KEY_VAULT = "the key vault holds a Recovery Services vault's key"
    USER_IDENTITY_KEY_VAULT = "a user-assigned identity uses a key in this key vault"
    DENY_BY_DEFAULT = "the key vault now denies by default"
    NO_TRUSTED_BYPASS = "the key vault admits no trusted Azure services"
    EXPIRED = "the key has expired"
    NOT_YET_VALID = "the key is not valid yet"
    CMK_GRANT = "the grant belongs to an identity that wraps data keys"
    KEY_VAULT_SCOPE = "the role assignment is on a key vault"
    ROTATES_ON_SCHEDULE = "the key's rotation policy rotates it automatically"
    EXPIRY_FROM_POLICY = "the key has a new version and its rotation policy sets new versions' expiry"


def _obj(s: Subject) -> dict:
    return s.obj_actual if s.obj_actual is not None else s.obj_recorded


def _uri(s: Subject) -> str:
    return str(_obj(s).get("vault_uri") or s.obj_recorded.get("vault_uri") or "").rstrip("/").lower()


def _acls(s: Subject) -> dict:
    acls = (s.obj_actual or {}).get("network_acls") or [{}]
    return acls[0] if isinstance(acls, list) and acls else {}


def _time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _policy(s: Subject) -> dict:
    """The access policy a subject is about: the object itself, or one inline entry."""
    if s.type == POLICY:
        return s.obj_recorded
    for v in (s.recorded, s.actual):
        if isinstance(v, dict) and "object_id" in v:
            return v
    return {}


def _rotation_policy(s: Subject) -> dict:
    found = (s.obj_actual or {}).get("rotation_policy") or [{}]
    return found[0] if isinstance(found, list) and found and isinstance(found[0], dict) else {}


def _new_version(s: Subject) -> bool:
    actual, recorded = (s.obj_actual or {}).get("id"), s.obj_recorded.get("id")
    return bool(actual) and bool(recorded) and actual != recorded


def _cmk_grant(s: Subject, f: Facts) -> bool:
    policy = _policy(s)
    if str(policy.get("object_id") or "").lower() in f.cmk_principals:
        return True
    perms = {str(p).lower() for p in policy.get("key_permissions") or []}
    return CMK_PERMISSIONS <= perms


CONDITIONS: dict[Condition, Callable[[Subject, Facts], bool]] = {
    Condition.CMK_KEY_VAULT: lambda s, f: _uri(s) in f.cmk_key_vault_uris,
    Condition.USER_IDENTITY_KEY_VAULT: lambda s, f: _uri(s) in f.user_identity_key_vault_uris,
    Condition.DENY_BY_DEFAULT: lambda s, f: str(_acls(s).get("default_action", "")).lower() == "deny",
    Condition.NO_TRUSTED_BYPASS: lambda s, f: str(_acls(s).get("bypass", "")).lower() == "none",
    Condition.EXPIRED: lambda s, f: (t := _time(_obj(s).get("expiration_date"))) is not None and t <= f.now,
    Condition.NOT_YET_VALID: lambda s, f: (
        (t := _time(_obj(s).get("not_before_date"))) is not None and t > f.now
    ),
    Condition.CMK_GRANT: _cmk_grant,
    Condition.KEY_VAULT_SCOPE: lambda s, f: (
        "/providers/microsoft.keyvault/vaults/" in str(_obj(s).get("scope") or "").lower()
    ),
    Condition.ROTATES_ON_SCHEDULE: lambda s, f: bool(_rotation_policy(s).get("automatic")),
    Condition.EXPIRY_FROM_POLICY: lambda s, f: (
        bool(_rotation_policy(s).get("expire_after")) and _new_version(s)
    ),
}


@dataclass(frozen=True)
class Rule:
    type: str  # resource type ("*" any)
    path: str  # fnmatch over the path without selectors; "" whole object
    kinds: frozenset[ChangeKind] | None  # None: any kind
    severity: Severity
    why: str
    when: tuple[Condition, ...] = ()  # all must hold
    members: frozenset[str] = frozenset()  # NARROWED: lost one of these; BROADENED: gained one
    baseline: Baseline | None = None  # None: either


def _k(*kinds: ChangeKind) -> frozenset[ChangeKind]:
    return frozenset(kinds)


GONE = _k(K.DELETED)
LESS = _k(K.NARROWED, K.REMOVED)

RULES: tuple[Rule, ...] = (
    # keys: a disabled, expired, deleted or not-yet-valid key version can't wrap or unwrap data keys
    Rule(
        KEY,
        "",
        GONE,
        CRITICAL,
        "the key is deleted: backups can't wrap their data key and restores of "
        "recovery points it protects fail",
    ),
    Rule(
        KEY,
        "enabled",
        _k(K.DISABLED),
        CRITICAL,
        "the key version is disabled: the next backup can't wrap its data key and restores can't unwrap it",
    ),
    Rule(
        KEY,
        "expiration_date",
        None,
        CRITICAL,
        "the key has expired: Key Vault refuses to wrap with it, so backups fail",
        when=(Condition.EXPIRED,),
    ),
    # A rotation policy's own work - a new version on schedule, carrying the expiry expire_after
    # gives it (Azure SDK for .NET, KeyRotationPolicy.ExpiresIn: the duration after which "a new
    # KeyVaultKey version created from this policy will expire") - is what the configuration asked
    # for: a nightly drift run reports it, but not as a warning.
    Rule(
        KEY,
        "expiration_date",
        None,
        INFO,
        "the new key version carries the expiry its rotation policy's expire_after sets",
        when=(Condition.EXPIRY_FROM_POLICY,),
    ),
    Rule(KEY, "expiration_date", None, WARNING, "the key's expiry moved: backups fail from that date on"),
    Rule(
        KEY,
        "not_before_date",
        None,
        CRITICAL,
        "the key is not valid yet: Key Vault refuses to wrap with it",
        when=(Condition.NOT_YET_VALID,),
    ),
    Rule(
        KEY,
        "key_opts",
        LESS,
        CRITICAL,
        "the key no longer allows wrapKey/unwrapKey: backups and restores fail",
        members=CMK_KEY_OPS,
    ),
    Rule(KEY, "key_opts", None, WARNING, "the key's permitted operations changed"),
    Rule(
        KEY,
        "id",
        None,
        INFO,
        "the key has a new version, as its automatic rotation policy makes them: a vault using the "
        "versionless id follows it; one pinned to the old version keeps using that version, which "
        "must stay enabled until a backup used the new one",
        when=(Condition.ROTATES_ON_SCHEDULE,),
    ),
    Rule(
        KEY,
        "id",
        None,
        WARNING,
        "the key has a new version (rotated out of band): a vault pinned to the old "
        "version keeps using it, which must stay enabled until a backup used the "
        "new one",
    ),
    Rule(KEY, "rotation_policy*", None, WARNING, "the key's rotation schedule changed"),
    # grants
    Rule(
        POLICY,
        "",
        GONE,
        CRITICAL,
        "the access policy is gone: the identity can no longer read, wrap or "
        "unwrap with the key, so backups and restores fail",
        when=(Condition.CMK_GRANT,),
    ),
    Rule(POLICY, "", GONE, WARNING, "an access policy vaultform manages was removed"),
    Rule(
        POLICY,
        "key_permissions",
        LESS,
        CRITICAL,
        "the grant lost Get, List, WrapKey or UnwrapKey: the identity can't use the key",
        members=CMK_PERMISSIONS,
    ),
    Rule(
        POLICY,
        "*_permissions",
        _k(K.BROADENED, K.ADDED),
        WARNING,
        "the grant is broader than what was recorded (least privilege is Get, List, WrapKey, UnwrapKey)",
    ),
    Rule(POLICY, "*_permissions", None, INFO, "the grant lost permissions CMK doesn't need"),
    Rule(
        KV,
        "access_policy",
        _k(K.REMOVED),
        CRITICAL,
        "an access policy the key depends on was removed",
        when=(Condition.CMK_GRANT,),
    ),
    Rule(KV, "access_policy", _k(K.ADDED), WARNING, "a new access policy grants access to the key vault"),
    Rule(KV, "access_policy", _k(K.REMOVED), WARNING, "an access policy was removed from the key vault"),
    Rule(
        KV,
        "access_policy.key_permissions",
        LESS,
        CRITICAL,
        "the grant lost Get, List, WrapKey or UnwrapKey",
        members=CMK_PERMISSIONS,
    ),
    Rule(KV, "access_policy.*", _k(K.BROADENED, K.ADDED), WARNING, "a grant on the key vault is broader"),
    Rule(
        ROLE,
        "",
        GONE,
        CRITICAL,
        "the role assignment on the key vault is deleted: the identity can no longer use the key",
        when=(Condition.KEY_VAULT_SCOPE,),
    ),
    Rule(ROLE, "", GONE, WARNING, "a role assignment vaultform manages was deleted"),
    Rule(ROLE, "*", None, WARNING, "the role assignment changed"),
    # key vault protections and network
    Rule(KV, "", GONE, CRITICAL, "the key vault is deleted: every key in it is unusable"),
    Rule(
        KV,
        "network_acls.default_action",
        _k(K.CHANGED),
        CRITICAL,
        "the key vault firewall now denies by default and a user-assigned identity is not a trusted service: "
        "backups and restores fail",
        when=(Condition.DENY_BY_DEFAULT, Condition.USER_IDENTITY_KEY_VAULT),
    ),
    Rule(
        KV,
        "network_acls.*",
        None,
        CRITICAL,
        "the key vault firewall denies by default and admits no trusted "
        "Azure services: the vault's identity is refused",
        when=(Condition.DENY_BY_DEFAULT, Condition.NO_TRUSTED_BYPASS, Condition.CMK_KEY_VAULT),
    ),
    Rule(
        KV,
        "network_acls",
        _k(K.ADDED),
        CRITICAL,
        "the key vault firewall now denies by default and a user-assigned identity is not a trusted service",
        when=(Condition.DENY_BY_DEFAULT, Condition.USER_IDENTITY_KEY_VAULT),
    ),
    Rule(KV, "network_acls*", None, WARNING, "the key vault's network rules changed"),
    Rule(KV, "public_network_access_enabled", None, WARNING, "the key vault's public network access changed"),
    Rule(
        KV, "purge_protection_enabled", None, WARNING, "purge protection reads differently (CMK needs it on)"
    ),
    Rule(KV, "soft_delete_retention_days", None, WARNING, "the soft delete retention reads differently"),
    Rule(
        KV,
        "rbac_authorization_enabled",
        None,
        CRITICAL,
        "the key vault switched authorization model: the grants the vault's identity relies on stop applying",
        when=(Condition.CMK_KEY_VAULT,),
    ),
    Rule(KV, "rbac_authorization_enabled", None, WARNING, "the key vault switched authorization model"),
    Rule(
        KV,
        "tenant_id",
        None,
        CRITICAL,
        "the key vault moved tenant: identities of the old tenant can't use its keys (R13)",
    ),
    # the Recovery Services vault
    Rule(RSV, "", GONE, CRITICAL, "the Recovery Services vault is deleted"),
    Rule(
        RSV,
        "identity*",
        _k(K.BROADENED, K.ADDED),
        WARNING,
        "the vault's identity gained access it didn't have",
    ),
    Rule(
        RSV,
        "identity*",
        None,
        CRITICAL,
        "the vault's managed identity is disabled or changed: it can't "
        "unwrap the data key, so backups and restores fail",
    ),
    Rule(
        RSV,
        "encryption.key_id",
        _k(K.DISABLED, K.REMOVED),
        CRITICAL,
        "the key version the vault uses can't wrap or unwrap: backups and restores fail",
    ),
    Rule(
        RSV,
        "encryption.key_id",
        None,
        WARNING,
        "the configuration names another key or key version than the "
        "vault uses (a rotation): apply moves the vault; the old "
        "version must stay enabled until a backup used the new one",
        baseline=Baseline.DESIRED,
    ),
    Rule(
        RSV,
        "encryption*",
        None,
        CRITICAL,
        "the vault's encryption settings changed: the key or identity it uses is no longer the one granted",
    ),
    Rule(RSV, "public_network_access_enabled", None, WARNING, "the vault's public network access changed"),
    Rule(RSV, "soft_delete_enabled", None, WARNING, "the vault's soft delete reads differently"),
    Rule(RSV, "immutability", None, WARNING, "the vault's immutability changed"),
    # identities, backups
    Rule(
        UAI,
        "",
        GONE,
        CRITICAL,
        "the user-assigned identity is deleted: a vault using it can't unwrap its data key",
    ),
    Rule(UAI, "principal_id", None, CRITICAL, "the identity is a new principal: its grants are gone"),
    Rule(PROTECTED_VM, "", GONE, WARNING, "the VM is no longer protected: no new backups"),
    Rule(PROTECTED_VM, "*", None, WARNING, "the VM's protection changed"),
    Rule(BACKUP_POLICY, "", GONE, WARNING, "the backup policy is deleted"),
    Rule(BACKUP_POLICY, "*", None, WARNING, "the backup schedule or retention changed"),
    Rule("*", "", GONE, WARNING, "the object was deleted out of band"),
    Rule("*", "tags*", None, INFO, "tags changed"),
)

DEFAULT_WHY = "changed out of band; nothing in backup or restore depends on it"


def _members(v: list) -> frozenset:
    return frozenset(str(x).lower() if isinstance(x, str) else x for x in v)


def lost_members(recorded: Any, actual: Any) -> frozenset:
    if isinstance(recorded, list) and isinstance(actual, list):
        return _members(recorded) - _members(actual)
    return frozenset()


def gained_members(recorded: Any, actual: Any) -> frozenset:
    if isinstance(recorded, list) and isinstance(actual, list):
        return _members(actual) - _members(recorded)
    return frozenset()


def _members_match(rule: Rule, s: Subject) -> bool:
    if not rule.members:
        return True
    if s.kind is K.NARROWED:
        return bool(lost_members(s.recorded, s.actual) & rule.members)
    if s.kind is K.REMOVED and isinstance(s.recorded, list):
        return bool({str(x).lower() for x in s.recorded} & rule.members)
    if s.kind is K.BROADENED:
        return bool(gained_members(s.recorded, s.actual) & rule.members)
    return True


def matches(rule: Rule, s: Subject, facts: Facts) -> bool:
    if rule.type != "*" and rule.type != s.type:
        return False
    if rule.path == "" and s.path != "":
        return False
    if rule.path and not fnmatchcase(s.path, rule.path):
        return False
    if rule.kinds is not None and s.kind not in rule.kinds:
        return False
    if rule.baseline is not None and s.baseline is not rule.baseline:
        return False
    if not _members_match(rule, s):
        return False
    return all(CONDITIONS[c](s, facts) for c in rule.when)


def classify(s: Subject, facts: Facts) -> tuple[Severity, str]:
    for rule in RULES:
        if matches(rule, s, facts):
            return rule.severity, rule.why
    return INFO, DEFAULT_WHY

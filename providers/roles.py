"""Key Vault built-in roles (Azure RBAC) and access-policy permissions, as data.

What a Recovery Services vault's identity needs on its key is the same in both
authorization models: read the key, wrap and unwrap with it. With access policies
that is CMK_KEY_PERMISSIONS; with RBAC it is CMK_DATA_ACTIONS, which the built-in
role "Key Vault Crypto Service Encryption User" grants and nothing more (least
privilege). Broader roles such as "Key Vault Crypto Officer" work but grant more.

Role GUIDs are the ones Azure publishes for its built-in roles; they are the same
in every tenant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

CMK_KEY_PERMISSIONS: tuple[str, ...] = ("Get", "List", "WrapKey", "UnwrapKey")

KEYS_READ = "Microsoft.KeyVault/vaults/keys/read"
KEYS_WRAP = "Microsoft.KeyVault/vaults/keys/wrap/action"
KEYS_UNWRAP = "Microsoft.KeyVault/vaults/keys/unwrap/action"
CMK_DATA_ACTIONS: tuple[str, ...] = (KEYS_READ, KEYS_WRAP, KEYS_UNWRAP)


@dataclass(frozen=True, slots=True)
class BuiltInRole:
    name: str
    guid: str
    data_actions: tuple[str, ...]
    description: str = ""

    def definition_id(self, subscription_id: str | None = None) -> str:
        """The role definition's resource id (subscription-scoped when one is given)."""
        tail = f"/providers/Microsoft.Authorization/roleDefinitions/{self.guid}"
        return f"/subscriptions/{subscription_id}{tail}" if subscription_id else tail


KEY_VAULT_ROLES: tuple[BuiltInRole, ...] = (
    BuiltInRole(
        "Key Vault Administrator",
        "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        ("Microsoft.KeyVault/vaults/*",),
        "Every data-plane operation on keys, secrets and certificates.",
    ),
    BuiltInRole(
        "Key Vault Crypto Officer",
        "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        ("Microsoft.KeyVault/vaults/keys/*", "Microsoft.KeyVault/vaults/keyrotationpolicies/*"),
        "Every operation on keys, including create, delete and purge.",
    ),
    BuiltInRole(
        "Key Vault Crypto Service Encryption User",
        "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        (KEYS_READ, KEYS_WRAP, KEYS_UNWRAP),
        "Read key metadata and wrap/unwrap with the key: exactly what a service's CMK needs.",
    ),
    BuiltInRole(
        "Key Vault Crypto User",
        "12338af0-0e69-4776-bea7-57ae8d297424",
        (
            KEYS_READ,
            "Microsoft.KeyVault/vaults/keys/update/action",
            "Microsoft.KeyVault/vaults/keys/backup/action",
            "Microsoft.KeyVault/vaults/keys/encrypt/action",
            "Microsoft.KeyVault/vaults/keys/decrypt/action",
            KEYS_WRAP,
            KEYS_UNWRAP,
            "Microsoft.KeyVault/vaults/keys/sign/action",
            "Microsoft.KeyVault/vaults/keys/verify/action",
        ),
        "Cryptographic operations with keys.",
    ),
    BuiltInRole(
        "Key Vault Crypto Service Release User",
        "08bbd89e-9f13-488c-ac41-acfcb10c90ab",
        ("Microsoft.KeyVault/vaults/keys/release/action",),
        "Release exportable keys to trusted environments.",
    ),
    BuiltInRole(
        "Key Vault Reader",
        "21090545-7ca7-4776-b22c-e363652d74d2",
        ("Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"),
        "Read metadata of the vault and its objects; no key operations.",
    ),
    BuiltInRole(
        "Key Vault Secrets Officer",
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        ("Microsoft.KeyVault/vaults/secrets/*",),
        "Every operation on secrets.",
    ),
    BuiltInRole(
        "Key Vault Secrets User",
        "4633458b-17de-408a-b874-0445c86b69e6",
        (
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ),
        "Read secret contents.",
    ),
    BuiltInRole(
        "Key Vault Certificates Officer",
        "a4417e6f-fecd-4de8-b567-7b0420556985",
        (
            "Microsoft.KeyVault/vaults/certificatecas/*",
            "Microsoft.KeyVault/vaults/certificates/*",
            "Microsoft.KeyVault/vaults/certificatecontacts/write",
        ),
        "Every operation on certificates.",
    ),
    BuiltInRole(
        "Key Vault Certificate User",
        "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
        (
            "Microsoft.KeyVault/vaults/certificates/read",
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
            KEYS_READ,
        ),
        "Read certificates, including their secret and key parts.",
    ),
)

LEAST_PRIVILEGE_CMK_ROLE: BuiltInRole = next(
    r for r in KEY_VAULT_ROLES if r.name == "Key Vault Crypto Service Encryption User"
)

_BY_NAME = {r.name.lower(): r for r in KEY_VAULT_ROLES}
_BY_GUID = {r.guid.lower(): r for r in KEY_VAULT_ROLES}
_DEFINITION_ID = re.compile(
    r"(?i)(?:/subscriptions/[^/]+)?/providers/Microsoft\.Authorization/"
    r"roleDefinitions/([0-9a-f-]{36})/?"
)


def find_role(reference: str | BuiltInRole | None) -> BuiltInRole | None:
    """A Key Vault built-in role from its name (any case), GUID or role definition id."""
    if reference is None or isinstance(reference, BuiltInRole):
        return reference
    text = str(reference).strip()
    match = _DEFINITION_ID.fullmatch(text)
    if match:
        return _BY_GUID.get(match.group(1).lower())
    return _BY_NAME.get(text.lower()) or _BY_GUID.get(text.lower())


def grants_action(role: BuiltInRole, data_action: str) -> bool:
    """Whether one of the role's data actions (with Azure's ``*`` wildcards) covers ``data_action``."""
    wanted = data_action.lower()
    return any(fnmatchcase(wanted, pattern.lower()) for pattern in role.data_actions)


def grants_cmk(role: str | BuiltInRole | None) -> bool:
    """Whether the role lets an identity read, wrap and unwrap with a key (what CMK needs)."""
    found = find_role(role)
    return found is not None and all(grants_action(found, a) for a in CMK_DATA_ACTIONS)


def is_least_privilege_for_cmk(role: str | BuiltInRole | None) -> bool:
    """Whether the role grants what CMK needs and nothing more."""
    found = find_role(role)
    if found is None or not grants_cmk(found):
        return False
    needed = {a.lower() for a in CMK_DATA_ACTIONS}
    return all(pattern.lower() in needed for pattern in found.data_actions)


def missing_cmk_key_permissions(permissions: Iterable[str]) -> tuple[str, ...]:
    """The CMK key permissions an access policy lacks (compared without regard to case)."""
    have = {str(p).lower() for p in permissions}
    return tuple(p for p in CMK_KEY_PERMISSIONS if p.lower() not in have)


def key_permissions_grant_cmk(permissions: Iterable[str]) -> bool:
    return not missing_cmk_key_permissions(permissions)

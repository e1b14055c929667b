"""Who may do what to a key: access policies or Azure RBAC, with grant propagation delay.

``check_key_permission`` is the single gate the Key Vault data plane, the key assignment of a
Recovery Services vault and the backup data path go through. A vault with
``enableRbacAuthorization`` consults role assignments (built-in roles' data actions); any other
vault consults its access policies. A grant made at time t counts from t + the fault setting
``grant_propagation_seconds`` on the emulator clock, as real grants take a while to propagate.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from providers.azurelocal.kverrors import KeyVaultError
from providers.azurelocal.store import Kind
from providers.azurelocal.times import parse_time

VAULT_HOST_SUFFIX = ".vault.azure.net"
ROLE_DEFINITIONS_PATH = "/providers/Microsoft.Authorization/roleDefinitions/"


@dataclass(frozen=True)
class BuiltinRole:
    guid: str
    name: str
    description: str
    actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()


_KEYS = "Microsoft.KeyVault/vaults/keys"
# The one data action for a vault's certificate contacts: reading them needs it too, there is no
# read-only one (Azure/azure-powershell issue 27911; the RBAC refusal names this action).
CONTACTS_DATA_ACTION = "Microsoft.KeyVault/vaults/certificatecontacts/write"

# Built-in role definitions (ids and data actions as Azure publishes them) that matter here.
BUILTIN_ROLES: tuple[BuiltinRole, ...] = (
    BuiltinRole(
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        "Owner",
        "Grants full access to manage all resources, including assigning roles.",
        ("*",),
    ),
    BuiltinRole(
        "b24988ac-6180-42a0-ab88-20f7382dd24c",
        "Contributor",
        "Grants full access to manage all resources, but not to assign roles.",
        ("*",),
    ),
    BuiltinRole("acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader", "View all resources.", ("*/read",)),
    BuiltinRole(
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        "User Access Administrator",
        "Lets you manage user access to Azure resources.",
        ("Microsoft.Authorization/*",),
    ),
    BuiltinRole(
        "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        "Key Vault Administrator",
        "Perform all data plane operations on a key vault and all objects in it.",
        ("Microsoft.KeyVault/vaults/*/read",),
        ("Microsoft.KeyVault/vaults/*",),
    ),
    BuiltinRole(
        "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        "Key Vault Crypto Officer",
        "Perform any action on the keys of a key vault, except manage permissions.",
        ("Microsoft.KeyVault/vaults/*/read",),
        (f"{_KEYS}/*", "Microsoft.KeyVault/vaults/keyrotationpolicies/*"),
    ),
    BuiltinRole(
        "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        "Key Vault Crypto Service Encryption User",
        "Read metadata of keys and perform wrap/unwrap operations.",
        ("Microsoft.KeyVault/vaults/*/read",),
        (f"{_KEYS}/read", f"{_KEYS}/wrap/action", f"{_KEYS}/unwrap/action"),
    ),
    BuiltinRole(
        "12338af0-0e69-4776-bea7-57ae8d297424",
        "Key Vault Crypto User",
        "Perform cryptographic operations using keys.",
        (),
        (
            f"{_KEYS}/read",
            f"{_KEYS}/update/action",
            f"{_KEYS}/backup/action",
            f"{_KEYS}/encrypt/action",
            f"{_KEYS}/decrypt/action",
            f"{_KEYS}/wrap/action",
            f"{_KEYS}/unwrap/action",
            f"{_KEYS}/sign/action",
            f"{_KEYS}/verify/action",
        ),
    ),
    BuiltinRole(
        "a4417e6f-fecd-4de8-b567-7b0420556985",
        "Key Vault Certificates Officer",
        "Perform any action on the certificates of a key vault, except manage permissions.",
        ("Microsoft.KeyVault/vaults/*/read",),
        (
            "Microsoft.KeyVault/vaults/certificatecas/*",
            "Microsoft.KeyVault/vaults/certificates/*",
            CONTACTS_DATA_ACTION,
        ),
    ),
    BuiltinRole(
        "21090545-7ca7-4776-b22c-e363652d74d2",
        "Key Vault Reader",
        "Read metadata of key vaults and its certificates, keys, and secrets.",
        ("Microsoft.KeyVault/vaults/*/read",),
        ("Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"),
    ),
    BuiltinRole(
        "4633458b-17de-408a-b874-0445c86b69e6",
        "Key Vault Secrets User",
        "Read secret contents.",
        (),
        (
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ),
    ),
    BuiltinRole(
        "5e467623-bb1f-42f4-a55d-6e525e11384b",
        "Backup Contributor",
        "Lets you manage backup service, but can't create vaults and give access to others.",
        ("Microsoft.RecoveryServices/vaults/*",),
    ),
    BuiltinRole(
        "00c29273-979b-4161-815c-10b084fb9324",
        "Backup Operator",
        "Lets you manage backup services, except removal of backup and vault creation.",
        ("Microsoft.RecoveryServices/vaults/backupFabrics/*",),
    ),
    BuiltinRole(
        "f1a07417-d97a-45cb-824c-7a7467783830",
        "Managed Identity Operator",
        "Read and Assign User Assigned Identity.",
        (
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
        ),
    ),
)

ROLES_BY_GUID = {r.guid: r for r in BUILTIN_ROLES}
ROLES_BY_NAME = {r.name.lower(): r for r in BUILTIN_ROLES}

# access-policy key permission -> RBAC data action
KEY_DATA_ACTIONS = {
    "get": f"{_KEYS}/read",
    "list": f"{_KEYS}/read",
    "wrapkey": f"{_KEYS}/wrap/action",
    "unwrapkey": f"{_KEYS}/unwrap/action",
    "encrypt": f"{_KEYS}/encrypt/action",
    "decrypt": f"{_KEYS}/decrypt/action",
    "sign": f"{_KEYS}/sign/action",
    "verify": f"{_KEYS}/verify/action",
    "create": f"{_KEYS}/create/action",
    "import": f"{_KEYS}/import/action",
    "update": f"{_KEYS}/update/action",
    "delete": f"{_KEYS}/delete",
    "backup": f"{_KEYS}/backup/action",
    "restore": f"{_KEYS}/restore/action",
    "recover": f"{_KEYS}/recover/action",
    "purge": "Microsoft.KeyVault/vaults/deletedKeys/delete",
    "release": f"{_KEYS}/release/action",
    "rotate": f"{_KEYS}/rotate/action",
    "getrotationpolicy": "Microsoft.KeyVault/vaults/keyrotationpolicies/read",
    "setrotationpolicy": "Microsoft.KeyVault/vaults/keyrotationpolicies/write",
}


def role_definition_id(scope: str, guid: str) -> str:
    return f"{scope.rstrip('/')}{ROLE_DEFINITIONS_PATH}{guid}"


def role_guid(role_definition_id: str) -> str:
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


def role_grants(role: BuiltinRole, data_action: str) -> bool:
    return any(fnmatch.fnmatchcase(data_action.lower(), pattern.lower()) for pattern in role.data_actions)


def _effective(env, granted_at: str | None, label: str, for_backup: bool) -> bool:
    """A grant counts once its propagation delay has passed since it was made. Real grants give no
    signal when they reach Azure Backup: the key assignment fails with
    UserErrorCMKKeyVaultAuthFailure until they do, and succeeds when retried (azurerm issue 27817,
    Bicep issue 16601). The random share of the delay applies to Azure Backup's checks only."""
    settings = env.faults
    delay = (
        settings.grant_delay(f"{label}@{granted_at}") if for_backup else settings.grant_propagation_seconds
    )
    if not delay or not granted_at:
        return True
    return (env.clock.now() - parse_time(granted_at)).total_seconds() >= delay


def _in_scope(scope: str, target: str) -> bool:
    scope, target = scope.rstrip("/").lower(), target.rstrip("/").lower()
    return target == scope or target.startswith(scope + "/") or scope == "/"


def _forbidden(principal_id: str, vault: dict, permission: str, rbac: bool) -> KeyVaultError:
    name = vault["name"]
    if rbac:
        action = KEY_DATA_ACTIONS.get(permission.lower(), permission)
        return KeyVaultError(
            403,
            "Forbidden",
            f"Caller is not authorized to perform action on resource. Caller: oid={principal_id}; "
            f"Action: '{action}'; Resource: '{vault['id'].lower()}'. Assign a role such as 'Key Vault "
            f"Crypto Service Encryption User' on vault '{name}'.",
            inner="ForbiddenByRbac",
        )
    return KeyVaultError(
        403,
        "Forbidden",
        f"The user, group or application 'oid={principal_id}' does not have keys {permission} permission on "
        f"key vault '{name}'. Add an access policy granting it.",
        inner="ForbiddenByPolicy",
    )


def check_key_permission(
    env,
    principal_id: str,
    key_vault_id: str,
    permission: str,
    *,
    key_name: str | None = None,
    for_backup: bool = False,
) -> None:
    """Raise 403 (inner ForbiddenByPolicy / ForbiddenByRbac) unless the grant is in place and
    effective; ``for_backup``: Azure Backup asks (the key assignment, backup and restore jobs)."""
    vault = env.store.get(Kind.KEY_VAULT, key_vault_id)
    if vault is None:
        raise KeyVaultError(404, "VaultNotFound", f"The key vault '{key_vault_id}' does not exist.")
    props = vault.get("properties") or {}
    wanted = permission.lower()
    if props.get("enableRbacAuthorization"):
        action = KEY_DATA_ACTIONS.get(wanted)
        target = f"{vault['id']}/keys/{key_name}" if key_name else vault["id"]
        for assignment in env.store.list(Kind.ROLE_ASSIGNMENT):
            ap = assignment["properties"]
            if ap["principalId"].lower() != principal_id.lower() or not _in_scope(ap["scope"], target):
                continue
            role = ROLES_BY_GUID.get(role_guid(ap["roleDefinitionId"]))
            if (
                role
                and action
                and role_grants(role, action)
                and _effective(env, ap.get("createdOn"), assignment["id"], for_backup)
            ):
                return
        raise _forbidden(principal_id, vault, permission, rbac=True)
    granted = ((vault.get("_emulator") or {}).get("policy_granted_at") or {}).get(principal_id.lower())
    for policy in props.get("accessPolicies") or []:
        if policy["objectId"].lower() != principal_id.lower():
            continue
        keys = {k.lower() for k in (policy.get("permissions") or {}).get("keys") or []}
        if (wanted in keys or "all" in keys) and _effective(
            env, granted, f"{vault['id']}/{principal_id}", for_backup
        ):
            return
    raise _forbidden(principal_id, vault, permission, rbac=False)


def _rbac_granted(env, principal_id: str, action: str, target: str, for_backup: bool) -> bool:
    for assignment in env.store.list(Kind.ROLE_ASSIGNMENT):
        ap = assignment["properties"]
        if ap["principalId"].lower() != principal_id.lower() or not _in_scope(ap["scope"], target):
            continue
        role = ROLES_BY_GUID.get(role_guid(ap["roleDefinitionId"]))
        if (
            role
            and role_grants(role, action)
            and _effective(env, ap.get("createdOn"), assignment["id"], for_backup)
        ):
            return True
    return False


def check_contacts_permission(env, principal_id: str, key_vault_id: str) -> None:
    """Raise 403 unless the caller may get, set or delete the vault's certificate contacts: the
    certificate permission ``managecontacts`` in an access policy, or the data action
    ``certificatecontacts/write`` under RBAC. All three operations need it ("This operation requires
    the certificates/managecontacts permission", Key Vault REST reference, Get/Set/Delete
    Certificate Contacts)."""
    vault = env.store.get(Kind.KEY_VAULT, key_vault_id)
    if vault is None:
        raise KeyVaultError(404, "VaultNotFound", f"The key vault '{key_vault_id}' does not exist.")
    name = vault["name"]
    if (vault.get("properties") or {}).get("enableRbacAuthorization"):
        if _rbac_granted(env, principal_id, CONTACTS_DATA_ACTION, vault["id"], False):
            return
        raise KeyVaultError(
            403,
            "Forbidden",
            f"Caller is not authorized to perform action on resource. Caller: oid={principal_id}; "
            f"Action: '{CONTACTS_DATA_ACTION}'; Resource: '{vault['id'].lower()}'. Assign a role such as "
            f"'Key Vault Certificates Officer' on vault '{name}'.",
            inner="ForbiddenByRbac",
        )
    granted = ((vault.get("_emulator") or {}).get("policy_granted_at") or {}).get(principal_id.lower())
    for policy in (vault.get("properties") or {}).get("accessPolicies") or []:
        if policy["objectId"].lower() != principal_id.lower():
            continue
        certificates = {c.lower() for c in (policy.get("permissions") or {}).get("certificates") or []}
        if ("managecontacts" in certificates or "all" in certificates) and _effective(
            env, granted, f"{vault['id']}/{principal_id}", False
        ):
            return
    # Key Vault's words (Azure/azure-powershell issue 19531): "... does not have certificates
    # managecontacts permission on key vault '...'"
    raise KeyVaultError(
        403,
        "Forbidden",
        f"The user, group or application 'oid={principal_id}' does not have certificates managecontacts "
        f"permission on key vault '{name}'. Add an access policy granting it.",
        inner="ForbiddenByPolicy",
    )


def key_vault_for_host(env, host: str) -> dict | None:
    """The live key vault served at ``{name}.vault.azure.net``."""
    host = host.lower().split(":")[0]
    if not host.endswith(VAULT_HOST_SUFFIX):
        return None
    name = host[: -len(VAULT_HOST_SUFFIX)]
    for body in env.store.list(Kind.KEY_VAULT):
        if body["name"].lower() == name:
            return body
    return None

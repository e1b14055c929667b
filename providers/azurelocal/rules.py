"""Azure's server-side rules for Recovery Services vault encryption, as data plus small checks.

Each refusal is a ``Refusal`` row: HTTP status, Azure's error code and a message template that
says what to do. Codes marked ``found`` were found in Azure's documentation or in error reports
(azure-docs encryption-at-rest-with-cmk troubleshooting, terraform-provider-azurerm issues
#24087 and #27817, Azure CLI issue #14776); the others are descriptive Azure-style codes chosen
because no published code was found.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from providers.azurelocal.http import AzureError


@dataclass(frozen=True)
class RefusalSpec:
    status: int
    code: str
    template: str
    found: bool  # the code is Azure's own, found in its docs or error reports


class Refusal(Enum):
    CMK_KEY_VAULT_AUTH = RefusalSpec(
        400,
        "UserErrorCMKKeyVaultAuthFailure",
        "The managed identity {principal} of the vault can't {permission} on key '{key}': {reason}. "
        "Grant it Get, Wrap Key and Unwrap Key (access policy) or the 'Key Vault Crypto Service "
        "Encryption User' role on the key vault, wait for the grant to take effect, and retry.",
        True,
    )
    CMK_KEY_UNSUPPORTED = RefusalSpec(
        400,
        "UserErrorCMKMissingMangedIdentityPermissionOnKeyVault",
        "The key '{key}' is {kty} {size}: Backup encryption supports only RSA or RSA-HSM keys of "
        "2048, 3072 or 4096 bits.",
        True,
    )
    CMK_IDENTITY_INVALID = RefusalSpec(
        400, "InvalidRestApiParameter", "cmkIdentity parameter is invalid: {reason}.", True
    )
    # HTTP 400 and the wording: Azure CLI issue 14776; soft-deleted items count too (azurerm issue 8351)
    VAULT_NOT_EMPTY = RefusalSpec(
        400,
        "ServiceResourceNotEmptyWithBackendMessage",
        "Vault cannot be deleted as there are existing resources within the vault: {items}. Stop "
        "protection and delete backup data for every item, unregister the containers, and retry.",
        True,
    )
    CMK_KEY_NOT_FOUND = RefusalSpec(
        400,
        "UserErrorKeyVaultKeyWasNotFound",
        "The key '{key}' was not found in its key vault. Check the key URI (and its version).",
        True,
    )
    CMK_VAULT_HAS_HISTORY = RefusalSpec(
        400,
        "UserErrorCMKEncryptionNotAllowedOnVaultWithItems",
        "Customer-managed key encryption can be enabled only on a vault that never had items "
        "protected or registered, even by a failed attempt; vault '{vault}' has {history}. Create a "
        "new vault, enable the key on it first, then protect items.",
        False,
    )
    CMK_REMOVAL = RefusalSpec(
        400,
        "UserErrorCMKEncryptionCannotBeDisabled",
        "Vault '{vault}' is encrypted with a customer-managed key; going back to platform-managed keys "
        "is not supported. You can change the key or key version instead.",
        False,
    )
    IDENTITY_NARROWED = RefusalSpec(
        400,
        "UserErrorManagedIdentityInUseForCMK",
        "Vault '{vault}' uses its managed identity for customer-managed key encryption; changing the "
        "identity type from '{old}' to '{new}' would disable it. Keep the identity enabled.",
        False,
    )
    CMK_IDENTITY_DETACH = RefusalSpec(
        400,
        "UserErrorManagedIdentityInUseForCMK",
        "The user-assigned identity '{identity}' is used for the vault's customer-managed key "
        "encryption and can't be removed from the vault. Switch encryption to another identity first.",
        False,
    )
    INFRA_ENCRYPTION_FIXED = RefusalSpec(
        400,
        "UserErrorInfrastructureEncryptionCannotBeChanged",
        "Infrastructure encryption of vault '{vault}' is '{old}' and can't be changed once set.",
        False,
    )
    SKU_FIXED_WITH_CMK = RefusalSpec(
        400,
        "UserErrorSkuChangeNotAllowedWithCMK",
        "The sku of vault '{vault}' can't change from '{old}' to '{new}' while customer-managed key "
        "encryption is on.",
        False,
    )
    IMMUTABILITY_LOCKED = RefusalSpec(
        400,
        "UserErrorImmutabilityLocked",
        "Immutability of vault '{vault}' is Locked, which is final; it can't be set to '{new}'.",
        False,
    )
    IMMUTABILITY_TRANSITION = RefusalSpec(
        400,
        "UserErrorImmutabilityStateTransitionNotAllowed",
        "Immutability of vault '{vault}' can't go from '{old}' to '{new}'; allowed moves are Disabled <-> "
        "Unlocked and Unlocked -> Locked (a new vault starts Disabled or Unlocked).",
        False,
    )
    CMK_KEY_DISABLED = RefusalSpec(
        400,
        "UserErrorCMKKeyNotEnabled",
        "The key '{key}' is disabled (or not yet valid). Enable the key version and retry.",
        False,
    )
    CMK_KEY_EXPIRED = RefusalSpec(
        400,
        "UserErrorCMKKeyExpired",
        "The key '{key}' expired at {expires}. Use a key version that has not expired.",
        False,
    )
    CMK_KEY_VAULT_NOT_RECOVERABLE = RefusalSpec(
        400,
        "UserErrorCMKKeyVaultNotRecoverable",
        "The key vault '{key_vault}' must have soft delete and purge protection enabled before its key can "
        "encrypt a Recovery Services vault; {missing}.",
        False,
    )
    CMK_KEY_REGION = RefusalSpec(
        400,
        "UserErrorCMKKeyVaultRegionMismatch",
        "The key vault '{key_vault}' is in '{kv_location}' but the Recovery Services vault is in "
        "'{location}'; the key must be in a key vault in the same region.",
        False,
    )
    CMK_UAI_NETWORK = RefusalSpec(
        400,
        "UserErrorCMKUserAssignedIdentityNetworkRestricted",
        "A user-assigned identity for customer-managed keys is not supported {reason}. Use the "
        "system-assigned identity, or {fix}.",
        False,
    )
    CMK_VAULT_MOVE = RefusalSpec(
        409,
        "ResourceMoveProviderValidationFailed",
        "Recovery Services vault '{vault}' is encrypted with a customer-managed key; moving it across "
        "resource groups or subscriptions is not supported.",
        True,
    )
    STORAGE_TYPE_LOCKED = RefusalSpec(
        400,
        "BMSUserErrorStorageTypeLocked",
        "The storage redundancy of vault '{vault}' can't change after items were protected.",
        False,
    )
    # Cross region restore can't be turned off once on: azurerm replaces the vault for that change
    # (terraform-provider-azurerm issue 20373, pull request 20406). What Azure answers a PATCH that
    # tries is not public: the code and the refusal are invented.
    CRR_FINAL = RefusalSpec(
        400,
        "BMSUserErrorCrossRegionRestoreCannotBeDisabled",
        "Cross region restore is on for vault '{vault}' and can't be turned off.",
        False,
    )
    CRR_NEEDS_GRS = RefusalSpec(
        400,
        "BMSUserErrorCrossRegionRestoreNeedsGeoRedundancy",
        "Cross region restore needs GeoRedundant storage; vault '{vault}' is '{storage}'.",
        False,
    )

    def error(self, **values) -> AzureError:
        spec = self.value
        # a quoted message that ends a sentence of its own ("... granting it.") doesn't end it twice
        values = {k: v.rstrip(".") if isinstance(v, str) else v for k, v in values.items()}
        return AzureError(spec.status, spec.code, spec.template.format(**values))


# Immutability moves Azure accepts (state -> states); a new vault starts in one of CREATE_IMMUTABILITY.
# Source: azurerm internal/services/recoveryservices/recovery_services_vault_resource.go ("The API
# doesn't allow to set the immutability to Locked on creation"; moves are Locked <- Unlocked <->
# Disabled), which creates Unlocked and PATCHes to Locked afterwards.
IMMUTABILITY_MOVES = {
    "Disabled": frozenset({"Disabled", "Unlocked"}),
    "Unlocked": frozenset({"Unlocked", "Disabled", "Locked"}),
    "Locked": frozenset({"Locked"}),
}
CREATE_IMMUTABILITY = frozenset({"Disabled", "Unlocked"})

RSA_KEY_TYPES = frozenset({"RSA", "RSA-HSM"})
RSA_KEY_SIZES = frozenset({2048, 3072, 4096})
CMK_PERMISSIONS = ("get", "wrapKey", "unwrapKey")


# ---------------------------------------------------------------------- identity helpers


def identity_types(identity: dict | None) -> frozenset[str]:
    kind = ((identity or {}).get("type") or "None").replace(" ", "")
    return frozenset(t for t in kind.split(",") if t and t.lower() != "none")


def encryption_of(vault: dict) -> dict | None:
    enc = (vault.get("properties") or {}).get("encryption")
    if not enc or not (enc.get("keyVaultProperties") or {}).get("keyUri"):
        return None
    return enc


def cmk_key_uri(vault: dict) -> str:
    """The key URI of a vault encrypted with a customer-managed key (callers know it is)."""
    enc = encryption_of(vault)
    if enc is None:
        raise ValueError(f"the vault {vault.get('name')} has no customer-managed key")
    return enc["keyVaultProperties"]["keyUri"]


# ---------------------------------------------------------------------- vault update checks


def check_vault_update(old: dict, new: dict) -> None:
    """Refuse an update that Azure refuses (the vault exists, ``new`` is the merged result)."""
    name = old["name"]
    old_enc, new_enc = encryption_of(old), encryption_of(new)
    if old_enc and not new_enc:
        raise Refusal.CMK_REMOVAL.error(vault=name)
    if old_enc and new_enc:  # an old encryption without a new one was refused above
        old_types, new_types = identity_types(old.get("identity")), identity_types(new.get("identity"))
        if old_types - new_types:
            raise Refusal.IDENTITY_NARROWED.error(
                vault=name, old=old["identity"]["type"], new=(new.get("identity") or {}).get("type", "None")
            )
        used = (old_enc.get("kekIdentity") or {}).get("userAssignedIdentity")
        attached = {k.lower() for k in ((new.get("identity") or {}).get("userAssignedIdentities") or {})}
        if used and used.lower() not in attached:
            raise Refusal.CMK_IDENTITY_DETACH.error(identity=used)
        old_sku, new_sku = (old.get("sku") or {}).get("name"), (new.get("sku") or {}).get("name")
        if old_sku and new_sku and old_sku.lower() != new_sku.lower():
            raise Refusal.SKU_FIXED_WITH_CMK.error(vault=name, old=old_sku, new=new_sku)
        old_infra = old_enc.get("infrastructureEncryption") or "Disabled"
        new_infra = new_enc.get("infrastructureEncryption") or old_infra
        if old_infra.lower() != new_infra.lower():
            raise Refusal.INFRA_ENCRYPTION_FIXED.error(vault=name, old=old_infra)
    check_immutability(name, immutability_state(old), immutability_state(new))


def check_immutability(name: str, old: str | None, new: str) -> None:
    """``old`` None means the vault is being created."""
    if old is None:
        if new not in CREATE_IMMUTABILITY:
            raise Refusal.IMMUTABILITY_TRANSITION.error(vault=name, old="(new vault)", new=new)
        return
    if new in IMMUTABILITY_MOVES[old]:
        return
    if old == "Locked":
        raise Refusal.IMMUTABILITY_LOCKED.error(vault=name, new=new)
    raise Refusal.IMMUTABILITY_TRANSITION.error(vault=name, old=old, new=new)


def immutability_state(vault: dict) -> str:
    settings = ((vault.get("properties") or {}).get("securitySettings") or {}).get(
        "immutabilitySettings"
    ) or {}
    return settings.get("state") or "Disabled"


def key_changed(old: dict | None, new: dict) -> bool:
    old_enc = encryption_of(old) if old else None
    new_enc = encryption_of(new)
    if not new_enc:
        return False
    if not old_enc:
        return True
    return old_enc["keyVaultProperties"]["keyUri"].lower() != new_enc["keyVaultProperties"][
        "keyUri"
    ].lower() or (old_enc.get("kekIdentity") or {}) != (new_enc.get("kekIdentity") or {})


def check_cmk_history(vault: dict, history: dict) -> None:
    """CMK only on a vault that never had items or registration attempts (failed ones count)."""
    items = bool(history.get("ever_had_items"))
    attempts = int(history.get("registration_attempts") or 0)
    if items or attempts:
        parts = []
        if items:
            parts.append("had protected items")
        if attempts:
            parts.append(f"{attempts} registration attempt(s)")
        raise Refusal.CMK_VAULT_HAS_HISTORY.error(vault=vault["name"], history=" and ".join(parts))


def cmk_identity_principal(vault: dict) -> tuple[str, bool]:
    """The principal id encryption will use and whether it is user-assigned."""
    enc = encryption_of(vault) or {}
    kek = enc.get("kekIdentity") or {}
    identity = vault.get("identity") or {}
    types = identity_types(identity)
    user_id = kek.get("userAssignedIdentity")
    use_system = kek.get("useSystemAssignedIdentity")
    if user_id:
        if use_system:
            raise Refusal.CMK_IDENTITY_INVALID.error(
                reason="useSystemAssignedIdentity must be false when userAssignedIdentity is set"
            )
        attached = {k.lower(): v for k, v in (identity.get("userAssignedIdentities") or {}).items()}
        if "UserAssigned" not in types or user_id.lower() not in attached:
            raise Refusal.CMK_IDENTITY_INVALID.error(
                reason=f"the user-assigned identity '{user_id}' is not attached to the vault; add it to "
                f"identity.userAssignedIdentities first"
            )
        return attached[user_id.lower()]["principalId"], True
    if use_system is False:
        raise Refusal.CMK_IDENTITY_INVALID.error(
            reason="set useSystemAssignedIdentity to true or name a userAssignedIdentity"
        )
    if "SystemAssigned" not in types or not identity.get("principalId"):
        raise Refusal.CMK_IDENTITY_INVALID.error(
            reason="the vault has no system-assigned identity; enable it before assigning the key"
        )
    return identity["principalId"], False


def check_key_shape(key, key_uri: str, location: str, now) -> None:
    """Type, size, state, expiry and region of the key (a keystore KeyInfo)."""
    if key.kty not in RSA_KEY_TYPES or (key.size or 0) not in RSA_KEY_SIZES:
        raise Refusal.CMK_KEY_UNSUPPORTED.error(key=key_uri, kty=key.kty, size=key.size or "")
    if not key.enabled or (key.not_before is not None and key.not_before > now):
        raise Refusal.CMK_KEY_DISABLED.error(key=key_uri)
    if key.expires is not None and key.expires <= now:
        raise Refusal.CMK_KEY_EXPIRED.error(key=key_uri, expires=key.expires.isoformat())
    if key.location and key.location.replace(" ", "").lower() != location.replace(" ", "").lower():
        raise Refusal.CMK_KEY_REGION.error(
            key_vault=key.vault_name, kv_location=key.location, location=location
        )


def check_key_vault_protection(key_vault: dict | None, name: str) -> None:
    props = (key_vault or {}).get("properties") or {}
    missing = [
        label
        for flag, label in (
            ("enableSoftDelete", "soft delete is off"),
            ("enablePurgeProtection", "purge protection is off"),
        )
        if not props.get(flag)
    ]
    if missing:
        raise Refusal.CMK_KEY_VAULT_NOT_RECOVERABLE.error(key_vault=name, missing=" and ".join(missing))


def check_user_identity_network(vault: dict, key_vault: dict | None) -> None:
    """User-assigned CMK identity: no private endpoints for Backup, no key vault that denies by default."""
    props = vault.get("properties") or {}
    if props.get("privateEndpointConnections") or props.get("privateEndpointStateForBackup") == "Enabled":
        raise Refusal.CMK_UAI_NETWORK.error(
            reason="on a vault with private endpoints for Backup", fix="remove the vault's private endpoints"
        )
    acls = ((key_vault or {}).get("properties") or {}).get("networkAcls") or {}
    if (acls.get("defaultAction") or "Allow").lower() == "deny":
        raise Refusal.CMK_UAI_NETWORK.error(
            reason="with a key vault whose network rules deny by default",
            fix="set the key vault's network default action to Allow",
        )


def check_vault_move(vault: dict) -> None:
    if encryption_of(vault):
        raise Refusal.CMK_VAULT_MOVE.error(vault=vault["name"])

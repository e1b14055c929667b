"""Key Vault access policies: the permission vocabularies and azurerm_key_vault_access_policy.

The same permission attributes serve the inline ``access_policy`` blocks of
azurerm_key_vault. Spelling is azurerm's (PascalCase); like azurerm, the
configuration must use that spelling, and values read back from Azure are matched
without regard to case (``normalize_block(..., all_enums=True)``).
"""

from __future__ import annotations

from providers.schema import STRING, Attribute, BlockSchema, Mode, ResourceSchema, list_of

from .common import (
    KEY_VAULT_ID_HINT,
    KEY_VAULT_ID_PATTERN,
    UUID_PATTERN,
    id_attribute,
    uuid_attribute,
)

KEY_PERMISSIONS = (
    "Backup",
    "Create",
    "Decrypt",
    "Delete",
    "Encrypt",
    "Get",
    "Import",
    "List",
    "Purge",
    "Recover",
    "Restore",
    "Sign",
    "UnwrapKey",
    "Update",
    "Verify",
    "WrapKey",
    "Release",
    "Rotate",
    "GetRotationPolicy",
    "SetRotationPolicy",
)
SECRET_PERMISSIONS = ("Backup", "Delete", "Get", "List", "Purge", "Recover", "Restore", "Set")
CERTIFICATE_PERMISSIONS = (
    "Backup",
    "Create",
    "Delete",
    "DeleteIssuers",
    "Get",
    "GetIssuers",
    "Import",
    "List",
    "ListIssuers",
    "ManageContacts",
    "ManageIssuers",
    "Purge",
    "Recover",
    "Restore",
    "SetIssuers",
    "Update",
)
STORAGE_PERMISSIONS = (
    "Backup",
    "Delete",
    "DeleteSAS",
    "Get",
    "GetSAS",
    "List",
    "ListSAS",
    "Purge",
    "Recover",
    "RegenerateKey",
    "Restore",
    "Set",
    "SetSAS",
    "Update",
)


def permission_attributes() -> tuple[Attribute, ...]:
    """The four permission lists (keys are what CMK needs; the others are accepted unreconciled)."""
    return (
        Attribute(
            "key_permissions",
            list_of(STRING),
            optional=True,
            enum=KEY_PERMISSIONS,
            description="Operations the principal may perform on keys; CMK needs Get, List, "
            "WrapKey and UnwrapKey.",
        ),
        Attribute(
            "secret_permissions",
            list_of(STRING),
            optional=True,
            enum=SECRET_PERMISSIONS,
            description="Operations the principal may perform on secrets.",
        ),
        Attribute(
            "certificate_permissions",
            list_of(STRING),
            optional=True,
            enum=CERTIFICATE_PERMISSIONS,
            description="Operations the principal may perform on certificates.",
        ),
        Attribute(
            "storage_permissions",
            list_of(STRING),
            optional=True,
            enum=STORAGE_PERMISSIONS,
            description="Operations the principal may perform on managed storage accounts.",
        ),
    )


def policy_identity_attributes(*, force_new: bool) -> tuple[Attribute, ...]:
    """tenant_id, object_id and application_id of an access policy entry."""
    return (
        uuid_attribute(
            "tenant_id",
            "The Entra ID tenant of the principal; must match the vault's.",
            required=True,
            force_new=force_new,
        ),
        uuid_attribute(
            "object_id",
            "The object id of the user, group or service principal "
            "(for a vault's managed identity: its principal_id).",
            required=True,
            force_new=force_new,
        ),
        Attribute(
            "application_id",
            STRING,
            optional=True,
            force_new=force_new,
            pattern=f"({UUID_PATTERN})?",
            pattern_hint="a UUID, or empty",
            description="For compound identities: the application acting for the user.",
        ),
    )


KEY_VAULT_ACCESS_POLICY = ResourceSchema(
    type_name="azurerm_key_vault_access_policy",
    mode=Mode.MANAGED,
    description="One access policy entry on a key vault, managed on its own.",
    import_id_hint=(
        "/subscriptions/{subscription_id}/resourceGroups/{group}/providers/"
        "Microsoft.KeyVault/vaults/{vault}/objectId/{object_id}"
    ),
    block=BlockSchema(
        attributes=(
            Attribute(
                "key_vault_id",
                STRING,
                required=True,
                force_new=True,
                pattern=KEY_VAULT_ID_PATTERN,
                pattern_hint=KEY_VAULT_ID_HINT,
                description="The key vault that holds the policy; changing it creates a new policy.",
            ),
            *policy_identity_attributes(force_new=True),
            *permission_attributes(),
            id_attribute("The policy id: the key vault id followed by /objectId/{object_id}."),
        )
    ),
)

RESOURCES = (KEY_VAULT_ACCESS_POLICY,)

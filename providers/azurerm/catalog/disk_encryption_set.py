"""azurerm_disk_encryption_set: encrypts disks restored from a CMK vault with a customer key.

``auto_key_rotation_enabled`` true needs a versionless key id and false a versioned
one; that pairing is a domain rule (it spans two attributes), not a schema check.
"""

from __future__ import annotations

from providers.schema import BOOL, STRING, Attribute, BlockSchema, Mode, ResourceSchema

from .common import (
    KEY_ID_HINT,
    KEY_ID_PATTERN,
    computed,
    id_attribute,
    location_attribute,
    managed_identity_block,
    name_attribute,
    resource_group_name_attribute,
    tags_attribute,
)

DES_NAME_PATTERN = r"[a-zA-Z0-9_-]{1,80}"
DES_NAME_HINT = "1 to 80 letters, digits, underscores and hyphens"
ENCRYPTION_TYPES = (
    "EncryptionAtRestWithCustomerKey",
    "EncryptionAtRestWithPlatformAndCustomerKeys",
    "ConfidentialVmEncryptedWithCustomerKey",
)

DISK_ENCRYPTION_SET = ResourceSchema(
    type_name="azurerm_disk_encryption_set",
    mode=Mode.MANAGED,
    description="A disk encryption set: the customer key used for managed disks (e.g. restored ones).",
    import_id_hint=(
        "/subscriptions/{subscription_id}/resourceGroups/{group}"
        "/providers/Microsoft.Compute/diskEncryptionSets/{name}"
    ),
    block=BlockSchema(
        attributes=(
            name_attribute(DES_NAME_PATTERN, DES_NAME_HINT, "The set's name; changing it creates a new set."),
            location_attribute(),
            resource_group_name_attribute(),
            Attribute(
                "key_vault_key_id",
                STRING,
                optional=True,
                pattern=KEY_ID_PATTERN,
                pattern_hint=KEY_ID_HINT,
                description="The Key Vault key; versionless when auto_key_rotation_enabled is true, "
                "versioned otherwise.",
            ),
            Attribute(
                "managed_hsm_key_id",
                STRING,
                optional=True,
                description="A Managed HSM key instead of a Key Vault key.",
            ),
            Attribute(
                "auto_key_rotation_enabled",
                BOOL,
                optional=True,
                default=False,
                description="Follow new key versions automatically.",
            ),
            Attribute(
                "encryption_type",
                STRING,
                optional=True,
                force_new=True,
                default="EncryptionAtRestWithCustomerKey",
                enum=ENCRYPTION_TYPES,
                description="Which encryption the set provides; changing it creates a new set.",
            ),
            Attribute(
                "federated_client_id",
                STRING,
                optional=True,
                description="Multi-tenant application used to reach a key in another tenant.",
            ),
            tags_attribute(),
            id_attribute("The set's Azure resource id."),
            computed("key_vault_key_url", "The key URL the set currently uses."),
        ),
        blocks=(
            managed_identity_block(required=True, description="The identity the set uses to reach the key."),
        ),
        exactly_one_of=(("key_vault_key_id", "managed_hsm_key_id"),),
    ),
)

RESOURCES = (DISK_ENCRYPTION_SET,)

"""azurerm_recovery_services_vault: the Backup vault whose data the customer-managed key protects.

CMK lives in the ``encryption`` block and needs the vault's managed ``identity``.
Attribute-local refusals are declared here as change rules: encryption can't be
removed (R1), infrastructure encryption can't change (R10), immutability Locked is
final (R10). Cross-attribute rules (R2, R3, R6, R8, sku under CMK...) belong to the
domain rules, which read these same names.
"""

from __future__ import annotations

from providers.schema import (
    BOOL,
    STRING,
    Attribute,
    BlockSchema,
    ChangeKind,
    ChangeRule,
    Mode,
    NestedBlock,
    Nesting,
    ResourceSchema,
)

from .common import (
    KEY_ID_HINT,
    KEY_ID_PATTERN,
    USER_ASSIGNED_IDENTITY_ID_HINT,
    USER_ASSIGNED_IDENTITY_ID_PATTERN,
    id_attribute,
    location_attribute,
    managed_identity_block,
    name_attribute,
    resource_group_name_attribute,
    tags_attribute,
)

# 2-50 characters: starts with a letter; letters, digits and hyphens.
RECOVERY_VAULT_NAME_PATTERN = r"[a-zA-Z][-a-zA-Z0-9]{1,49}"
RECOVERY_VAULT_NAME_HINT = "2 to 50 letters, digits and hyphens, starting with a letter"

STORAGE_MODE_TYPES = ("GeoRedundant", "LocallyRedundant", "ZoneRedundant")
IMMUTABILITY_STATES = ("Disabled", "Unlocked", "Locked")

ENCRYPTION_NOT_REMOVABLE = ChangeRule(
    ChangeKind.ONE_WAY,
    "R1",
    "A vault encrypted with a customer-managed key can't go back to platform-managed keys; "
    "change the key instead of removing the encryption block.",
    value=None,
)
INFRASTRUCTURE_ENCRYPTION_FIXED = ChangeRule(
    ChangeKind.FIXED_ONCE_SET,
    "R10",
    "Infrastructure (double) encryption is chosen once, when CMK is first configured.",
)
IMMUTABILITY_LOCKED_FINAL = ChangeRule(
    ChangeKind.FINAL_VALUE,
    "R10",
    "A vault whose immutability is Locked stays Locked; Azure offers no way back.",
    value="Locked",
)

CROSS_REGION_RESTORE_FINAL = ChangeRule(
    ChangeKind.FINAL_VALUE,
    "R10",
    "Cross region restore, once on, stays on: Azure offers no way to turn it off (azurerm replaces "
    "the vault instead - terraform-provider-azurerm issue 20373, pull request 20406).",
    value=True,
)

ENCRYPTION_BLOCK = NestedBlock(
    "encryption",
    BlockSchema(
        attributes=(
            Attribute(
                "key_id",
                STRING,
                required=True,
                pattern=KEY_ID_PATTERN,
                pattern_hint=KEY_ID_HINT,
                description="The Key Vault key that wraps the vault's data encryption key; a "
                "versionless id follows rotations, a versioned one pins the key.",
            ),
            Attribute(
                "infrastructure_encryption_enabled",
                BOOL,
                required=True,
                change_rule=INFRASTRUCTURE_ENCRYPTION_FIXED,
                description="Add a second, platform-managed encryption layer; fixed once set.",
            ),
            Attribute(
                "use_system_assigned_identity",
                BOOL,
                optional=True,
                default=True,
                description="Reach the key with the vault's system-assigned identity; must be "
                "false when user_assigned_identity_id is set.",
            ),
            Attribute(
                "user_assigned_identity_id",
                STRING,
                optional=True,
                pattern=USER_ASSIGNED_IDENTITY_ID_PATTERN,
                pattern_hint=USER_ASSIGNED_IDENTITY_ID_HINT,
                description="Reach the key with this user-assigned identity; it must also be "
                "listed in identity.identity_ids.",
            ),
        )
    ),
    nesting=Nesting.LIST,
    max_items=1,
    change_rule=ENCRYPTION_NOT_REMOVABLE,
    description="Customer-managed key encryption of the backup data.",
    # applied as its own step after the vault exists with its identity and after the grants
    # and key vault protections (DOMAIN.md O1-O5): the key assignment
    phase="encryption",
)

MONITORING_BLOCK = NestedBlock(
    "monitoring",
    BlockSchema(
        attributes=tuple(
            Attribute(name, BOOL, optional=True, description=text)
            for name, text in (
                ("alerts_for_all_job_failures_enabled", "Built-in Azure Monitor alerts for job failures."),
                ("alerts_for_critical_operation_failures_enabled", "Classic alerts for critical operations."),
                ("alerts_for_all_failover_issues_enabled", "Built-in alerts for failover issues."),
                ("alerts_for_all_replication_issues_enabled", "Built-in alerts for replication issues."),
                ("email_notifications_for_site_recovery_enabled", "E-mail notices for Site Recovery."),
            )
        )
    ),
    nesting=Nesting.LIST,
    max_items=1,
    description="Alert settings of the vault.",
)

RECOVERY_SERVICES_VAULT = ResourceSchema(
    type_name="azurerm_recovery_services_vault",
    mode=Mode.MANAGED,
    description="A Recovery Services vault that stores VM backups, optionally encrypted with a CMK.",
    import_id_hint=(
        "/subscriptions/{subscription_id}/resourceGroups/{group}"
        "/providers/Microsoft.RecoveryServices/vaults/{name}"
    ),
    block=BlockSchema(
        attributes=(
            name_attribute(
                RECOVERY_VAULT_NAME_PATTERN,
                RECOVERY_VAULT_NAME_HINT,
                "The vault name; changing it creates a new vault.",
            ),
            location_attribute(),
            resource_group_name_attribute(
                "The vault's resource group. A CMK vault can't move to another group (R2)."
            ),
            Attribute(
                "sku",
                STRING,
                required=True,
                enum=("RS0", "Standard"),
                description="The vault tier; it can't change while CMK is on.",
            ),
            Attribute(
                "public_network_access_enabled",
                BOOL,
                optional=True,
                default=True,
                description="Whether the vault is reachable from public networks.",
            ),
            Attribute(
                "immutability",
                STRING,
                optional=True,
                computed=True,
                enum=IMMUTABILITY_STATES,
                change_rule=IMMUTABILITY_LOCKED_FINAL,
                description="Whether recovery points are protected from early deletion; Locked is final.",
            ),
            Attribute(
                "storage_mode_type",
                STRING,
                optional=True,
                default="GeoRedundant",
                enum=STORAGE_MODE_TYPES,
                description="How backup storage is replicated.",
            ),
            Attribute(
                "cross_region_restore_enabled",
                BOOL,
                optional=True,
                default=False,
                change_rule=CROSS_REGION_RESTORE_FINAL,
                description="Restore in the paired region; needs GeoRedundant storage. Once on, it stays on.",
            ),
            Attribute(
                "soft_delete_enabled",
                BOOL,
                optional=True,
                default=True,
                description="Keep deleted backup data recoverable for 14 days.",
            ),
            Attribute(
                "classic_vmware_replication_enabled",
                BOOL,
                optional=True,
                force_new=True,
                description="Use the classic experience for VMware replication (Site Recovery).",
            ),
            tags_attribute(),
            id_attribute("The vault's Azure resource id."),
        ),
        blocks=(
            managed_identity_block(
                required=False,
                description="The vault's managed identity; CMK needs one, and once on it must never "
                "be turned off (R6).",
            ),
            ENCRYPTION_BLOCK,
            MONITORING_BLOCK,
        ),
        required_with=(("encryption", ("identity",)),),
    ),
)

RESOURCES = (RECOVERY_SERVICES_VAULT,)

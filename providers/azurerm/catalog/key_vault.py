"""azurerm_key_vault: the vault that holds the customer-managed key.

What matters for CMK: soft delete (always on for new vaults), purge protection
(one-way), the retention days (fixed once set), who may use the key (inline
access policies or RBAC) and the network rules (R9).
"""

from __future__ import annotations

from providers.schema import (
    BOOL,
    NUMBER,
    STRING,
    Attribute,
    BlockSchema,
    ChangeKind,
    ChangeRule,
    Mode,
    NestedBlock,
    Nesting,
    ResourceSchema,
    set_of,
)

from .access_policy import permission_attributes, policy_identity_attributes
from .common import (
    computed,
    id_attribute,
    location_attribute,
    name_attribute,
    resource_group_name_attribute,
    tags_attribute,
    uuid_attribute,
)

# 3-24 characters: letters, digits and hyphens; starts with a letter, ends with a letter
# or digit, and never has two hyphens in a row.
KEY_VAULT_NAME_PATTERN = r"(?!.*--)[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]"
KEY_VAULT_NAME_HINT = (
    "3 to 24 letters, digits and hyphens, starting with a letter, ending with a letter or digit, "
    "without consecutive hyphens (key vault names are globally unique)"
)

PURGE_PROTECTION_ONE_WAY = ChangeRule(
    ChangeKind.ONE_WAY,
    "R10",
    "Purge protection can't be turned off once it is on; Azure keeps it for the life of the vault.",
    value=False,
)
RETENTION_FIXED = ChangeRule(
    ChangeKind.FIXED_ONCE_SET,
    "R10",
    "The soft-delete retention period is set when the vault is created and can't change afterwards.",
)

ACCESS_POLICY_BLOCK = NestedBlock(
    "access_policy",
    BlockSchema(attributes=(*policy_identity_attributes(force_new=False), *permission_attributes())),
    nesting=Nesting.LIST,
    max_items=1024,
    computed=True,
    attribute_syntax=True,  # ConfigModeAttr in azurerm's key_vault_resource.go
    description="Inline access policies. Don't mix them with azurerm_key_vault_access_policy "
    "resources on the same vault; each would undo the other.",
)

NETWORK_ACLS_BLOCK = NestedBlock(
    "network_acls",
    BlockSchema(
        attributes=(
            Attribute(
                "default_action",
                STRING,
                required=True,
                enum=("Allow", "Deny"),
                description="What happens to traffic no rule matches. Deny also blocks a "
                "user-assigned identity used for Backup CMK (R9).",
            ),
            Attribute(
                "bypass",
                STRING,
                required=True,
                enum=("AzureServices", "None"),
                description="Whether trusted Azure services (Backup among them) pass the rules.",
            ),
            Attribute(
                "ip_rules",
                set_of(STRING),
                optional=True,
                pattern=r"\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?",
                pattern_hint="an IPv4 address or CIDR block such as 203.0.113.0/24",
                description="Addresses or CIDR blocks allowed in.",
            ),
            Attribute(
                "virtual_network_subnet_ids",
                set_of(STRING),
                optional=True,
                description="Subnet ids allowed in.",
            ),
        )
    ),
    nesting=Nesting.LIST,
    max_items=1,
    computed=True,
    description="Network rules of the vault's data plane.",
)

CONTACT_BLOCK = NestedBlock(
    "contact",
    BlockSchema(
        attributes=(
            Attribute("email", STRING, required=True, description="E-mail address of the contact."),
            Attribute("name", STRING, optional=True, description="Name of the contact."),
            Attribute("phone", STRING, optional=True, description="Phone number of the contact."),
        )
    ),
    nesting=Nesting.SET,
    description="The vault's certificate contacts, set on its data plane (the caller needs the "
    "certificate permission ManageContacts); leaving the blocks out removes them. azurerm 4 deprecated "
    "the block for azurerm_key_vault_certificate_contacts, and 5.0 removed it.",
)

KEY_VAULT = ResourceSchema(
    type_name="azurerm_key_vault",
    mode=Mode.MANAGED,
    description="An Azure Key Vault; it must have soft delete and purge protection to hold a CMK.",
    import_id_hint=(
        "/subscriptions/{subscription_id}/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/{name}"
    ),
    block=BlockSchema(
        attributes=(
            name_attribute(
                KEY_VAULT_NAME_PATTERN,
                KEY_VAULT_NAME_HINT,
                "The vault name; changing it creates a new vault.",
            ),
            location_attribute(),
            resource_group_name_attribute(),
            Attribute(
                "sku_name",
                STRING,
                required=True,
                enum=("standard", "premium"),
                description="The pricing tier; premium adds HSM-backed keys.",
            ),
            uuid_attribute(
                "tenant_id", "The Entra ID tenant that authenticates requests to the vault.", required=True
            ),
            Attribute(
                "enabled_for_deployment",
                BOOL,
                optional=True,
                description="Whether virtual machines may read certificates stored as secrets.",
            ),
            Attribute(
                "enabled_for_disk_encryption",
                BOOL,
                optional=True,
                description="Whether Azure Disk Encryption may read secrets and unwrap keys.",
            ),
            Attribute(
                "enabled_for_template_deployment",
                BOOL,
                optional=True,
                description="Whether Resource Manager deployments may read secrets.",
            ),
            Attribute(
                "rbac_authorization_enabled",
                BOOL,
                optional=True,
                computed=True,
                conflicts_with=("enable_rbac_authorization",),
                description="Whether data-plane access is decided by Azure RBAC role assignments "
                "instead of access policies.",
            ),
            Attribute(
                "enable_rbac_authorization",
                BOOL,
                optional=True,
                computed=True,
                conflicts_with=("rbac_authorization_enabled",),
                deprecated="enable_rbac_authorization is the old name of rbac_authorization_enabled; "
                "use rbac_authorization_enabled.",
                # azurerm 4.42.0 added rbac_authorization_enabled and deprecated this name
                # (Azure/terraform-azurerm-avm-res-keyvault-vault issue 254, PR 329)
                deprecated_since="4.42.0",
                description="Former name of rbac_authorization_enabled.",
            ),
            Attribute(
                "public_network_access_enabled",
                BOOL,
                optional=True,
                description="Whether the vault accepts traffic from public networks.",
            ),
            Attribute(
                "purge_protection_enabled",
                BOOL,
                optional=True,
                default=False,
                change_rule=PURGE_PROTECTION_ONE_WAY,
                description="Whether deleted vaults and keys are kept until the retention period "
                "ends. Required for CMK (R5); can never be turned off (R10).",
            ),
            Attribute(
                "soft_delete_retention_days",
                NUMBER,
                optional=True,
                default=90,
                min_value=7,
                max_value=90,
                change_rule=RETENTION_FIXED,
                description="Days a deleted vault or key is recoverable (7 to 90); fixed once set.",
            ),
            tags_attribute(),
            id_attribute("The key vault's Azure resource id."),
            computed("vault_uri", "The data-plane URI, https://{name}.vault.azure.net/."),
        ),
        blocks=(ACCESS_POLICY_BLOCK, NETWORK_ACLS_BLOCK, CONTACT_BLOCK),
    ),
)

RESOURCES = (KEY_VAULT,)

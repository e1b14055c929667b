"""The azurerm data sources vaultform reads: lookups with a few required arguments
and everything else computed."""

from __future__ import annotations

from providers.schema import (
    BOOL,
    NUMBER,
    STRING,
    Attribute,
    BlockSchema,
    Mode,
    NestedBlock,
    Nesting,
    ResourceSchema,
    list_of,
    map_of,
    set_of,
)

from .common import (
    KEY_VAULT_ID_HINT,
    KEY_VAULT_ID_PATTERN,
    RESOURCE_GROUP_NAME_HINT,
    RESOURCE_GROUP_NAME_PATTERN,
    computed,
)


def _required(name: str, description: str, pattern: str | None = None, hint: str = "") -> Attribute:
    return Attribute(name, STRING, required=True, pattern=pattern, pattern_hint=hint, description=description)


def _rg() -> Attribute:
    return _required(
        "resource_group_name",
        "The resource group to look in.",
        RESOURCE_GROUP_NAME_PATTERN,
        RESOURCE_GROUP_NAME_HINT,
    )


def _computed_block(name: str, description: str, *attrs: Attribute) -> NestedBlock:
    return NestedBlock(
        name, BlockSchema(attributes=attrs), nesting=Nesting.LIST, computed=True, description=description
    )


def _tags() -> Attribute:
    return computed("tags", "The object's tags.", map_of(STRING))


def _data(
    type_name: str, description: str, attrs: tuple[Attribute, ...], blocks: tuple[NestedBlock, ...] = ()
) -> ResourceSchema:
    return ResourceSchema(
        type_name=type_name,
        mode=Mode.DATA,
        description=description,
        block=BlockSchema(attributes=attrs, blocks=blocks),
    )


CLIENT_CONFIG = _data(
    "azurerm_client_config",
    "Who vaultform runs as: tenant, subscription and principal.",
    (
        computed("client_id", "The application (client) id of the caller."),
        computed("tenant_id", "The caller's tenant."),
        computed("subscription_id", "The subscription in use."),
        computed("object_id", "The caller's object id, e.g. for an access policy."),
        computed("id", "An id for this lookup."),
    ),
)

RESOURCE_GROUP = _data(
    "azurerm_resource_group",
    "An existing resource group.",
    (
        _required(
            "name", "The resource group's name.", RESOURCE_GROUP_NAME_PATTERN, RESOURCE_GROUP_NAME_HINT
        ),
        computed("location", "The group's region."),
        computed("managed_by", "The id of the resource managing the group, if any."),
        _tags(),
        computed("id", "The group's Azure resource id."),
    ),
)

KEY_VAULT = _data(
    "azurerm_key_vault",
    "An existing key vault, e.g. one a security team owns.",
    (
        _required("name", "The key vault's name."),
        _rg(),
        computed("location", "The vault's region."),
        computed("tenant_id", "The vault's tenant."),
        computed("sku_name", "standard or premium."),
        computed("enabled_for_deployment", "Whether VMs may read certificates.", BOOL),
        computed("enabled_for_disk_encryption", "Whether Azure Disk Encryption may use it.", BOOL),
        computed("enabled_for_template_deployment", "Whether deployments may read secrets.", BOOL),
        computed("rbac_authorization_enabled", "Whether RBAC decides data-plane access.", BOOL),
        computed("enable_rbac_authorization", "Former name of rbac_authorization_enabled.", BOOL),
        computed("public_network_access_enabled", "Whether public networks may reach it.", BOOL),
        computed("purge_protection_enabled", "Whether purge protection is on.", BOOL),
        computed("soft_delete_retention_days", "Days deleted objects stay recoverable.", NUMBER),
        computed("vault_uri", "The data-plane URI."),
        _tags(),
        computed("id", "The vault's Azure resource id."),
    ),
    (
        _computed_block(
            "access_policy",
            "The vault's access policies.",
            computed("tenant_id", "Tenant of the principal."),
            computed("object_id", "Object id of the principal."),
            computed("application_id", "Application of a compound identity."),
            computed("key_permissions", "Key permissions.", list_of(STRING)),
            computed("secret_permissions", "Secret permissions.", list_of(STRING)),
            computed("certificate_permissions", "Certificate permissions.", list_of(STRING)),
            computed("storage_permissions", "Storage permissions.", list_of(STRING)),
        ),
        _computed_block(
            "network_acls",
            "The vault's network rules.",
            computed("default_action", "Allow or Deny."),
            computed("bypass", "AzureServices or None."),
            computed("ip_rules", "Allowed addresses.", set_of(STRING)),
            computed("virtual_network_subnet_ids", "Allowed subnets.", set_of(STRING)),
        ),
    ),
)

KEY_VAULT_KEY = _data(
    "azurerm_key_vault_key",
    "An existing key, e.g. a CMK a security team rotates.",
    (
        _required("name", "The key's name."),
        _required("key_vault_id", "The key vault holding the key.", KEY_VAULT_ID_PATTERN, KEY_VAULT_ID_HINT),
        computed("key_type", "RSA, RSA-HSM, EC or EC-HSM."),
        computed("key_size", "RSA modulus size in bits.", NUMBER),
        computed("key_opts", "Operations the key allows.", list_of(STRING)),
        computed("curve", "Elliptic curve of an EC key."),
        computed("version", "The current version."),
        computed("versionless_id", "The key id without version."),
        computed("resource_id", "The key's Resource Manager id (versioned)."),
        computed("resource_versionless_id", "The key's Resource Manager id without version."),
        computed("n", "RSA modulus, base64url."),
        computed("e", "RSA public exponent, base64url."),
        computed("x", "EC x coordinate, base64url."),
        computed("y", "EC y coordinate, base64url."),
        computed("public_key_pem", "The public key in PEM form."),
        computed("public_key_openssh", "The public key in OpenSSH form."),
        _tags(),
        computed("id", "The versioned key id."),
    ),
)

USER_ASSIGNED_IDENTITY = _data(
    "azurerm_user_assigned_identity",
    "An existing user-assigned managed identity.",
    (
        _required("name", "The identity's name."),
        _rg(),
        computed("location", "The identity's region."),
        computed("principal_id", "Object id of the identity's service principal."),
        computed("client_id", "Application (client) id of the identity."),
        computed("tenant_id", "The identity's tenant."),
        _tags(),
        computed("id", "The identity's Azure resource id."),
    ),
)

VIRTUAL_MACHINE = _data(
    "azurerm_virtual_machine",
    "An existing virtual machine to protect with backups.",
    (
        _required("name", "The virtual machine's name."),
        _rg(),
        computed("location", "The machine's region."),
        computed("power_state", "running, stopped, deallocated..."),
        computed("private_ip_address", "The primary private address."),
        computed("private_ip_addresses", "All private addresses.", list_of(STRING)),
        computed("public_ip_address", "The primary public address."),
        computed("public_ip_addresses", "All public addresses.", list_of(STRING)),
        computed("id", "The machine's Azure resource id."),
    ),
    (
        _computed_block(
            "identity",
            "The machine's managed identity.",
            computed("type", "Which managed identities the machine has."),
            computed("identity_ids", "User-assigned identity ids.", list_of(STRING)),
            computed("principal_id", "Object id of the system-assigned identity."),
            computed("tenant_id", "Tenant of the system-assigned identity."),
        ),
    ),
)

DATA_SOURCES = (
    CLIENT_CONFIG,
    RESOURCE_GROUP,
    KEY_VAULT,
    KEY_VAULT_KEY,
    USER_ASSIGNED_IDENTITY,
    VIRTUAL_MACHINE,
)

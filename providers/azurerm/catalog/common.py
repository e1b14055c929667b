"""Building blocks shared by the azurerm catalog modules.

Names, patterns and the small attribute factories every Azure resource repeats
(name, location, resource group, tags, id, managed identity blocks). Patterns are
full-match regular expressions; ``(?i)`` marks the ARM id shapes Azure compares
without regard to case.
"""

from __future__ import annotations

from providers.schema import (
    STRING,
    Attribute,
    BlockSchema,
    NestedBlock,
    Nesting,
    map_of,
    set_of,
)

# --------------------------------------------------------------------------- patterns

UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
UUID_HINT = "a UUID such as 00000000-0000-0000-0000-000000000000"

# 1-90 characters: letters (any script), digits, underscores, hyphens, periods and
# parentheses; it may not end with a period.
RESOURCE_GROUP_NAME_PATTERN = r"[-\w.()]{0,89}[-\w()]"
RESOURCE_GROUP_NAME_HINT = (
    "1 to 90 letters, digits, underscores, hyphens, periods or parentheses, not ending with a period"
)

_SUB = r"/subscriptions/[^/]+"
_RG = _SUB + r"/resourceGroups/[^/]+"


def arm_id_pattern(provider_path: str) -> str:
    """A case-insensitive pattern for ``/subscriptions/…/resourceGroups/…/providers/<provider_path>``.

    ``provider_path`` holds the namespace and type segments with ``{}`` for each name,
    e.g. ``"Microsoft.KeyVault/vaults/{}"``.
    """
    return "(?i)" + _RG + "/providers/" + provider_path.replace(".", r"\.").replace("{}", "[^/]+")


RESOURCE_GROUP_ID_PATTERN = "(?i)" + _RG
ANY_ARM_ID_PATTERN = "(?i)/subscriptions/[^/]+(/.+)?|/providers/.+"
ANY_ARM_ID_HINT = "an Azure resource id starting with /subscriptions/ (or /providers/ for tenant scopes)"

KEY_VAULT_ID_PATTERN = arm_id_pattern("Microsoft.KeyVault/vaults/{}")
KEY_VAULT_ID_HINT = (
    "a key vault resource id: /subscriptions/{subscription}/resourceGroups/{group}"
    "/providers/Microsoft.KeyVault/vaults/{name}"
)
USER_ASSIGNED_IDENTITY_ID_PATTERN = arm_id_pattern("Microsoft.ManagedIdentity/userAssignedIdentities/{}")
USER_ASSIGNED_IDENTITY_ID_HINT = (
    "a user-assigned identity resource id: /subscriptions/{subscription}/resourceGroups/{group}"
    "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
)
VIRTUAL_MACHINE_ID_PATTERN = arm_id_pattern("Microsoft.Compute/virtualMachines/{}")
VIRTUAL_MACHINE_ID_HINT = (
    "a virtual machine resource id: /subscriptions/{subscription}/resourceGroups/{group}"
    "/providers/Microsoft.Compute/virtualMachines/{name}"
)
BACKUP_POLICY_ID_PATTERN = arm_id_pattern("Microsoft.RecoveryServices/vaults/{}/backupPolicies/{}")
BACKUP_POLICY_ID_HINT = (
    "a backup policy id: /subscriptions/{subscription}/resourceGroups/{group}"
    "/providers/Microsoft.RecoveryServices/vaults/{vault}/backupPolicies/{policy}"
)

# Key Vault (or Managed HSM) key ids: https://{host}/keys/{name}[/{32-hex version}]
VERSIONED_KEY_ID_PATTERN = r"(?i)https://[^/]+/keys/[0-9a-zA-Z-]{1,127}/[0-9a-f]{32}"
KEY_ID_PATTERN = r"(?i)https://[^/]+/keys/[0-9a-zA-Z-]{1,127}(/[0-9a-f]{32})?/?"
KEY_ID_HINT = (
    "a key id such as https://{vault}.vault.azure.net/keys/{name} (versionless) or "
    "https://{vault}.vault.azure.net/keys/{name}/{32-hex version} (versioned)"
)

# RFC 3339 timestamp, e.g. 2030-12-31T23:59:59Z
RFC3339_PATTERN = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})"
RFC3339_HINT = "an RFC 3339 timestamp such as 2030-12-31T23:59:59Z"

# ISO 8601 duration, e.g. P30D, P1Y2M, PT12H
ISO8601_DURATION_PATTERN = r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?"
ISO8601_DURATION_HINT = "an ISO 8601 duration such as P30D, P1Y or P90D"

DAYS_OF_WEEK = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKS_OF_MONTH = ("First", "Second", "Third", "Fourth", "Last")

IDENTITY_TYPES = ("SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned")

# --------------------------------------------------------------------------- factories


def computed(name: str, description: str, type_=STRING, *, sensitive: bool = False) -> Attribute:
    """An attribute only the provider sets."""
    return Attribute(name, type_, computed=True, sensitive=sensitive, description=description)


def id_attribute(description: str = "The Azure resource id of the object.") -> Attribute:
    return computed("id", description)


def name_attribute(pattern: str, hint: str, description: str, *, force_new: bool = True) -> Attribute:
    return Attribute(
        "name",
        STRING,
        required=True,
        force_new=force_new,
        pattern=pattern,
        pattern_hint=hint,
        description=description,
    )


def location_attribute(description: str = "The Azure region; changing it creates a new object.") -> Attribute:
    return Attribute(
        "location",
        STRING,
        required=True,
        force_new=True,
        min_length=1,
        fold="location",
        description=description,
    )


def resource_group_name_attribute(
    description: str = "The resource group that holds the object; changing it creates a new object.",
) -> Attribute:
    return Attribute(
        "resource_group_name",
        STRING,
        required=True,
        force_new=True,
        pattern=RESOURCE_GROUP_NAME_PATTERN,
        pattern_hint=RESOURCE_GROUP_NAME_HINT,
        description=description,
    )


def tags_attribute() -> Attribute:
    return Attribute(
        "tags",
        map_of(STRING),
        optional=True,
        description="Free-form name/value labels kept on the Azure object.",
    )


def uuid_attribute(
    name: str,
    description: str,
    *,
    required: bool = False,
    optional: bool = False,
    computed_: bool = False,
    force_new: bool = False,
) -> Attribute:
    return Attribute(
        name,
        STRING,
        required=required,
        optional=optional,
        computed=computed_,
        force_new=force_new,
        pattern=UUID_PATTERN,
        pattern_hint=UUID_HINT,
        description=description,
    )


def managed_identity_block(
    *, required: bool, types: tuple[str, ...] = IDENTITY_TYPES, description: str = ""
) -> NestedBlock:
    """The ``identity`` block azurerm uses for system and/or user-assigned identities."""
    attrs: list[Attribute] = [
        Attribute(
            "type", STRING, required=True, enum=types, description="Which managed identities the object has."
        ),
    ]
    if any("UserAssigned" in t for t in types):
        attrs.append(
            Attribute(
                "identity_ids",
                set_of(STRING),
                optional=True,
                pattern=USER_ASSIGNED_IDENTITY_ID_PATTERN,
                pattern_hint=USER_ASSIGNED_IDENTITY_ID_HINT,
                description="Resource ids of the user-assigned identities; needed when type includes UserAssigned.",
            )
        )
    attrs += [
        computed("principal_id", "The object id of the system-assigned identity, once it exists."),
        computed("tenant_id", "The tenant of the system-assigned identity, once it exists."),
    ]
    return NestedBlock(
        "identity",
        BlockSchema(tuple(attrs)),
        nesting=Nesting.LIST,
        min_items=1 if required else 0,
        max_items=1,
        description=description or "The managed identity of the object.",
    )

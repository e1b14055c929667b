"""azurerm_user_assigned_identity: a managed identity the Recovery Services vault can use for CMK."""

from __future__ import annotations

from providers.schema import STRING, Attribute, BlockSchema, Mode, ResourceSchema

from .common import (
    computed,
    id_attribute,
    location_attribute,
    name_attribute,
    resource_group_name_attribute,
    tags_attribute,
)

# 3-128 characters; starts with a letter or digit; then letters, digits, hyphens, underscores.
IDENTITY_NAME_PATTERN = r"[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}"
IDENTITY_NAME_HINT = (
    "3 to 128 characters: letters, digits, hyphens and underscores, starting with a letter or digit"
)

USER_ASSIGNED_IDENTITY = ResourceSchema(
    type_name="azurerm_user_assigned_identity",
    mode=Mode.MANAGED,
    description="A user-assigned managed identity; a vault may use it to reach its key.",
    import_id_hint=(
        "/subscriptions/{subscription_id}/resourceGroups/{group}"
        "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    ),
    block=BlockSchema(
        attributes=(
            name_attribute(
                IDENTITY_NAME_PATTERN,
                IDENTITY_NAME_HINT,
                "The identity name; changing it creates a new identity.",
            ),
            location_attribute(),
            resource_group_name_attribute(),
            Attribute(
                "isolation_scope",
                STRING,
                optional=True,
                force_new=True,
                enum=("None", "Regional"),
                description="Whether the identity is usable only in its region.",
            ),
            tags_attribute(),
            id_attribute("The identity's Azure resource id."),
            computed("principal_id", "The object id of the identity's service principal."),
            computed("client_id", "The application (client) id of the identity."),
            computed("tenant_id", "The tenant the identity belongs to."),
        )
    ),
)

RESOURCES = (USER_ASSIGNED_IDENTITY,)

"""azurerm_resource_group: the container every other object lives in."""

from __future__ import annotations

from providers.schema import STRING, Attribute, BlockSchema, Mode, ResourceSchema

from .common import (
    RESOURCE_GROUP_NAME_HINT,
    RESOURCE_GROUP_NAME_PATTERN,
    id_attribute,
    location_attribute,
    name_attribute,
    tags_attribute,
)

RESOURCE_GROUP = ResourceSchema(
    type_name="azurerm_resource_group",
    mode=Mode.MANAGED,
    description="A resource group: the container for the vaults, keys and identities.",
    import_id_hint="/subscriptions/{subscription_id}/resourceGroups/{name}",
    block=BlockSchema(
        attributes=(
            name_attribute(
                RESOURCE_GROUP_NAME_PATTERN,
                RESOURCE_GROUP_NAME_HINT,
                "The resource group name; changing it creates a new group.",
            ),
            location_attribute("The region the group's metadata lives in; changing it creates a new group."),
            Attribute(
                "managed_by",
                STRING,
                optional=True,
                min_length=1,
                description="The id of the resource that manages this group (informational).",
            ),
            tags_attribute(),
            id_attribute("The resource group id, /subscriptions/{subscription_id}/resourceGroups/{name}."),
        )
    ),
)

RESOURCES = (RESOURCE_GROUP,)

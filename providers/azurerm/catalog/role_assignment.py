"""azurerm_role_assignment: an RBAC grant, e.g. the vault's identity on the key vault.

Every argument forces a new assignment: Azure role assignments can't be edited.
Which roles carry the CMK permissions lives in ``providers.roles``.
"""

from __future__ import annotations

from providers.schema import BOOL, STRING, Attribute, BlockSchema, Mode, ResourceSchema

from .common import ANY_ARM_ID_HINT, ANY_ARM_ID_PATTERN, computed, uuid_attribute

PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal")

ROLE_ASSIGNMENT = ResourceSchema(
    type_name="azurerm_role_assignment",
    mode=Mode.MANAGED,
    description="Grants a role to a principal at a scope (RBAC).",
    import_id_hint="{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
    block=BlockSchema(
        attributes=(
            uuid_attribute(
                "name",
                "The assignment's GUID; generated when left out.",
                optional=True,
                computed_=True,
                force_new=True,
            ),
            Attribute(
                "scope",
                STRING,
                required=True,
                force_new=True,
                pattern=ANY_ARM_ID_PATTERN,
                pattern_hint=ANY_ARM_ID_HINT,
                description="Where the role applies: a key vault id (or a narrower key id, "
                "or a broader group or subscription).",
            ),
            Attribute(
                "role_definition_id",
                STRING,
                optional=True,
                computed=True,
                force_new=True,
                description="The role definition's resource id (give this or role_definition_name).",
            ),
            Attribute(
                "role_definition_name",
                STRING,
                optional=True,
                computed=True,
                force_new=True,
                min_length=1,
                description='The role\'s name, e.g. "Key Vault Crypto Service Encryption User".',
            ),
            uuid_attribute(
                "principal_id",
                "The object id of the principal that receives the role.",
                required=True,
                force_new=True,
            ),
            Attribute(
                "principal_type",
                STRING,
                optional=True,
                computed=True,
                force_new=True,
                enum=PRINCIPAL_TYPES,
                description="The kind of principal; managed identities are ServicePrincipal.",
            ),
            Attribute(
                "skip_service_principal_aad_check",
                BOOL,
                optional=True,
                computed=True,
                description="Skip the directory lookup of a freshly created service principal.",
            ),
            Attribute(
                "delegated_managed_identity_resource_id",
                STRING,
                optional=True,
                force_new=True,
                description="For cross-tenant delegation: the delegated managed identity.",
            ),
            Attribute(
                "description",
                STRING,
                optional=True,
                force_new=True,
                min_length=1,
                description="Why the assignment exists.",
            ),
            Attribute(
                "condition",
                STRING,
                optional=True,
                force_new=True,
                min_length=1,
                description="An ABAC condition narrowing the grant.",
            ),
            Attribute(
                "condition_version",
                STRING,
                optional=True,
                computed=True,
                force_new=True,
                enum=("1.0", "2.0"),
                description="The condition language version.",
            ),
            computed(
                "id", "The assignment id, {scope}/providers/Microsoft.Authorization/roleAssignments/{name}."
            ),
        ),
        exactly_one_of=(("role_definition_id", "role_definition_name"),),
    ),
)

RESOURCES = (ROLE_ASSIGNMENT,)

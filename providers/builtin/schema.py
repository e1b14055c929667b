"""Schema of the built-in ``terraform`` provider: the terraform_data resource.

terraform_data stores ``input`` and echoes it back as ``output``; changing
``triggers_replace`` replaces the instance, which other resources can hook with
``replace_triggered_by``. Nothing here talks to a cloud.
"""

from __future__ import annotations

from providers.builtin.remote_state import SCHEMA as REMOTE_STATE
from providers.schema import ANY, STRING, Attribute, BlockSchema, Mode, ProviderSchema, ResourceSchema

TERRAFORM_DATA = ResourceSchema(
    type_name="terraform_data",
    mode=Mode.MANAGED,
    description="A value kept in state; replacing it can trigger replacement of others.",
    import_id_hint="any id; terraform_data imports as an instance with no input",
    block=BlockSchema(
        attributes=(
            Attribute(
                "input", ANY, optional=True, description="Any value; it is copied to output once applied."
            ),
            Attribute(
                "triggers_replace",
                ANY,
                optional=True,
                force_new=True,
                description="Any value; when it changes the instance is replaced.",
            ),
            Attribute("output", ANY, computed=True, echoes="input", description="The applied copy of input."),
            Attribute("id", STRING, computed=True, description="A unique id generated at creation."),
        )
    ),
)

SCHEMA = ProviderSchema(
    name="terraform",
    source="terraform.io/builtin/terraform",
    resources={TERRAFORM_DATA.type_name: TERRAFORM_DATA},
    data_sources={REMOTE_STATE.type_name: REMOTE_STATE},
    versions_match_terraform=True,  # terraform_data is version 0 in terraform 1.11
)

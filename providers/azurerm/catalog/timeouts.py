"""The ``timeouts`` block every azurerm resource and data source accepts.

``timeouts { create = "80m" }`` bounds how long an operation may take (azurerm's SDK: each
resource declares its defaults, e.g. 80 minutes to create a protected VM, 30 to create a role
assignment). vaultform reads it as the time an apply step may keep waiting for Azure (the retry
budgets of reconciler/apply/retry_policy.py), longer or shorter than its own defaults; the block
never reaches Azure.
"""

from __future__ import annotations

import dataclasses

from providers.schema import STRING, Attribute, BlockSchema, Mode, NestedBlock, Nesting, ResourceSchema

# Go's time.ParseDuration, as azurerm reads these values: "90s", "30m", "1h30m", "2h".
DURATION = r"(\d+(\.\d+)?(h|m|s|ms))+"

OPERATIONS = {Mode.MANAGED: ("create", "read", "update", "delete"), Mode.DATA: ("read",)}


def timeouts_block(mode: Mode) -> NestedBlock:
    return NestedBlock(
        "timeouts",
        BlockSchema(
            attributes=tuple(
                Attribute(
                    op,
                    STRING,
                    optional=True,
                    pattern=DURATION,
                    pattern_hint='a duration such as "30m", "1h30m" or "90s"',
                    description=f"How long {op} may take.",
                )
                for op in OPERATIONS[mode]
            )
        ),
        nesting=Nesting.SINGLE,
        max_items=1,
        description="How long each operation may take.",
    )


def with_timeouts(schema: ResourceSchema) -> ResourceSchema:
    if "timeouts" in schema.block_map:
        return schema
    block = dataclasses.replace(schema.block, blocks=(*schema.block.blocks, timeouts_block(schema.mode)))
    return dataclasses.replace(schema, block=block)

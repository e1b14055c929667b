"""Warnings for a value that can never be left (a schema's FINAL_VALUE change rule): said by the plan
that takes the step - a create, an update, a replacement - and never again after it."""

from __future__ import annotations

import pytest

from providers.schema import STRING, Attribute, BlockSchema, ChangeKind, ChangeRule, Mode, ResourceSchema
from reconciler.plan.diff import InstanceRequest, decide
from reconciler.plan.model import Action

LOCKED = ChangeRule(ChangeKind.FINAL_VALUE, "R10", "Locked stays Locked.", value="Locked")
SCHEMA = ResourceSchema(
    "example_vault",
    Mode.MANAGED,
    BlockSchema(
        attributes=(
            Attribute("id", STRING, computed=True),
            Attribute("name", STRING, required=True, force_new=True),
            Attribute("immutability", STRING, optional=True, change_rule=LOCKED),
        )
    ),
)


def _warned(config, prior, **flags) -> tuple[Action, list[str]]:
    decision = decide(InstanceRequest(SCHEMA, "example_vault.v", config, prior, **flags))
    return decision.action, [d.summary for d in decision.diagnostics if d.code == "final_value"]


@pytest.mark.parametrize(
    "config, prior, flags, action",
    [
        ({"name": "a", "immutability": "Locked"}, None, {}, Action.CREATE),
        (
            {"name": "a", "immutability": "Locked"},
            {"id": "1", "name": "a", "immutability": "Unlocked"},
            {},
            Action.UPDATE,
        ),
        # a replacement is a new object, created locked: as final as locking the old one
        (
            {"name": "b", "immutability": "Locked"},
            {"id": "1", "name": "a", "immutability": "Locked"},
            {},
            Action.DELETE_THEN_CREATE,
        ),
    ],
)
def test_the_plan_that_takes_the_step_warns(config, prior, flags, action):
    got, summaries = _warned(config, prior, **flags)
    assert got is action
    assert summaries == ['immutability = "Locked" can\'t be undone']


@pytest.mark.parametrize(
    "config, prior",
    [
        ({"name": "a", "immutability": "Unlocked"}, None),
        ({"name": "a", "immutability": "Locked"}, {"id": "1", "name": "a", "immutability": "Locked"}),
    ],
)
def test_no_warning_without_the_step(config, prior):
    assert _warned(config, prior)[1] == []

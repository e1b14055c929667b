"""Which replacements are the same object in Azure (R7's two gap warnings, R18/created_first)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from providers.azurerm.rules import plan_rules
from providers.azurerm.rules.model import Action, Node
from providers.azurerm.rules.replacements import IDENTITIES, same_object
from providers.base import PlannedInstance, PlanRulesRequest
from reconciler.values import UNKNOWN

NOW = datetime(2026, 6, 1, tzinfo=UTC)
KV = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
ROLE_ID = (
    "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6"
)


def _node(type_name: str, before: dict, after: dict) -> Node:
    name = type_name.removeprefix("azurerm_")
    inst = PlannedInstance(f"{type_name}.{name}", type_name, "replace", before, after)
    return Node(inst, Action.REPLACE, {})


ROLE_BEFORE = {
    "scope": KV,
    "principal_id": "p1",
    "role_definition_name": "Key Vault Crypto Service Encryption User",
    "role_definition_id": ROLE_ID,
    "name": "n1",
}

CASES = [
    # (type, before, after, expected)
    ("azurerm_recovery_services_vault", {"resource_group_name": "rg", "name": "v"},
     {"resource_group_name": "RG", "name": "V"}, True),  # names are case-insensitive
    ("azurerm_recovery_services_vault", {"resource_group_name": "rg", "name": "v"},
     {"resource_group_name": "rg", "name": "v2"}, False),
    ("azurerm_recovery_services_vault", {"resource_group_name": "rg", "name": "v"},
     {"resource_group_name": "rg", "name": UNKNOWN}, None),
    ("azurerm_key_vault", {"resource_group_name": "rg", "name": "kv"},
     {"resource_group_name": "rg2", "name": "kv"}, True),  # a key vault's name is global
    ("azurerm_key_vault_access_policy", {"key_vault_id": KV, "object_id": "o1", "application_id": ""},
     {"key_vault_id": KV, "object_id": "o1"}, True),  # no application: left out or empty alike
    ("azurerm_key_vault_access_policy", {"key_vault_id": KV, "object_id": "o1"},
     {"key_vault_id": KV, "object_id": "o1", "application_id": "a1"}, False),
    ("azurerm_key_vault_access_policy", {"key_vault_id": KV, "object_id": "o1"},
     {"key_vault_id": KV, "object_id": UNKNOWN}, None),
    ("azurerm_key_vault_key", {"key_vault_id": KV, "name": "k"}, {"key_vault_id": KV + "/", "name": "k"}, True),
    ("azurerm_role_assignment", ROLE_BEFORE,
     {"scope": KV, "principal_id": "p1", "role_definition_name": "Key Vault Crypto Service Encryption User",
      "role_definition_id": UNKNOWN, "name": "n2"}, True),  # another name is still the same grant
    ("azurerm_role_assignment", ROLE_BEFORE,
     {"scope": KV, "principal_id": "p1", "role_definition_name": "Key Vault Crypto User",
      "role_definition_id": UNKNOWN}, False),
    ("azurerm_role_assignment", ROLE_BEFORE,
     {"scope": KV, "principal_id": "P1", "role_definition_id": ROLE_ID.upper()}, True),  # by definition id
    ("azurerm_role_assignment", ROLE_BEFORE,
     {"scope": KV, "principal_id": UNKNOWN, "role_definition_name": "Key Vault Crypto User"}, None),
    ("azurerm_role_assignment", ROLE_BEFORE, {"scope": KV, "principal_id": "p1"}, None),  # no role known
    ("azurerm_private_endpoint", {"name": "pe"}, {"name": "pe"}, None),  # not listed
]  # fmt: skip


@pytest.mark.parametrize(("type_name", "before", "after", "expected"), CASES)
def test_same_object(type_name, before, after, expected):
    assert same_object(_node(type_name, before, after)) is expected


def test_every_listed_type_reads_its_attributes_from_both_sides():
    for type_name, identity in IDENTITIES.items():
        values = {name: f"{name}-value" for name in identity.attributes}
        if type_name == "azurerm_role_assignment":
            values = {"scope": KV, "principal_id": "p", "role_definition_name": "Reader"}
        assert same_object(_node(type_name, values, dict(values))) is True, type_name


def _grant(address: str, action: str, before: dict | None, after: dict | None) -> PlannedInstance:
    return PlannedInstance(address, "azurerm_role_assignment", action, before, after)


def test_a_replacement_that_becomes_what_the_plan_deletes_is_refused():
    # count = 3 -> 2 with the middle principal dropped: [1] is replaced by what [2] is, [2] deleted
    def grant(principal: str) -> dict:
        return {"scope": KV, "principal_id": principal, "role_definition_name": "Reader"}

    instances = (
        _grant("azurerm_role_assignment.r[1]", "replace", grant("p1"), grant("p2")),
        _grant("azurerm_role_assignment.r[2]", "delete", grant("p2"), None),
    )
    found = [
        d for d in plan_rules(PlanRulesRequest(instances=instances, now=NOW)).diagnostics if d.code == "R18"
    ]
    assert [(d.address, d.summary) for d in found] == [
        ("azurerm_role_assignment.r[1]", "The new object is one this plan deletes under another address")
    ]
    assert (
        "moved { from = azurerm_role_assignment.r[2] to = azurerm_role_assignment.r[1] }" in found[0].detail
    )


def test_a_new_object_that_is_not_one_the_plan_deletes_passes():
    instances = (
        _grant(
            "azurerm_role_assignment.a",
            "create",
            None,
            {"scope": KV, "principal_id": "p1", "role_definition_name": "Reader"},
        ),
        _grant(
            "azurerm_role_assignment.b",
            "delete",
            {"scope": KV, "principal_id": "p1", "role_definition_name": "Owner"},
            None,
        ),
    )
    assert [
        d for d in plan_rules(PlanRulesRequest(instances=instances, now=NOW)).diagnostics if d.code == "R18"
    ] == []

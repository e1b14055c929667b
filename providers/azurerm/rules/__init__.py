"""The CMK domain rules of the azurerm provider (DOMAIN.md section 2), as a pure function.

``plan_rules(req)`` reads the planned instances and returns the ordering edges the
graph must add (O1-O5) and the diagnostics of the refusals (R1-R18, errors unless
the table says otherwise) and advisories (A1-A6). It has no effects and reads no
clock: ``req.now`` is the moment the plan is judged at.

Layout: ``refs`` (values and references), ``model`` (the plan index), ``estate``
(relations between objects), ``grants`` (access policies and roles), ``table`` (the
rule table: codes, severities, texts), ``ordering``, ``refusals`` and
``refusals_keys``, ``replacements`` (whether a replacement is a new object), ``advisories``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.base import PlanRulesRequest, PlanRulesResponse

from .advisories import ADVISORY_CHECKS
from .backup_items import BACKUP_ITEM_CHECKS
from .context import RoleQuestion, RuleContext
from .model import PlanIndex
from .ordering import ENCRYPTION_PHASE, encryption_node, ordering_edges
from .policy_owners import r17_policies_managed_twice, r18_policy_already_there
from .refusals import VAULT_CHECKS
from .refusals_keys import KEY_CHECKS
from .replacements import r18_created_first_over_itself, r18_created_where_one_is_deleted
from .table import MESSAGES, RULES, RULES_BY_CODE

CHECKS = (
    VAULT_CHECKS
    + KEY_CHECKS
    + BACKUP_ITEM_CHECKS
    + (
        r17_policies_managed_twice,
        r18_policy_already_there,
        r18_created_first_over_itself,
        r18_created_where_one_is_deleted,
    )
    + ADVISORY_CHECKS
)


def _rule_order(code: str) -> tuple[int, int]:
    return ("RA".index(code[0]), int(code[1:]))


def plan_rules(req: PlanRulesRequest) -> PlanRulesResponse:
    return judge(req)[0]


def judge(
    req: PlanRulesRequest, roles_in_azure: Mapping[RoleQuestion, tuple[Any, ...]] | None = None
) -> tuple[PlanRulesResponse, set[RoleQuestion]]:
    """The rules' answer, and the questions about roles in Azure it would have liked answered
    (an existing identity on an RBAC key vault): the provider reads those and judges again."""
    index = PlanIndex.build(req.instances)
    ctx = RuleContext.build(index, req.now, roles_in_azure)
    diagnostics = []
    for check in CHECKS:
        for diag in check(ctx):
            if diag not in diagnostics:
                diagnostics.append(diag)
    diagnostics.sort(key=lambda d: _rule_order(d.code))
    response = PlanRulesResponse(diagnostics=diagnostics, edges=ordering_edges(index, list(ctx.grants)))
    return response, set(ctx.unanswered)


__all__ = [
    "plan_rules",
    "judge",
    "RoleQuestion",
    "ENCRYPTION_PHASE",
    "encryption_node",
    "RULES",
    "RULES_BY_CODE",
    "MESSAGES",
]

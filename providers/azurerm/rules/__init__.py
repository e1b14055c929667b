"""The CMK domain rules of the azurerm provider (DOMAIN.md section 2), as a pure function.

``plan_rules(req)`` reads the planned instances and returns the ordering edges the
graph must add (O1-O5) and the diagnostics of the refusals (R1-R16, errors unless
the table says otherwise) and advisories (A1-A6). It has no effects and reads no
clock: ``req.now`` is the moment the plan is judged at.

Layout: ``refs`` (values and references), ``model`` (the plan index), ``estate``
(relations between objects), ``grants`` (access policies and roles), ``table`` (the
rule table: codes, severities, texts), ``ordering``, ``refusals`` and
``refusals_keys``, ``advisories``.
"""

from __future__ import annotations

from providers.base import PlanRulesRequest, PlanRulesResponse

from .advisories import ADVISORY_CHECKS
from .backup_items import BACKUP_ITEM_CHECKS
from .context import RuleContext
from .model import PlanIndex
from .ordering import ENCRYPTION_PHASE, encryption_node, ordering_edges
from .refusals import VAULT_CHECKS
from .refusals_keys import KEY_CHECKS
from .table import MESSAGES, RULES, RULES_BY_CODE

CHECKS = VAULT_CHECKS + KEY_CHECKS + BACKUP_ITEM_CHECKS + ADVISORY_CHECKS


def _rule_order(code: str) -> tuple[int, int]:
    return ("RA".index(code[0]), int(code[1:]))


def plan_rules(req: PlanRulesRequest) -> PlanRulesResponse:
    index = PlanIndex.build(req.instances)
    ctx = RuleContext.build(index, req.now)
    diagnostics = []
    for check in CHECKS:
        for diag in check(ctx):
            if diag not in diagnostics:
                diagnostics.append(diag)
    diagnostics.sort(key=lambda d: _rule_order(d.code))
    return PlanRulesResponse(diagnostics=diagnostics, edges=ordering_edges(index, list(ctx.grants)))


__all__ = ["plan_rules", "ENCRYPTION_PHASE", "encryption_node", "RULES", "RULES_BY_CODE", "MESSAGES"]

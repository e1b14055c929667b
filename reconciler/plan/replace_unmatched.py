"""``-replace`` naming a resource with count or for_each but no instance key: said, not ignored.

Such an address matches no instance, so the plan replaces nothing; terraform 1.11 warns and lists
the options that would (terraform/context_plan.go), and so does vaultform, in its words.
"""

from __future__ import annotations

import json

from reconciler.addresses import Mode, parse_address
from reconciler.diagnostics import Diagnostic, warning
from reconciler.plan.model import Plan, natural_order

CODE = "replace_without_key"


def replace_without_key(plan: Plan, replace: tuple[str, ...]) -> list[Diagnostic]:
    """A warning for each ``-replace`` address without an instance key whose resource has
    instances with keys in ``plan``."""
    if not replace:
        return []  # the usual plan: nothing to look up among its objects
    found = []
    managed = [parse_address(c.address) for c in plan.changes if c.mode is Mode.MANAGED]
    for text in replace:
        wanted = parse_address(text)
        if wanted.key is not None:
            continue
        candidates = sorted(
            (str(a) for a in managed if a.key is not None and a.resource == wanted.resource),
            key=natural_order,
        )
        if not candidates:
            continue
        options = "\n".join(f"  -replace={json.dumps(c)}" for c in candidates)
        advice = (
            "To force replacement of the single declared instance, use the following option instead:"
            if len(candidates) == 1
            else "To force replacement of particular instances, use one or more of the following "
            "options instead:"
        )
        found.append(
            warning(
                CODE,
                "Incompletely-matched force-replace resource instance",
                f"Your force-replace request for {wanted} doesn't match any resource instances because "
                f"it lacks an instance key.\n\n{advice}\n{options}",
            )
        )
    return found

"""What the plan says about a role assignment Azure already holds: it can't be created again.

Azure keeps one assignment of a role to a principal at a scope, whatever it is named; a second
one is refused with 409 RoleAssignmentExists ("The role assignment already exists.";
hashicorp/terraform-provider-azurerm issue 17421, Azure/azure-cli pull request 8599), so a create
fails at apply after the rest of the plan has been made. It happens when a role moves from one
configuration to another, or when this configuration forgot it (``state rm``) and writes it again.
The apply refuses it too (``AzurermProvider._refuse_existing``); the plan looks first, for
assignments whose scope, principal and role are known when planning (a scope this plan creates has
no id yet, and nothing can be assigned there already).
"""

from __future__ import annotations

from typing import Any

from providers.azurerm.planned_ids import ROLE_ASSIGNMENT, planned_id, role_assignment_name
from providers.azurerm.resources.base import Context
from providers.base import PlannedInstance
from reconciler.diagnostics import Diagnostic, error
from reconciler.values import UNKNOWN


def _known(values: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (values or {}).items() if v is not UNKNOWN and v is not None and v != ""}


def role_assignment_taken(
    ctx: Context, handler: Any, inst: PlannedInstance, leaving: frozenset[str] = frozenset()
) -> Diagnostic | None:
    """``leaving``: ids (lower case) of role assignments this plan deletes; one of them found at the
    planned place is the other half of a rename, which R18 judges (an import would be wrong: the
    old address still holds it)."""
    if inst.type_name != ROLE_ASSIGNMENT or inst.action != "create":
        return None
    planned = _known(inst.after)
    if not planned.get("scope") or not planned.get("principal_id"):
        return None
    if not (planned.get("role_definition_name") or planned.get("role_definition_id")):
        return None
    planned.setdefault("name", role_assignment_name(planned))
    id_ = planned_id(ctx, ROLE_ASSIGNMENT, planned)
    if id_ is None:
        return None
    found = handler.existing(ctx, planned, id_)
    if not found or str(found).lower() in leaving:
        return None
    role = planned.get("role_definition_name") or planned.get("role_definition_id")
    address = str(inst.address)
    return error(
        "role_assignment_exists",
        f"{address} already exists in Azure",
        f"Azure already assigns {role!r} to principal {planned['principal_id']} at {planned['scope']} "
        f"(assignment {found}), and keeps one such assignment: creating {address} fails at apply with "
        f"409 RoleAssignmentExists, after the rest of the plan has been applied. Take the existing one "
        f'over instead: add an import block with to = {address} and id = "{found}" to the '
        "configuration (or run `vaultform import` with that address and id), then plan again.",
        address=address,
    )

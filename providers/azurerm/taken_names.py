"""Creates whose place Azure already holds, found before a plan that destroys anything is applied.

A create whose id is taken fails at apply ("needs to be imported", the refusal ``create`` makes as
azurerm's does) - but only when its turn comes, after the plan's deletions and replacements have
run. After a ``state rm`` of a CMK vault, the plan creates the vault anew and replaces its key
vault grant (the grant's principal is the new vault's, unknown until apply): the apply deleted the
grant the live vault decrypts with, then failed the create, and every backup and restore of that
vault failed with UserErrorCMKMissingMangedIdentityPermissionOnKeyVault. So a plan that deletes or
replaces anything first looks up each object it creates whose id it can know (``planned_ids``),
and an object already there is an error at plan time, with the import that takes it over.

A plan that only creates risks nothing by failing at apply, and is not slowed by the lookups.
Role assignments (``taken_grants``) and protected VMs (``taken_vms``) have their own checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from providers.azurerm.planned_ids import ROLE_ASSIGNMENT, planned_id
from providers.azurerm.resources.base import Context
from providers.base import PlannedInstance, ProviderError
from reconciler.diagnostics import Diagnostic, error
from reconciler.values import UNKNOWN

OWN_CHECKS = frozenset({ROLE_ASSIGNMENT, "azurerm_backup_protected_vm"})
DESTRUCTIVE = frozenset({"delete", "replace"})
LOOKUPS_AT_ONCE = 8


def _known(values: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (values or {}).items() if v is not UNKNOWN and v is not None}


def creates_already_in_azure(
    context_for: Callable[[dict[str, Any]], Context],
    handler_for: Callable[[str], Any],
    instances: Iterable[PlannedInstance],
) -> list[Diagnostic]:
    """``context_for``: the context to look for an object with (its subscription's)."""
    instances = list(instances)
    if not any(i.action in DESTRUCTIVE for i in instances):
        return []
    # a place this plan frees: its create is the other half of a rename (R18 judges that)
    leaving = {str((i.before or {}).get("id") or "").lower() for i in instances if i.action in DESTRUCTIVE}
    wanted: list[tuple[PlannedInstance, str]] = []
    for inst in instances:
        if inst.action != "create" or inst.type_name in OWN_CHECKS:
            continue
        id_ = planned_id(context_for(_known(inst.after)), inst.type_name, _known(inst.after))
        if id_ is not None and id_.lower() not in leaving:
            wanted.append((inst, id_))

    def look(item: tuple[PlannedInstance, str]) -> Diagnostic | None:
        inst, id_ = item
        try:
            planned = _known(inst.after)
            found = handler_for(inst.type_name).existing(context_for(planned), planned, id_)
        except (ProviderError, KeyError):
            return None  # can't look: the apply still meets Azure's own answer
        return _taken(str(inst.address), found) if found else None

    if not wanted:
        return []
    with ThreadPoolExecutor(max_workers=min(LOOKUPS_AT_ONCE, len(wanted))) as pool:
        return [d for d in pool.map(look, wanted) if d is not None]


def _taken(address: str, found: str) -> Diagnostic:
    return error(
        "resource_exists",
        f"{address} already exists in Azure",
        f"Azure already holds {found}, where the plan creates {address}. Creating it would fail at "
        "apply with ResourceAlreadyExists, after this plan's deletions and replacements had run - "
        "a grant deleted for a vault that keeps running, say. Take the existing object over instead: "
        f'add an import block with to = {address} and id = "{found}" to the configuration (or run '
        "`vaultform import` with that address and id), then plan again.",
        address=address,
    )

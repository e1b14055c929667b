"""Removed blocks that keep ``destroy = true``: said while state still holds what they destroy.

Such a block does what deleting the resource's block does already, which is worth a word while
the plan destroys objects because of it. Once state holds nothing at its address the block
does nothing at all, and terraform 1.11 says nothing of it; neither does vaultform then.
"""

from __future__ import annotations

from typing import Any

from reconciler.addresses import Mode
from reconciler.diagnostics import Diagnostic, warning
from reconciler.plan.forgotten import is_forgotten
from state.model import State

CODE = "removed_destroys"


def removed_destroys(tree: Any, state: State) -> list[Diagnostic]:
    """A warning at each removed block with destroy = true of ``tree`` (a
    ``reconciler.config.modules.ModuleTree``) whose address holds a managed object in ``state``.
    Where a calling module's removed block names the same object, the caller's decides, as in
    ``forgotten.forgotten_addresses``."""
    decided: dict[str, Any] = {}
    for node in tree.walk():  # callers before the modules they call
        prefix = "".join(f"module.{name}." for name in node.path)
        for removed in node.module.removed:
            decided.setdefault(prefix + removed.address, removed)
    destroying = {address: removed for address, removed in decided.items() if removed.destroy}
    if not destroying:
        return []
    managed = [addr.resource for addr, res, _inst in state.instances() if res.mode is Mode.MANAGED]
    return [
        warning(
            CODE,
            f"{address} is destroyed: its block is gone",
            f"This removed block keeps destroy = true, which is what deleting the block of {address} "
            "does already: the plan destroys its objects. To keep them in the cloud and only stop "
            "managing them, write lifecycle { destroy = false } in this block. Delete the block "
            "once the objects are gone.",
            range=removed.pos.range(),
        )
        for address, removed in destroying.items()
        if any(is_forgotten(resource, (address,)) for resource in managed)
    ]

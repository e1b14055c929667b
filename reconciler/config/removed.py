"""Removed blocks that reach into module calls: ``from = module.app.terraform_data.x``.

A removed block naming a resource or call of its own module is checked as its module is decoded.
One naming something inside a module call can only be checked once the calls are loaded: if the
call still declares it, terraform's plan stops with "Removed resource still exists" at the block
that declares it, and so does vaultform's.
"""

from __future__ import annotations

from typing import Any

from reconciler.config import ast
from reconciler.diagnostics import Diagnostic, error


def still_declared(address: str, declared_at: ast.Pos) -> Diagnostic:
    """terraform's words (plan of terraform 1.11), at the block that still declares ``address``."""
    kind = "module" if address.split(".")[-2] == "module" else "resource"
    return error(
        "removed_still_declared",
        f"Removed {kind} still exists",
        f"This statement declares that {address} was removed, but it is still declared in "
        "configuration. Delete one of the two: the removed block to keep managing it, or its block.",
        range=declared_at.range(),
    )


def _target(tree: Any, address: str):
    """What ``address`` (``module.a.module.b.type.name`` or ``module.a.module.b``) names inside
    ``tree``'s calls, when it is still declared there; None otherwise."""
    steps = address.split(".")
    node = tree
    while len(steps) >= 2 and steps[0] == "module":
        if len(steps) == 2:  # the call itself, declared by the module before it
            return node.module.module_calls.get(steps[1]) if node is not tree else None
        child = node.children.get(steps[1])
        if child is None:
            return None
        node, steps = child, steps[2:]
    if node is tree:
        return None  # a resource of the block's own module: checked as the module is decoded
    return node.module.resources.get(".".join(steps))


def removed_still_declared(tree: Any) -> list[Diagnostic]:
    """``tree``: a ``reconciler.config.modules.ModuleTree`` (whose loader decodes modules, which use
    ``still_declared``: not imported here)."""
    found: list[Diagnostic] = []
    for node in tree.walk():
        for removed in node.module.removed:
            declared = _target(node, removed.address)
            if declared is None:
                continue
            found.append(
                still_declared(".".join(filter(None, (node.address, removed.address))), declared.pos)
            )
    return found

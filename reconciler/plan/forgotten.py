"""Objects removed blocks let go of (``lifecycle { destroy = false }``, terraform 1.7's "forget").

A removed block names a resource or a module call of its own module, without instance keys.
Every instance in state under that address leaves state when the plan is applied and stays in
the cloud; the plan neither refreshes nor destroys it (``plan -destroy`` still destroys it, as
terraform's does).
"""

from __future__ import annotations

from typing import Any

from reconciler.addresses import ResourceAddress
from reconciler.diagnostics import Diagnostic, warning
from reconciler.plan.model import natural_order
from reconciler.plan.module_instances import static_prefix


def forgotten_addresses(tree: Any) -> tuple[str, ...]:
    """The configuration addresses (``module.a.terraform_data.x``, ``module.app``) the removed
    blocks with destroy = false of a module tree (``reconciler.config.modules.ModuleTree``) name.
    When a module and one of its calls both have a removed block for the same object, the calling
    module's decides, as in terraform (refactoring/remove_statement.go)."""
    destroy: dict[str, bool] = {}
    for node in tree.walk():  # callers before the modules they call
        prefix = "".join(f"module.{name}." for name in node.path)
        for removed in node.module.removed:
            destroy.setdefault(prefix + removed.address, removed.destroy)
    return tuple(address for address, gone in destroy.items() if not gone)


def is_forgotten(resource: ResourceAddress, forgotten: tuple[str, ...]) -> bool:
    """Whether a resource in state is one a removed block names, or lies in a module call one names."""
    where = f"{static_prefix(resource.module)}{resource.type}.{resource.name}"
    return any(where == f or where.startswith(f + ".") for f in forgotten)


def forgotten_warning(addresses: list[str]) -> Diagnostic:
    """terraform's warning (terraform/context_plan.go), listing what the plan lets go of."""
    listed = "\n".join(f" - {a}" for a in sorted(addresses, key=natural_order))
    return warning(
        "objects_forgotten",
        "Some objects will no longer be managed by vaultform",
        "If you apply this plan, vaultform will discard its tracking information for the following "
        f"objects, but it will not delete them:\n{listed}\n\nAfter applying this plan, vaultform will no "
        "longer manage these objects. You will need to import them into vaultform to manage them again.",
    )

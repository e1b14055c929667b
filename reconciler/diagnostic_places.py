"""Where in the configuration a diagnostic about an object points: its resource block.

A provider's rule, an apply step that failed or a warning about what was applied names the object
by address; terraform shows it with the block that declares it ("on main.tf line 30, in resource
..."). The block is found by the address's module path and its resource's type and name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from reconciler.addresses import AddressError, Mode, parse_address
from reconciler.config.model import Module, Resource
from reconciler.config.modules import ModuleTree
from reconciler.diagnostics import Diagnostic

# a module's prefix ("" for the root, "module.a.module.b." below it) -> the module, if configured
ModuleOf = Callable[[str], Module | None]


def declaring_block(address: str, module_of: ModuleOf) -> Resource | None:
    """The resource block that declares the object at ``address``, or None."""
    try:
        resource = parse_address(address).resource
    except AddressError:
        return None
    prefix = "".join(f"module.{step.name}." for step in resource.module)
    local = f"{resource.type}.{resource.name}"
    module = module_of(prefix)
    if module is None:
        return None
    return module.resources.get(f"data.{local}" if resource.mode is Mode.DATA else local)


def placed(diag: Diagnostic, module_of: ModuleOf) -> Diagnostic:
    """``diag`` pointing at the block of the object it names, when it points nowhere yet."""
    if diag.range is not None or not diag.address:
        return diag
    block = declaring_block(diag.address, module_of)
    return diag.with_range(block.pos.range()) if block is not None else diag


def tree_modules(tree: ModuleTree | None) -> ModuleOf:
    """Modules of a loaded configuration by prefix."""
    by_prefix = {
        "".join(f"module.{name}." for name in node.path): node.module
        for node in (tree.walk() if tree else ())
    }
    return by_prefix.get


def all_placed(diags: Iterable[Diagnostic], tree: ModuleTree | None) -> list[Diagnostic]:
    module_of = tree_modules(tree)
    return [placed(d, module_of) for d in diags]

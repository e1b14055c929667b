"""Provider configurations vaultform would not honour, refused rather than ignored.

vaultform configures each provider once, from the root module's provider block without an
alias. An object written for another configuration - ``provider = azurerm.other``, a module
call handed ``providers = { azurerm = azurerm.other }``, or a provider block inside a child
module - would be read, created and deleted through that default one: in its subscription, with
its credentials. Left unchecked that writes to the wrong subscription, so each such place is an
error that says so, at its line.
"""

from __future__ import annotations

from collections.abc import Iterator

from reconciler.config import ast
from reconciler.config.model import Module
from reconciler.diagnostics import Diagnostic, error, warning

CODE = "provider_configuration_unsupported"

_ONE_CONFIGURATION = (
    "vaultform configures each provider once, from the root module's provider block without an "
    "alias, and would manage {what} through that configuration (its subscription and "
    "credentials) instead. Manage the objects of each subscription or tenant in a configuration "
    "of their own (a root module and a state per subscription), and remove {how}."
)


def _alias_refused(where: ast.Pos, what: str, named: str, how: str, address: str | None = None) -> Diagnostic:
    return error(
        CODE,
        f"Provider configuration {named} is not supported",
        _ONE_CONFIGURATION.format(what=what, how=how),
        address=address,
        range=where.range(),
    )


def _aliased_values(expr: ast.Expr | None) -> Iterator[tuple[str, ast.Pos]]:
    """The aliased configurations a module call's ``providers`` map passes (``azurerm.other``)."""
    if not isinstance(expr, ast.ObjectCons):
        return
    for _key, value in expr.items:
        if isinstance(value, ast.GetAttr) and isinstance(value.obj, ast.Variable):
            yield f"{value.obj.name}.{value.name}", value.pos


def provider_configuration_problems(module: Module, *, root: bool) -> list[Diagnostic]:
    found: list[Diagnostic | None] = []
    for resource in module.resources.values():
        ref = resource.provider
        if ref is not None and ref.alias:
            found.append(
                _alias_refused(ref.pos, resource.address, str(ref), "its provider argument", resource.address)
            )
    for block in module.imports:
        ref = block.provider
        if ref is not None and ref.alias:
            found.append(_alias_refused(ref.pos, "the imported object", str(ref), "its provider argument"))
    for call in module.module_calls.values():
        for named, pos in _aliased_values(call.providers):
            found.append(
                _alias_refused(pos, f"the objects of module.{call.name}", named, "it from the providers map")
            )
    if not root:
        found.extend(_module_provider_block(config) for config in module.providers if not config.alias)
    return [d for d in found if d is not None]


def _module_provider_block(config) -> Diagnostic | None:
    """A child module's own provider block: settings that pick where objects go (subscription,
    tenant, credentials) are refused; one with only ``features`` is warned about (the root
    module's features are the ones used)."""
    settings = [a for a in config.body.attributes if a.name != "version"]
    if settings:
        return error(
            CODE,
            f'A provider block in a module is not supported: provider "{config.name}"',
            _ONE_CONFIGURATION.format(
                what="this module's objects",
                how=f"{settings[0].name} and the rest of the module's provider block",
            ),
            range=settings[0].pos.range(),
        )
    if any(_set_anything(b.body) for b in config.body.blocks):
        return warning(
            CODE,
            "The features of a module's provider block are not used: provider " + f'"{config.name}"',
            "vaultform configures each provider once, from the root module's provider block; its "
            "features apply to this module's objects too. Move these settings to the root module's "
            "provider block and remove this one.",
            range=config.pos.range(),
        )
    return None


def _set_anything(body: ast.Body) -> bool:
    return bool(body.attributes) or any(_set_anything(b.body) for b in body.blocks)

"""The azurerm resource catalog as data: every type and data source vaultform serves.

``SCHEMA`` is the provider's ``ProviderSchema``; the engine validates, defaults and
plans from it generically. ``DATA`` lists azurerm names that exist but that vaultform
doesn't serve, so an unknown type can be told apart from a typo
(``unknown_type_detail``). Importing this package imports no SDK.
"""

from __future__ import annotations

import difflib

from providers.schema import Mode, ProviderSchema, ResourceSchema

from . import (
    access_policy,
    backup,
    data_sources,
    disk_encryption_set,
    identity,
    key_vault,
    key_vault_key,
    recovery_vault,
    resource_group,
    role_assignment,
)
from .out_of_scope import DATA, OutOfScope, out_of_scope
from .provider_config import PROVIDER_CONFIG
from .timeouts import with_timeouts
from .value_kinds import VALUE_KINDS

_MANAGED: tuple[ResourceSchema, ...] = (
    *resource_group.RESOURCES,
    *identity.RESOURCES,
    *key_vault.RESOURCES,
    *access_policy.RESOURCES,
    *key_vault_key.RESOURCES,
    *role_assignment.RESOURCES,
    *recovery_vault.RESOURCES,
    *backup.RESOURCES,
    *disk_encryption_set.RESOURCES,
)

SCHEMA = ProviderSchema(
    name="azurerm",
    resources={r.type_name: with_timeouts(r) for r in _MANAGED},
    data_sources={d.type_name: with_timeouts(d) for d in data_sources.DATA_SOURCES},
    provider_config=PROVIDER_CONFIG,
    value_kinds=VALUE_KINDS,
    explain_unknown=lambda mode, type_name: unknown_type_detail(mode, type_name),
)

_MODE_WORD = {Mode.MANAGED: "resource type", Mode.DATA: "data source"}


def supported_types(mode: Mode | None = None) -> list[str]:
    """Sorted type names vaultform serves: managed, data, or (``None``) both."""
    names: set[str] = set()
    if mode in (None, Mode.MANAGED):
        names |= set(SCHEMA.resources)
    if mode in (None, Mode.DATA):
        names |= set(SCHEMA.data_sources)
    return sorted(names)


def lookup(mode: Mode, type_name: str) -> ResourceSchema | None:
    return SCHEMA.lookup(mode, type_name)


def unknown_type_detail(mode: Mode, type_name: str) -> str:
    """What to tell a user whose ``type_name`` isn't served in ``mode``."""
    word = _MODE_WORD[mode]
    entry = out_of_scope(mode, type_name)
    if entry is not None:
        text = f'azurerm knows the {word} "{type_name}"; vaultform doesn\'t manage it.'
        return f"{text} {entry.note}" if entry.note else text
    other = Mode.DATA if mode is Mode.MANAGED else Mode.MANAGED
    if SCHEMA.lookup(other, type_name) is not None:
        kind = "a data source" if other is Mode.DATA else "a managed resource"
        block = "data" if other is Mode.DATA else "resource"
        return f'vaultform serves "{type_name}" as {kind} only; declare it in a {block} block.'
    candidates = supported_types(mode)
    close = difflib.get_close_matches(type_name, candidates, n=1, cutoff=0.75)
    if close:
        return f'There is no {word} "{type_name}". Did you mean "{close[0]}"?'
    return (
        f'There is no {word} "{type_name}" in vaultform\'s azurerm catalog. '
        f"Supported: {', '.join(candidates)}."
    )


__all__ = ["SCHEMA", "DATA", "OutOfScope", "supported_types", "lookup", "unknown_type_detail", "out_of_scope"]

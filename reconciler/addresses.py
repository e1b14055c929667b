"""Addresses for the engine: the one family defined in ``state.addresses``.

``state.addresses`` is the lowest layer (the state, the providers' protocol and the engine
all read it), so the types live there; this module names them for the engine's modules.
"""

from __future__ import annotations

from state.addresses import (
    IndexKey,
    InstanceAddress,
    Mode,
    ModulePath,
    ModuleStep,
    Node,
    ResourceAddress,
    address_order,
    format_key,
    format_module,
    key_order,
    parse_address,
    parse_module,
    parse_resource_address,
)
from state.errors import AddressError

__all__ = [
    "AddressError",
    "IndexKey",
    "InstanceAddress",
    "Mode",
    "ModulePath",
    "ModuleStep",
    "Node",
    "ResourceAddress",
    "address_order",
    "format_key",
    "format_module",
    "key_order",
    "parse_address",
    "parse_module",
    "parse_resource_address",
]

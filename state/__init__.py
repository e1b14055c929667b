"""Stored state: format, backends, locks."""

from state.errors import AddressError, StateError
from state.model import (
    InstanceAddress,
    InstanceState,
    InstanceStatus,
    Mode,
    ModuleStep,
    OutputState,
    PendingAction,
    PendingOperation,
    ResourceAddress,
    ResourceState,
    State,
    parse_address,
    parse_resource_address,
)

__all__ = [
    "AddressError",
    "InstanceAddress",
    "InstanceState",
    "InstanceStatus",
    "Mode",
    "ModuleStep",
    "OutputState",
    "PendingAction",
    "PendingOperation",
    "ResourceAddress",
    "ResourceState",
    "State",
    "StateError",
    "parse_address",
    "parse_resource_address",
]

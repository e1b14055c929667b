"""Resource provider registration, as azurerm's ``resource_provider_registrations`` does it.

A subscription answers 409 MissingSubscriptionRegistration for a namespace it is not registered
for. azurerm registers a set of namespaces when it starts
(internal/resourceproviders/required.go: core, extended, all, legacy, none; plus
``resource_providers_to_register``). The default here is azurerm 4's, ``legacy`` (azurerm 5 made it
``none``); the former ``skip_provider_registration = true`` means ``none``. Only the namespaces of
the types vaultform manages are listed: each set's members among them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from providers.azurerm.consistency import READ_BACK, Waiter
from providers.azurerm.resources.base import call, wire

RESOURCES = "Microsoft.Resources"
AUTHORIZATION = "Microsoft.Authorization"
COMPUTE = "Microsoft.Compute"
KEY_VAULT = "Microsoft.KeyVault"
MANAGED_IDENTITY = "Microsoft.ManagedIdentity"
RECOVERY_SERVICES = "Microsoft.RecoveryServices"

_CORE = frozenset({AUTHORIZATION, COMPUTE, MANAGED_IDENTITY, RESOURCES})
SETS: dict[str, frozenset[str]] = {
    "none": frozenset(),
    "core": _CORE,
    "extended": _CORE | {KEY_VAULT},
    "all": _CORE | {KEY_VAULT, RECOVERY_SERVICES},
    "legacy": frozenset({AUTHORIZATION, COMPUTE, KEY_VAULT, MANAGED_IDENTITY, RECOVERY_SERVICES, RESOURCES}),
}
DEFAULT = "legacy"


def wanted(config: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[str, frozenset[str]]:
    """(the set's name, the namespaces to register) from the provider block and environment."""
    skip = config.get("skip_provider_registration")
    if skip is None and environ.get("ARM_SKIP_PROVIDER_REGISTRATION"):
        skip = environ["ARM_SKIP_PROVIDER_REGISTRATION"].lower() == "true"
    name = config.get("resource_provider_registrations") or environ.get("ARM_RESOURCE_PROVIDER_REGISTRATIONS")
    if not name:
        name = "none" if skip else DEFAULT
    extra = frozenset(config.get("resource_providers_to_register") or ())
    return name, SETS.get(str(name).lower(), frozenset()) | extra


def _registered(providers: Any, namespace: str) -> bool:
    """The subscription has the resource provider ``namespace`` registered."""
    return wire(call(partial(providers.get, namespace))).get("registrationState") == "Registered"


class Registrar:
    """Registers the wanted namespaces once per provider instance, before its first call to Azure."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = False

    def reset(self) -> None:
        with self._lock:
            self._done = False

    def ensure(
        self,
        clients: Any,
        set_name: str,
        namespaces: frozenset[str],
        waiter: Waiter,
        report: Callable[[str], None],
    ) -> None:
        if self._done or not namespaces:
            return
        with self._lock:
            if self._done:
                return
            providers = clients.resources().providers
            state = {
                str(p.get("namespace", "")).lower(): p.get("registrationState")
                for p in (wire(x) for x in call(lambda: list(providers.list())))
            }
            for ns in sorted(namespaces):
                if state.get(ns.lower()) == "Registered":
                    continue
                report(
                    f"registering resource provider {ns} for subscription {clients.subscription_id} "
                    f'(resource_provider_registrations = "{set_name}")'
                )
                call(partial(providers.register, ns))
                waiter.until(
                    f"resource provider {ns} is registered", partial(_registered, providers, ns), READ_BACK
                )
            self._done = True

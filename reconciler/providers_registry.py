"""Which provider serves which resource type, found by name - never imported statically.

The engine knows providers only through ``providers.base``; concrete ones are located by
the ``vaultform.providers`` entry-point group (falling back to the distribution's own
table, ``providers.bundled``), so the layering stays: ``reconciler`` never imports a
concrete provider module.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from providers import bundled
from providers.base import ProviderError, SupportsDescribe, SupportsStorageSignIn, UsesStorageSignIn
from providers.schema import Mode, ProviderSchema, ResourceSchema


@cache
def plugins(group: str) -> dict[str, str]:
    """The installed entry points of ``group``, name -> target, read once per process: each
    read scans every installed distribution's metadata (a few milliseconds per call)."""
    return {ep.name: ep.value for ep in entry_points(group=group)}


def _load(target: str):
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def provider_name_for_type(type_name: str) -> str:
    """Terraform's implied provider: the type name up to its first underscore."""
    return type_name.split("_", 1)[0]


@cache
def schema_for(provider: str) -> ProviderSchema | None:
    target = plugins("vaultform.schemas").get(provider) or bundled.SCHEMAS.get(provider)
    return _load(target) if target else None


def provider_address(provider: str) -> str:
    """A provider's full address as Terraform prints it (its schema's ``address``)."""
    schema = schema_for(provider)
    return schema.address if schema is not None else f"registry.terraform.io/hashicorp/{provider}"


def known_provider_names() -> list[str]:
    return sorted(set(plugins("vaultform.schemas")) | set(bundled.SCHEMAS))


def resource_schema(mode: Mode, type_name: str) -> ResourceSchema | None:
    schema = schema_for(provider_name_for_type(type_name))
    return schema.lookup(mode, type_name) if schema else None


def supported_types(mode: Mode) -> list[str]:
    names: list[str] = []
    for p in known_provider_names():
        s = schema_for(p)
        if s is None:
            continue
        names.extend((s.resources if mode is Mode.MANAGED else s.data_sources).keys())
    return sorted(names)


def create_provider(provider: str):
    target = plugins("vaultform.providers").get(provider) or bundled.PROVIDERS.get(provider)
    if not target:
        return None
    created = _load(target)()
    if isinstance(created, UsesStorageSignIn):
        created.use_storage_sign_in(storage_sign_in_for)
    return created


STORAGE_SIGN_IN_PROVIDER = "azurerm"


def storage_sign_in_for(config: Mapping[str, Any]) -> Callable[[], Any]:
    """The Entra ID sign-in (client secret or certificate, OIDC, managed identity, Azure CLI) of a state
    backend in Azure with arguments ``config`` - the azurerm backend's, and terraform_remote_state's
    reading one - made by the installed azurerm provider (``SupportsStorageSignIn``) when first needed:
    loading the provider takes a while, and an access key or SAS token needs none of it."""

    def sign_in() -> Any:
        from state.backends.azurerm_auth import SignIn
        from state.errors import StateError

        provider = create_provider(STORAGE_SIGN_IN_PROVIDER)
        if not isinstance(provider, SupportsStorageSignIn):
            raise StateError(
                "azurerm backend",
                "Entra ID sign-in needs the azurerm provider, and the installed one does not offer it",
                hint="Use access_key (ARM_ACCESS_KEY) or sas_token (ARM_SAS_TOKEN) instead.",
            )
        try:
            credential, arm_endpoint, arm_scope = provider.storage_sign_in(config, dict(os.environ))
        except ProviderError as exc:
            raise StateError("azurerm backend", f"cannot sign in: {exc.message}") from None
        return SignIn(credential, arm_endpoint, arm_scope)

    return sign_in


def installed_providers() -> list:
    """One unconfigured instance of every installed provider (creating one talks to no cloud)."""
    names = set(plugins("vaultform.providers")) | set(bundled.PROVIDERS)
    return [p for name in sorted(names) if (p := create_provider(name)) is not None]


def describe_cloud(providers) -> str:
    """Which clouds ``providers`` talk to, in their own words (``SupportsDescribe``); "" when none says."""
    return "; ".join(p.describe() for p in providers if isinstance(p, SupportsDescribe))


def explain_unknown_type(mode: Mode, type_name: str) -> str | None:
    """The provider's own words for a type it doesn't serve (``ProviderSchema.explain_unknown``)."""
    schema = schema_for(provider_name_for_type(type_name))
    if schema is None or schema.explain_unknown is None:
        return None
    return schema.explain_unknown(mode, type_name)

"""What every resource handler shares: its context, its shape, and value helpers.

A handler maps one azurerm type's attributes to and from Azure's wire JSON (the
REST bodies the SDK sends and receives, camelCase, as DOMAIN.md section 3 shows).
Responses from either SDK generation (msrest models or the newer dict-like
models) are turned into that JSON by ``wire``, so every mapping reads the same
shape whatever client produced it.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import AzureError

from providers.azurerm.clients import ClientFactory
from providers.azurerm.consistency import Waiter
from providers.azurerm.errors import classify
from providers.base import Clock, NotFoundError, PermanentError, check_cloud_guard
from reconciler.values import UNKNOWN


@dataclass
class Context:
    """What a handler may use: SDK clients, a waiter that reports, the clock."""

    clients: ClientFactory
    waiter: Waiter = field(default_factory=Waiter)
    features: dict[str, Any] = field(default_factory=dict)  # the provider block's features {}
    # the run's listings (``providers.azurerm.listing.Listing``) a refresh reads from; None: GET each
    listing: Any = None
    # ids (lower case) of the key vaults this run recovered from soft delete: their keys came back
    # with them, and a create of one of those keys takes it (``KeyVaultKey.create``)
    recovered_key_vaults: set[str] = field(default_factory=set)

    def feature(self, group: str, name: str, default: bool) -> bool:
        """``features { <group> { <name> = bool } }``, or azurerm's default."""
        got = value(block(self.features, group) or {}, name)
        return default if got is None else bool(got)

    @property
    def clock(self) -> Clock:
        return self.waiter.clock

    @property
    def subscription_id(self) -> str:
        return self.clients.subscription_id


class Handler(abc.ABC):
    """One managed resource type. Subclasses set ``type_name`` and implement create,
    read and delete (and update when Azure changes anything in place); ``import_``
    reads by id unless a type needs more."""

    type_name: str = ""
    # Attributes a refresh reads back from Azure (what drift can see); the engine's
    # rules use this to know which planned values a read confirms.
    refreshed: tuple[str, ...] = ()
    # Attributes Azure lets change in place (everything else in the schema that is
    # not computed is force-new for this type).
    updatable: tuple[str, ...] = ()
    # Provider-private facts a refresh adds beside the schema's attributes, for the
    # engine's domain rules (e.g. a vault's item history, whether a key is enabled).
    private: tuple[str, ...] = ()
    # Provider-private facts the cloud doesn't keep, kept in state from run to run (the engine
    # stores what a create or update returns under these names, hands them back in ``prior``,
    # and a refresh carries them on): a vault's keys it moved away from.
    kept: tuple[str, ...] = ()
    # Values Azure fills in for optional arguments nobody set (read back as "unset").
    implicit: dict[str, Any] = {}
    # The object shows some time after Azure accepted its create (an asynchronous write): a crash
    # recovery can't conclude from its absence that the create never happened.
    asynchronous_create: bool = False

    @abc.abstractmethod
    def create(self, ctx: Context, planned: dict[str, Any]) -> dict[str, Any]: ...

    @abc.abstractmethod
    def read(self, ctx: Context, prior: dict[str, Any]) -> dict[str, Any] | None: ...

    def update(
        self, ctx: Context, prior: dict[str, Any], planned: dict[str, Any], changed: tuple[str, ...]
    ) -> dict[str, Any]:
        raise PermanentError(f"{self.type_name} can't change in place; it is replaced", code="Unsupported")

    @abc.abstractmethod
    def delete(self, ctx: Context, prior: dict[str, Any]) -> None: ...

    def import_(self, ctx: Context, id_: str) -> dict[str, Any] | None:
        return self.read(ctx, {"id": id_})

    def existing(self, ctx: Context, planned: dict[str, Any], id_: str) -> str | None:
        """The id of an object already where ``create(planned)`` would put its own
        (``id_`` is the id the create would give it), or None when the place is free.
        A create must not take over such an object: it belongs to someone else's
        configuration (or to this one's state before ``state rm``) until imported."""
        found = self.read(ctx, {**planned, "id": id_})
        return None if found is None else str(found.get("id") or id_)


class DataSource(abc.ABC):
    type_name: str = ""
    private: tuple[str, ...] = ()

    @abc.abstractmethod
    def read(self, ctx: Context, config: dict[str, Any]) -> dict[str, Any] | None: ...


# --------------------------------------------------------------------------- wire values


def wire(obj: Any) -> Any:
    """An SDK response (model, mapping, list) as plain REST JSON."""
    if obj is None or isinstance(obj, (int, float, bool)):
        return obj
    if isinstance(obj, enum.Enum):  # SDK enums (str subclasses)
        return obj.value
    if isinstance(obj, str):
        return str(obj)
    serialize = getattr(obj, "serialize", None)
    if callable(serialize) and hasattr(obj, "_attribute_map"):  # msrest models
        return serialize(keep_readonly=True)
    if isinstance(obj, Mapping):  # the newer dict-like models
        return {k: wire(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [wire(v) for v in obj]
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if hasattr(obj, "value") and isinstance(obj.value, str):
        return obj.value
    return obj


def dig(doc: Any, path: str, default: Any = None) -> Any:
    """``dig(body, "properties.encryption.kekIdentity")``; keys compared case-insensitively."""
    cur = doc
    for part in path.split("."):
        if not isinstance(cur, Mapping):
            return default
        if part in cur:
            cur = cur[part]
            continue
        low = part.lower()
        for k, v in cur.items():
            if isinstance(k, str) and k.lower() == low:
                cur = v
                break
        else:
            return default
    return default if cur is None else cur


def known(value: Any) -> bool:
    return value is not UNKNOWN and value is not None


def value(planned: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """A planned value, with unknown/None read as ``default``."""
    v = planned.get(name)
    return default if v is None or v is UNKNOWN else v


def block(planned: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """A nested block whether the schema nests it as one dict or a list of one."""
    v = planned.get(name)
    if v is None or v is UNKNOWN:
        return None
    if isinstance(v, list):
        return v[0] if v and isinstance(v[0], dict) else None
    return v if isinstance(v, dict) else None


def blocks(planned: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    v = planned.get(name)
    if v is None or v is UNKNOWN:
        return []
    if isinstance(v, dict):
        return [v]
    return [b for b in v if isinstance(b, dict)]


def canon(value_: Any, choices: Iterable[str]) -> Any:
    """``value_`` in the catalog's spelling when it matches a choice case-insensitively."""
    if not isinstance(value_, str):
        return value_
    low = value_.lower()
    for c in choices:
        if c.lower() == low:
            return c
    return value_


def canon_list(values: Iterable[str] | None, choices: Iterable[str]) -> list[str]:
    choices = tuple(choices)
    return [canon(v, choices) for v in (values or [])]


def tags_of(planned: Mapping[str, Any]) -> dict[str, str]:
    return dict(value(planned, "tags", {}) or {})


def not_found_is_none(fn: Callable[[], Any]) -> Any:
    """Run an SDK read (or a delete of what may be gone already); a 404 (or the SDK's not-found)
    gives None, anything else raises the classified provider error. The apply's
    ``check_cloud_guard`` is asked first, as ``call`` asks it."""
    check_cloud_guard()
    try:
        return fn()
    except NotFoundError:
        return None
    except AzureError as exc:
        err = classify(exc)
        if isinstance(err, NotFoundError):
            return None
        raise err from exc


def call(fn: Callable[[], Any]) -> Any:
    """Run an SDK call; its exception becomes the classified provider error.

    A 404 here is not "the object is gone" (reads use ``not_found_is_none``) but a
    write or lookup naming something Azure doesn't have: a permanent failure. The apply's
    ``check_cloud_guard`` is asked first: a run that lost its state lock sends nothing more."""
    check_cloud_guard()
    try:
        return fn()
    except AzureError as exc:
        err = classify(exc)
        if isinstance(err, NotFoundError):
            raise PermanentError(err.message, code=err.code, status=err.status) from exc
        raise err from exc


def wait_lro(poller: Any) -> Any:
    """Finish a long-running operation (the SDK polls; the emulator answers at once)."""
    return call(poller.result)


# --------------------------------------------------------------------------- locations


def normalize_location(location: str | None) -> str:
    """Azure's short form: "West Europe" -> "westeurope"."""
    return (location or "").replace(" ", "").lower()


def keep_location(preferred: Any, azure: str | None) -> str | None:
    """The user's spelling when it names the same region Azure reports (azurerm
    suppresses that difference too); otherwise Azure's."""
    if isinstance(preferred, str) and normalize_location(preferred) == normalize_location(azure):
        return preferred
    return azure


def keep_spelling(preferred: Any, azure: Any) -> Any:
    """The prior/planned string when it equals Azure's case-insensitively (ids)."""
    if isinstance(preferred, str) and isinstance(azure, str) and preferred.lower() == azure.lower():
        return preferred
    return azure


def enabled_flag(value_: bool | None) -> str:
    return "Enabled" if value_ else "Disabled"


def flag_enabled(text: Any, default: bool = False) -> bool:
    if text is None:
        return default
    return str(text).lower() == "enabled"

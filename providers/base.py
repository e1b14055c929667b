"""The provider protocol: what the engine asks of a cloud plug-in.

Request/response shaped so fields can be added without breaking callers. Objects
travel as plain dicts keyed by the schema's attribute names (nested blocks as
dicts or lists of dicts); ``id`` is always present on a managed object.

Errors are one of three kinds, and the executor (never the provider) owns retries:
``RetryableError`` (with a delay hint), ``PermanentError``, ``NotFoundError``; an
``IncompleteError`` is a permanent one that carries the object a half-done write left.
Clock and id generation are injectable (``Clock``) so tests are deterministic.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from providers.schema import ProviderSchema
from state.addresses import InstanceAddress, Node, parse_address

if TYPE_CHECKING:  # drift's types are loaded by the commands that judge drift
    from providers.drift_protocol import DriftEstate, DriftRules, UnmanagedListing

# --------------------------------------------------------------------------- errors


class ProviderError(Exception):
    """Base of every error a provider reports. ``code`` is the cloud's own code."""

    def __init__(self, message: str, *, code: str = "", status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class RetryableError(ProviderError):
    """Try again later. ``waiting``: nothing failed - the cloud's own operation is still under way, and
    the apply checks on it again (told to the user as a wait, not as a failed attempt)."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        waiting: bool = False,
    ):
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after
        self.waiting = waiting


class PermanentError(ProviderError):
    pass


# Set by the apply engine while a step runs (in the step's thread): raises a ``PermanentError`` when
# the run may no longer change the cloud - it lost its state lock to another run. A provider asks
# (``check_cloud_guard``) just before each call it sends, so a run that stalled between deciding and
# sending (a paused VM, a laptop asleep) sends nothing once it wakes.
CLOUD_GUARD: ContextVar[Callable[[], None] | None] = ContextVar("vaultform_cloud_guard", default=None)


def check_cloud_guard() -> None:
    guard = CLOUD_GUARD.get()
    if guard is not None:
        guard()


class NotFoundError(ProviderError):
    pass


class IncompleteError(PermanentError):
    """A create or update that changed the object, then failed a later step of the same operation
    (e.g. a key vault created whose certificate contacts Key Vault refused). ``state`` is the object
    as it now is: the engine records it, so the object is not lost, and reports the failure."""

    def __init__(self, message: str, state: dict[str, Any], *, code: str = "", status: int | None = None):
        super().__init__(message, code=code, status=status)
        self.state = state


# --------------------------------------------------------------------------- clock


def _random_uuid() -> str:
    import uuid  # loaded when an id is made: every command starts faster without it

    return str(uuid.uuid4())


@dataclass
class Clock:
    """Time and id source; tests pass fixed functions. ``now`` is wall-clock seconds since the
    epoch (what a plan is judged at), ``monotonic`` measures durations, ``sleep`` waits."""

    now: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    new_id: Callable[[], str] = _random_uuid


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class ValidateRequest:
    type_name: str
    mode: str  # "managed" | "data"
    config: dict[str, Any]  # evaluated; may contain UNKNOWN


@dataclass(frozen=True)
class ReadRequest:
    type_name: str
    prior: dict[str, Any]  # the recorded object (at least its id)


@dataclass(frozen=True)
class ReadResponse:
    state: dict[str, Any] | None  # None: the object is gone; under ``state.model.KEPT_FACTS``, the
    # names of the private facts ("_"-named) in it that state keeps (the others are the read's own)


@dataclass(frozen=True)
class DataRequest:
    type_name: str
    config: dict[str, Any]


@dataclass(frozen=True)
class CreateRequest:
    type_name: str
    planned: dict[str, Any]  # config values with defaults; UNKNOWN for computed
    address: str = ""  # the instance address, for messages ("import <address> <id>")


@dataclass(frozen=True)
class UpdateRequest:
    type_name: str
    prior: dict[str, Any]
    planned: dict[str, Any]
    changed: tuple[str, ...] = ()  # top-level attribute names that differ


@dataclass(frozen=True)
class DeleteRequest:
    type_name: str
    prior: dict[str, Any]


@dataclass(frozen=True)
class ApplyResponse:
    state: dict[str, Any]


@dataclass(frozen=True)
class ImportRequest:
    type_name: str
    id: str


@dataclass(frozen=True)
class PlanRulesRequest:
    """Everything a provider needs to judge a plan: one entry per instance."""

    instances: tuple[PlannedInstance, ...]
    # the moment the plan is judged at (key expiry), read once from the engine's clock:
    # rules never read the clock themselves, so a plan is a function of its inputs
    now: datetime


@dataclass(frozen=True)
class PlannedInstance:
    address: InstanceAddress  # text is read as an address (fixtures, tests)
    type_name: str
    action: str  # "create", "update", "replace", "delete", "no-op", "read"
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    refreshed: dict[str, Any] | None = None
    depends_on: tuple[Node, ...] = ()  # the graph nodes the instance waits for
    # top-level attribute name -> the references its expression makes, as written
    # ("azurerm_recovery_services_vault.vault.identity[0].principal_id"), so rules can match
    # objects whose ids are not known before apply
    references: dict[str, tuple[str, ...]] = field(default_factory=dict)
    location: str = ""  # "main.tf:12", for diagnostics
    # True: every reference text carries its whole module path, the root's none (the planner
    # sends them so, and a module's input variable can lead back to a root object); False: a
    # text in a module names that module's objects without its path, as written there
    absolute_references: bool = False
    # a replacement that makes the new object before it deletes the old (lifecycle
    # create_before_destroy, set or forced): the object is never missing in between
    create_before_destroy: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.address, str):
            object.__setattr__(self, "address", parse_address(self.address))


@dataclass(frozen=True)
class OrderingEdge:
    before: Node  # the graph node (an instance, or one of its phases) that must finish first
    after: Node
    rule: str  # "O1".."O5"
    reason: str = ""


@dataclass
class PlanRulesResponse:
    diagnostics: list = field(default_factory=list)
    edges: list[OrderingEdge] = field(default_factory=list)


class WithoutPlanRules:
    """Base of a provider that has no plan rules (terraform_data, random, time): its ``plan_rules``
    answers nothing, and the engine, seeing the base, doesn't build the rules' view of its
    instances at all (at 10,000 terraform_data instances that view was about 6% of a plan)."""

    def plan_rules(self, req: PlanRulesRequest) -> PlanRulesResponse:
        return PlanRulesResponse()


@runtime_checkable
class Provider(Protocol):
    name: str

    def schema(self) -> ProviderSchema: ...

    def configure(self, config: dict[str, Any]) -> list: ...

    def validate(self, req: ValidateRequest) -> list: ...

    def read(self, req: ReadRequest) -> ReadResponse: ...

    def read_data(self, req: DataRequest) -> ReadResponse: ...

    def create(self, req: CreateRequest) -> ApplyResponse: ...

    def update(self, req: UpdateRequest) -> ApplyResponse: ...

    def delete(self, req: DeleteRequest) -> None: ...

    def import_(self, req: ImportRequest) -> ReadResponse: ...

    def plan_rules(self, req: PlanRulesRequest) -> PlanRulesResponse: ...


@runtime_checkable
class Locating(Protocol):
    """Optional: what a provider whose objects live in a cloud offers for crash safety.

    Before each create the engine records its intent with ``planned_id`` (the id the
    create will give the object, when names make it: ARM ids do); a run that finds
    such an intent left by a crash imports that id to adopt the object, and before
    creating again it asks ``locate`` with the final configuration, so an object is
    never created twice. ``objects_outside_state`` False (the built-in provider)
    means the objects exist only in state: nothing to find after a crash, and
    creates need no recorded intent.
    """

    objects_outside_state: bool

    def planned_id(self, type_name: str, planned: dict[str, Any]) -> str | None: ...

    def locate(self, type_name: str, planned: dict[str, Any]) -> dict[str, Any] | None: ...


# --------------------------------------------------------------------------- optional capabilities
#
# The engine asks ``isinstance(provider, SupportsX)`` before using one; a provider without
# it gets the engine's generic behaviour (drift compares attributes only, audit says the
# provider has none, the cloud is described by the provider's name).


@runtime_checkable
class SupportsEmptyTarget(Protocol):
    """Optional: says when the cloud it talks to held nothing before this run opened it (a
    local Azure database that was missing or 0 bytes), in a few words ("the local Azure at
    PATH"); None otherwise. The engine refuses to plan against it while state records objects
    of this provider: every one of them would be created again."""

    def empty_target(self) -> str | None: ...


@runtime_checkable
class SupportsStorageSignIn(Protocol):
    """Optional: the provider's sign-in for a state backend in the same cloud (the azurerm backend with
    use_azuread_auth or a resource group): from azurerm-style arguments and the environment, a credential
    with ``get_token``, Resource Manager's endpoint and its token scope. ``ProviderError`` when the
    arguments don't sign in."""

    def storage_sign_in(
        self, config: Mapping[str, Any], environ: Mapping[str, str]
    ) -> tuple[Any, str, str]: ...


# A state backend's sign-in, made from its arguments: ``sign_in_for(config)`` is the callable a backend
# calls when it first needs Entra ID (``state.backends.azurerm_auth``: its ``sign_in`` argument).
StorageSignInFor = Callable[[Mapping[str, Any]], Callable[[], Any]]


@runtime_checkable
class UsesStorageSignIn(Protocol):
    """Optional: a provider that reads state from a backend in Azure (``terraform_remote_state``) and signs
    in to it as the backend itself does. The engine hands it the sign-in of the provider that offers
    ``SupportsStorageSignIn`` when it creates it; no provider imports another."""

    def use_storage_sign_in(self, sign_in_for: StorageSignInFor) -> None: ...


@runtime_checkable
class SupportsPrefetch(Protocol):
    """Optional: read a run's objects in bulk before the engine reads them one by one. The engine
    hands every read it is about to make, once per refresh; the provider may answer the reads that
    follow from what it fetched (a cloud's lists), and reads as usual what it did not. It must not
    raise for what it could not fetch: the per-object read then says what is wrong."""

    def prefetch(self, requests: Sequence[ReadRequest]) -> None: ...


@runtime_checkable
class SupportsDescribe(Protocol):
    """Optional: which cloud the provider talks to, in a few words for reports."""

    def describe(self) -> str: ...


@runtime_checkable
class SupportsAudit(Protocol):
    """Optional: a compliance audit of everything the credentials can read, one dict per
    audited object with ``findings`` and ``compliant`` (``reconciler/drift/SCHEMA.md``)."""

    def audit(self) -> list[dict[str, Any]]: ...


@runtime_checkable
class SupportsTenantAudit(Protocol):
    """Optional: ``SupportsAudit`` over every account the credentials can see (``scopes`` None) or the
    named ones, in one pass; each audited object says which account it is in. ``progress`` hears a
    line as each account is read and judged; ``patiently`` runs each account's reads, waiting out
    the refusals the cloud clears on its own, so one throttled account is read again on its own."""

    def audit_tenant(
        self,
        scopes: Sequence[str] | None,
        progress: Callable[[str], None],
        patiently: Callable[[Callable[[], Any]], Any] = lambda read: read(),
    ) -> TenantAudit: ...


@dataclass
class TenantAudit:
    """A tenant's audit: the audited objects, the accounts read (in order, those with nothing in
    them too), and each account that could not be read with why - the others are still audited."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    unreadable: list[dict[str, str]] = field(default_factory=list)  # {"subscription", "error"}


@runtime_checkable
class SupportsDriftRules(Protocol):
    """Optional: what drift of the provider's objects means (``providers.drift_protocol``)."""

    def drift_rules(self, estate: DriftEstate) -> DriftRules: ...


@runtime_checkable
class SupportsUnmanagedListing(Protocol):
    """Optional: objects in the estate's scope (the containers its objects live in) that no
    state entry tracks; what could not be listed comes back as problems, not errors. ``progress``
    hears of each wait the listing makes (a grant on its way, say), one line each."""

    def list_unmanaged(
        self, estate: DriftEstate, progress: Callable[[str], None] | None = None
    ) -> UnmanagedListing: ...

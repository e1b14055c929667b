"""Resolve the operations a crashed run left pending, by reading the cloud.

Before each create, update or delete of a cloud object the apply records its intent
(``PendingOperation``) in state; when the run completes the operation the result
replaces it. A run that was killed in between leaves the intent behind, and the next
run resolves it here, before refresh and planning, so the plan starts from what the
cloud really holds and nothing is ever created twice:

============  ===============================  =========================================
intent        the cloud holds the object        the cloud doesn't
============  ===============================  =========================================
create        adopt it (imported by the id      forget the intent: the create never
              recorded with the intent)         happened, the plan creates it
update        keep it, take its current values  forget the instance (deleted meanwhile)
              (the plan finishes the update)
delete        keep it (the plan decides again)  forget the instance: the delete happened
============  ===============================  =========================================

A create intent without a recorded id (its provider can't know the id in advance)
stays pending: the instance is planned as absent, and the executor asks the
provider to ``locate`` the object with the final configuration before creating it
(``locate_left_over``). Reading is the only effect; the caller persists the result.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from providers.base import (
    Clock,
    ImportRequest,
    Locating,
    NotFoundError,
    ProviderError,
    ReadRequest,
    ReadResponse,
    RetryableError,
)
from reconciler.apply.retry_policy import RetryPolicy
from reconciler.diagnostics import Diagnostic, DiagnosticsError, error, warning
from state.model import InstanceState, Mode, PendingAction, State


class Outcome(enum.Enum):
    ADOPTED = "adopted"  # a create had happened: the object is now in state
    NOT_CREATED = "not created"  # a create had not happened: the intent is dropped
    UPDATED = "updated"  # the object's current values replace the recorded ones
    GONE = "gone"  # the object no longer exists: forgotten
    KEPT = "kept"  # a delete had not happened: the object stays
    LEFT_FOR_APPLY = "left for apply"  # no id to look for: apply locates it before creating
    # the old object of a create-first replacement, whose delete was interrupted: gone, or still in
    # the cloud - out of the state, which keeps one object per address (``deposed_left`` says so)
    DEPOSED_GONE = "old object gone"
    DEPOSED_KEPT = "old object left in the cloud"


@dataclass(frozen=True)
class Resolution:
    address: str
    operation: PendingAction
    outcome: Outcome
    object_id: str | None = None

    def describe(self) -> str:
        what = f" ({self.object_id})" if self.object_id else ""
        return f"{self.address}: interrupted {self.operation.value} -> {self.outcome.value}{what}"


@dataclass
class Recovery:
    state: State
    resolutions: list[Resolution] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(r.outcome is not Outcome.LEFT_FOR_APPLY for r in self.resolutions)


def pending_instances(state: State):
    """(address, resource, instance) of every managed instance with a pending operation."""
    for iaddr, res, inst in state.instances():
        if inst.pending is not None and res.mode is Mode.MANAGED:
            yield str(iaddr), res, inst


# told of each wait for a read Azure refuses for now: (address, Azure's reason, seconds)
WaitReporter = Callable[[str, str, float], None]


def resolve_pending(
    state: State,
    providers: Mapping[str, Any],
    *,
    clock: Clock | None = None,
    report: WaitReporter | None = None,
) -> Recovery:
    """Resolve every pending operation in ``state``; raises ``DiagnosticsError`` when a
    read fails (planning on a guess could create an object twice). A read Azure refuses for
    now (throttled, or a grant the stopped run made still on its way) is tried again within
    the apply's budgets for the same refusal, each wait told to ``report``."""
    out = Recovery(state)
    clock, policy, rng = clock or Clock(), RetryPolicy(), random.Random()
    failures: list[Diagnostic] = []
    for address, res, inst in list(pending_instances(state)):
        provider = providers.get(res.provider.split(".")[0])
        if provider is None:
            out.diagnostics.append(
                warning(
                    "pending_unresolved",
                    f"{address} has an interrupted {inst.pending.operation.value}",
                    f"The {res.provider} provider is not configured in this run, so vaultform can't look "
                    "for the object. Add the provider to the configuration and run plan again.",
                    address=address,
                )
            )
            continue
        try:
            resolution, new_inst = policy.run(
                partial(_resolve, provider, res.type, address, inst),
                sleep=clock.sleep,
                jitter=rng.random,
                on_wait=partial(_told, report, address),
            )
        except ProviderError as exc:
            failures.append(
                error(
                    exc.code or "pending_unresolved",
                    f"Could not learn what happened to the interrupted {inst.pending.operation.value} "
                    f"of {address}",
                    f"{exc.message}. A previous run stopped during this operation; "
                    "vaultform reads the object before planning so it never creates it twice. Fix the "
                    "cause (access, network) and run again; a refusal right after a grant the stopped "
                    "run made may only be the grant still on its way (it takes seconds to minutes).",
                    address=address,
                )
            )
            continue
        out.resolutions.append(resolution)
        if resolution.outcome is Outcome.DEPOSED_KEPT:
            out.diagnostics.append(
                warning(
                    "deposed_left",
                    f"The old object of {address}'s replacement is still in the cloud",
                    "A run stopped while it deleted the object that " + address + "'s create_before_destroy "
                    "replacement took the place of. " + deposed_left({"id": resolution.object_id}),
                    address=address,
                )
            )
        if new_inst is None:
            out.state = out.state.without_instance(address)
        elif new_inst is not inst:
            out.state = out.state.with_instance(address, new_inst)
    if failures:
        raise DiagnosticsError(failures)
    return out


def _told(
    report: WaitReporter | None, address: str, refusal: RetryableError, _attempt: int, delay: float
) -> None:
    if report is not None:
        report(address, refusal.message, delay)


def _resolve(
    provider, type_name: str, address: str, inst: InstanceState
) -> tuple[Resolution, InstanceState | None]:
    op = inst.pending
    if op is None:  # callers pass only instances with a pending operation
        return Resolution(address, PendingAction.CREATE, Outcome.NOT_CREATED), inst
    cloud = bool(getattr(provider, "objects_outside_state", True))
    if op.operation is PendingAction.CREATE and not inst.attributes:
        if not cloud:
            return Resolution(address, op.operation, Outcome.NOT_CREATED), None
        if not op.planned_id:
            return Resolution(address, op.operation, Outcome.LEFT_FOR_APPLY), inst
        found = _import(provider, type_name, op.planned_id)
        if found is None:
            return Resolution(address, op.operation, Outcome.NOT_CREATED, op.planned_id), None
        return (
            Resolution(address, op.operation, Outcome.ADOPTED, found.get("id")),
            replace(inst.with_read(found), pending=None),
        )
    current = inst.attributes.get("id")
    if op.operation is PendingAction.DELETE and op.planned_id and current and op.planned_id != current:
        # the old object of a create-first replacement: the state holds the new one, which stays
        old = _import(provider, type_name, op.planned_id) if cloud else None
        return Resolution(
            address, op.operation, Outcome.DEPOSED_KEPT if old else Outcome.DEPOSED_GONE, op.planned_id
        ), replace(inst, pending=None)
    # the object was known before the operation: read it again, as the provider last recorded it (its
    # private facts too: a read compares with them, e.g. a vault's key with the one it had)
    outcome = Outcome.KEPT if op.operation is PendingAction.DELETE else Outcome.UPDATED
    if not cloud:  # the object lives only in state: as recorded
        return Resolution(address, op.operation, outcome, inst.attributes.get("id")), replace(
            inst, pending=None
        )
    read = _read(provider, type_name, {**inst.attributes, **inst.private})
    if read is None or read.state is None:
        return Resolution(address, op.operation, Outcome.GONE, inst.attributes.get("id")), None
    return (
        Resolution(address, op.operation, outcome, read.state.get("id")),
        replace(inst.with_read(read.state), pending=None),
    )


def _import(provider, type_name: str, id_: str) -> dict | None:
    try:
        return provider.import_(ImportRequest(type_name, id_)).state
    except NotFoundError:
        return None


def _read(provider, type_name: str, prior: dict) -> ReadResponse | None:
    try:
        return provider.read(ReadRequest(type_name, prior))
    except NotFoundError:
        return None


# --------------------------------------------------------------------------- during apply


def locate_left_over(provider, state: State, address: str, type_name: str, config: dict) -> dict | None:
    """Before a create: the object an interrupted create of ``address`` already made.

    Asked only when state still holds a create intent for ``address`` (one that
    recovery could not resolve by id), so objects made outside vaultform are never
    taken over silently. Returns the object shaped as ``create`` returns it.
    """
    inst = state.instance(address)
    if inst is None or inst.pending is None or inst.pending.operation is not PendingAction.CREATE:
        return None
    if not isinstance(provider, Locating):
        return None
    try:
        return provider.locate(type_name, config)
    except NotFoundError:
        return None


def summary(resolutions: list[Resolution]) -> str:
    """One line per resolved operation, for the run's output."""
    return "\n".join(r.describe() for r in resolutions)


def deposed_left(old: Mapping[str, Any] | None) -> str:
    """What to do about the old object of a create-first replacement that is still in the cloud."""
    ident = (old or {}).get("id") or "its id is in the state's backup"
    return (
        f"The old object ({ident}) is still in the cloud and no longer in the state, which keeps one "
        "object per address: delete it where the cloud allows it (once nothing uses it), or import it "
        "under an address of its own to manage it."
    )

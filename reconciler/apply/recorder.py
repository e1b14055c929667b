"""The state as apply changes it: one in-memory truth, persisted durably and cheaply.

Two kinds of change reach the state during apply, and they need different care:

* An **intent** (a pending operation) for an object that lives in a cloud must be on
  disk *before* the request that makes the object is sent: after a crash it is the
  only trace of a create whose result was never recorded. ``pending`` therefore
  returns only once a write that includes the intent has finished (fsync and all).
* A **result** (created, updated, deleted, read, outputs) may be written a moment
  later: if a crash loses it, the intent recorded before the request is still on
  disk and the next run resolves it by reading the cloud (``reconciler.apply.recovery``).
  Objects of a provider with no cloud (``terraform_data``) need no intent at all:
  a lost result there leaves nothing behind in any cloud, and the next run simply
  plans the instance again.

With ``write_behind`` a single writer thread persists the latest state whenever it
changed, so many results share one write, and every intent waiting while a write is
in flight is covered by the next one (group commit). Without it (the default, for
callers that make a handful of changes) every change is written at once.
``flush`` and ``close`` return when everything recorded so far is on disk; the
apply command calls ``close`` on every way out, Ctrl-C included.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from providers.base import Clock, Locating
from reconciler import providers_registry as registry
from reconciler.addresses import Mode
from reconciler.diagnostics import DiagnosticsError, error
from reconciler.plan.model import ResourceChange
from state.errors import StateError
from state.model import (
    InstanceAddress,
    InstanceState,
    OutputState,
    PendingAction,
    PendingOperation,
    State,
    parse_address,
    terraform_attributes,
)


def request_digest(type_name: str, config: Any) -> str:
    text = json.dumps([type_name, config], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def needs_intent(provider: Any) -> bool:
    """Whether objects of ``provider`` exist outside state (then a crash can leave one)."""
    return bool(getattr(provider, "objects_outside_state", True))


class StateRecorder:
    """One writer of the state during apply.

    ``providers`` (name -> provider) lets ``pending`` skip intents for objects that
    live only in state and ask a provider for the id a create will produce.
    ``batch_interval`` is how long the writer lets results gather before a write
    when no intent is waiting (seconds).
    """

    def __init__(
        self,
        backend,
        state: State,
        *,
        providers: Mapping[str, Any] | None = None,
        write_behind: bool = False,
        batch_interval: float = 0.05,
        clock: Clock | None = None,
    ):
        self.backend = backend
        self.clock = clock or Clock()  # when an operation started, as its pending record says
        self.state = state
        self.providers = dict(providers or {})
        self.write_behind = write_behind
        self.batch_interval = batch_interval
        self.writes = 0  # how many times the backend wrote (for measurements)
        self._lock = threading.Condition(threading.Lock())
        self._write_lock = threading.Lock()  # the backend is not thread-safe
        self._changed = 0  # bumped on every in-memory change
        self._stored = 0  # the last change known to be on disk
        self._urgent = 0  # the newest change someone waits for
        self._failure: BaseException | None = None
        self._stopping = False
        self._writer: threading.Thread | None = None
        if write_behind:
            self._writer = threading.Thread(target=self._write_loop, name="state-writer", daemon=True)
            self._writer.start()

    # ------------------------------------------------------------------ core

    def update(self, fn: Callable[[State], State], *, durable: bool = False) -> State:
        """Apply ``fn`` to the state; with ``durable`` return only once it is on disk."""
        with self._lock:
            self._raise_failure()
            new = fn(self.state)
            changed = new is not self.state and not new.same_content(self.state)
            self.state = new
            if changed:
                self._changed += 1
            target = self._changed
            if not self.write_behind:
                if changed:
                    self._write_now()
                return self.state
            if self._stored >= target:
                return new
            if durable:
                self._urgent = max(self._urgent, target)
            self._lock.notify_all()
            if durable:
                while self._stored < target and self._failure is None:
                    self._lock.wait()
                self._raise_failure()
            return new

    def flush(self) -> State:
        """Return once every change recorded so far is on disk."""
        return self.update(lambda s: s, durable=True) if self.write_behind else self.state

    def close(self) -> State:
        """Flush and stop the writer; safe to call more than once."""
        try:
            self.flush()
        finally:
            with self._lock:
                self._stopping = True
                self._lock.notify_all()
            if self._writer is not None and self._writer is not threading.current_thread():
                self._writer.join()
            self._writer = None
        return self.state

    def __enter__(self) -> StateRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise _as_diagnostics(self._failure)

    def _write_now(self) -> None:
        """Synchronous mode: write under the state lock (callers hold it)."""
        try:
            written = self.backend.write(self.state)
        except StateError as exc:
            raise _as_diagnostics(exc) from None
        self.writes += 1
        self.state = written
        self._stored = self._changed

    def _write_loop(self) -> None:
        while True:
            with self._lock:
                while self._stored >= self._changed and not self._stopping:
                    self._lock.wait()
                if self._stored >= self._changed:
                    return  # stopping, and nothing left to write
                if self.batch_interval > 0:
                    # only results are waiting: let a few more gather. Every change notifies, so
                    # the wait goes on until the interval ends or someone waits for a write (an
                    # intent, a flush, close); waking at the next result would write once per result
                    deadline = time.monotonic() + self.batch_interval
                    while self._urgent <= self._stored and not self._stopping:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            break
                        self._lock.wait(remaining)
                snapshot, target = self.state, self._changed
            try:
                with self._write_lock:
                    written = self.backend.write(snapshot)
            except BaseException as exc:  # a full disk or a changed file: tell every waiter
                with self._lock:
                    self._failure = exc
                    self._stopping = True
                    self._lock.notify_all()
                return
            with self._lock:
                self.writes += 1
                if self.state is snapshot:
                    self.state = written  # carry the stored serial
                self._stored = max(self._stored, target)
                self._lock.notify_all()

    def attributes(self, address: str) -> dict | None:
        inst = self.state.instance(address)
        if inst is None or (inst.pending is not None and not inst.attributes):
            return None
        return {**inst.attributes, **inst.private}  # the provider's kept facts go back to it

    # ------------------------------------------------------------------ operations

    def pending(
        self, change: ResourceChange, operation: PendingAction, config: Any, planned_id: str | None = None
    ) -> None:
        """Record the intent to change ``change``'s object; on disk when this returns.

        Skipped for providers whose objects live only in state. ``planned_id``, when not
        given for a create, is asked of the provider (the id the create will produce).
        """
        provider = self.providers.get(change.provider)
        if provider is not None and not needs_intent(provider):
            return
        if planned_id is None and operation is PendingAction.CREATE and isinstance(provider, Locating):
            planned_id = provider.planned_id(change.type, config)
        started = datetime.fromtimestamp(self.clock.now(), UTC)
        op = PendingOperation(operation, started, planned_id, request_digest(change.type, config))

        def mark(state: State) -> State:
            inst = state.instance(change.address)
            if inst is None:
                inst = InstanceState(index_key=change.index)
            return state.with_instance(change.address, inst.with_pending(op), provider=change.provider)

        self.update(mark, durable=True)

    def created(
        self,
        change: ResourceChange,
        attributes: dict,
        sensitive_paths=(),
        types: dict[str, Any] | None = None,
    ) -> None:
        """Record the object a create or an update left; ``types``: those of its attributes of any
        type whose value alone doesn't tell them (``ApplyEvaluator.dynamic_types``)."""
        deps = dependencies_of(change)

        public = terraform_attributes(attributes)
        private = {k: v for k, v in attributes.items() if k.startswith("_")}  # ``Handler.kept`` facts

        def record(state: State) -> State:
            inst = InstanceState(
                index_key=change.index,
                attributes=public,
                private=private,
                types=dict(types or {}),
                sensitive_paths=tuple(sensitive_paths),
                dependencies=_kept(state, change.address, deps),
                create_before_destroy=change.create_before_destroy,
            )
            return state.with_instance(
                change.address, inst, provider=change.provider, prevent_destroy=change.prevent_destroy
            )

        self.update(record)

    def deleted(self, change: ResourceChange, *, deposed: bool = False) -> None:
        def forget(state: State) -> State:
            if deposed:
                inst = state.instance(change.address)
                return state if inst is None else state.with_instance(change.address, inst.with_pending(None))
            return state.without_instance(change.address)

        self.update(forget)

    def data_sources_forgotten(self) -> None:
        """A whole destroy leaves no data source behind in state, as terraform's destroy does."""

        def forget(state: State) -> State:
            for res in state.resources:
                if res.mode is Mode.DATA:
                    state = state.without_resource(res.address)
            return state

        self.update(forget)

    def clear_pending(self, change: ResourceChange) -> None:
        def clear(state: State) -> State:
            inst = state.instance(change.address)
            if inst is None or inst.pending is None:
                return state
            if not inst.attributes:
                return state.without_instance(change.address)
            return state.with_instance(change.address, inst.with_pending(None))

        self.update(clear)

    def unchanged(self, change: ResourceChange) -> None:
        """A no-op keeps the object but records today's dependencies and lifecycle flags."""
        deps = dependencies_of(change)

        def refresh(state: State) -> State:
            inst = state.instance(change.address)
            if inst is None:
                return state
            wanted = _kept(state, change.address, deps)
            res = state.resource(change.address)
            same = inst.dependencies == wanted and (
                res is None or res.prevent_destroy == change.prevent_destroy
            )
            if same:
                return state
            return state.with_instance(
                change.address, inst.with_dependencies(wanted), prevent_destroy=change.prevent_destroy
            )

        if change.mode is Mode.MANAGED:
            self.update(refresh)

    def data_read(self, change: ResourceChange, attributes: dict, sensitive_paths=()) -> None:
        def record(state: State) -> State:
            inst = InstanceState(
                index_key=change.index, attributes=dict(attributes), sensitive_paths=tuple(sensitive_paths)
            )
            existing = state.instance(change.address)
            if (
                existing is not None
                and dict(existing.attributes) == dict(attributes)
                and existing.sensitive_paths == inst.sensitive_paths
            ):
                return state
            return state.with_instance(
                change.address, inst, provider=change.provider or registry.provider_name_for_type(change.type)
            )

        self.update(record)

    def outputs(
        self,
        values: dict[str, Any],
        sensitive: dict[str, bool],
        types: dict[str, Any] | None = None,
        unknown: frozenset[str] = frozenset(),
    ) -> None:
        """Record the root module's outputs; ``types``: the type of each whose value alone doesn't
        tell it (``reconciler.value_shapes.output_type``). ``unknown``: outputs whose whole value
        the apply left unknown (an index a counted resource lacks), stored null all the same."""
        types = types or {}

        def record(state: State) -> State:
            # as terraform's: an output whose value is null is not kept in state, but one that is
            # unknown is kept as null of an unknown type (go-cty's UnknownAsNull of a dynamic value)
            wanted = {
                k: OutputState(v, sensitive.get(k, False), "dynamic" if v is None else types.get(k))
                for k, v in values.items()
                if v is not None or k in unknown
            }
            if dict(state.outputs) == wanted:
                return state
            return state.with_outputs(wanted)

        self.update(record)

    def accept_refreshed(self, refreshed: dict[str, dict | None]) -> None:
        """Refresh-only apply: take what the cloud says into state; objects gone are forgotten."""

        def record(state: State) -> State:
            for address, attrs in refreshed.items():
                inst = state.instance(address)
                if inst is None:
                    continue
                if attrs is None:
                    state = state.without_instance(address)
                elif (read := inst.with_read(attrs)) != inst:
                    state = state.with_instance(address, read)
            return state

        self.update(record, durable=True)


def _as_diagnostics(exc: BaseException) -> BaseException:
    """A state that can't be written is the user's to fix (space, permissions): a diagnostic."""
    if not isinstance(exc, StateError):
        return exc
    return DiagnosticsError(
        error(
            "state_write_failed",
            f"Could not save the state: {exc.summary}",
            (exc.detail + " " if exc.detail else "") + "Operations that completed may be missing from the "
            "state; the operations recorded as pending are resolved by the next run, which reads the cloud.",
        )
    )


def _kept(state: State, address: str, deps: tuple[InstanceAddress, ...]) -> tuple[InstanceAddress, ...]:
    """Today's dependencies plus those recorded before that still exist.

    An ordering rule speaks only when its objects change (a grant before the key it lets the
    deployer create); a later plan that only updates tags mustn't forget that edge, or a
    destroy would delete the grant before the key.
    """
    inst = state.instance(address)
    before = inst.dependencies if inst is not None else ()
    kept = {d for d in before if state.instance(d) is not None or state.resource(d) is not None}
    return tuple(sorted(set(deps) | kept, key=str))


def dependencies_of(change: ResourceChange) -> tuple[InstanceAddress, ...]:
    """The instances a change depends on (through any of its phases), as state records them."""
    deps = {d.address for d in change.depends_on}
    for more in change.phase_depends_on.values():
        deps.update(d.address for d in more)
    deps.discard(parse_address(change.address))
    return tuple(sorted(deps, key=str))

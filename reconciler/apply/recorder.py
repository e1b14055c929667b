"""The state as apply changes it: one writer, persisted after every completed operation.

Before an object is created, updated or deleted the intent is recorded as a pending
operation, so a crash leaves a trace the next run can resolve; after the operation the
result replaces it. Every change goes through ``StateRecorder.update`` under one lock
and is written through the backend at once (atomic, with a backup).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Callable

from reconciler.plan.model import ResourceChange
from state.model import InstanceState, PendingAction, PendingOperation, State


def request_digest(type_name: str, config: Any) -> str:
    text = json.dumps([type_name, config], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class StateRecorder:
    def __init__(self, backend, state: State):
        self.backend = backend
        self.state = state
        self._lock = threading.Lock()

    def update(self, fn: Callable[[State], State]) -> State:
        with self._lock:
            new = fn(self.state)
            if new is not self.state and not new.same_content(self.state):
                new = self.backend.write(new)
            self.state = new
            return new

    def attributes(self, address: str) -> dict | None:
        inst = self.state.instance(address)
        if inst is None or (inst.pending is not None and not inst.attributes):
            return None
        return dict(inst.attributes)

    # ------------------------------------------------------------------ operations

    def pending(self, change: ResourceChange, operation: PendingAction, config: Any,
                planned_id: str | None = None) -> None:
        op = PendingOperation(operation, datetime.now(timezone.utc), request_digest(change.type, config),
                              planned_id)

        def mark(state: State) -> State:
            inst = state.instance(change.address)
            if inst is None:
                inst = InstanceState(index_key=change.index)
            return state.with_instance(change.address, inst.with_pending(op), provider=change.provider)
        self.update(mark)

    def created(self, change: ResourceChange, attributes: dict, sensitive_paths=()) -> None:
        deps = dependencies_of(change)

        def record(state: State) -> State:
            inst = InstanceState(index_key=change.index, attributes=dict(attributes),
                                 sensitive_paths=tuple(sensitive_paths), dependencies=deps,
                                 create_before_destroy=change.create_before_destroy)
            return state.with_instance(change.address, inst, provider=change.provider,
                                       prevent_destroy=change.prevent_destroy)
        self.update(record)

    def deleted(self, change: ResourceChange, *, deposed: bool = False) -> None:
        def forget(state: State) -> State:
            if deposed:
                inst = state.instance(change.address)
                return state if inst is None else state.with_instance(change.address, inst.with_pending(None))
            return state.without_instance(change.address)
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
            res = state.resource(change.address.split("[")[0] if change.index is not None
                                 else change.address)
            same = inst.dependencies == deps and (res is None or res.prevent_destroy == change.prevent_destroy)
            if same:
                return state
            return state.with_instance(change.address, inst.with_dependencies(deps),
                                       prevent_destroy=change.prevent_destroy)
        if change.mode == "managed":
            self.update(refresh)

    def data_read(self, change: ResourceChange, attributes: dict) -> None:
        def record(state: State) -> State:
            inst = InstanceState(index_key=change.index, attributes=dict(attributes))
            existing = state.instance(change.address)
            if existing is not None and dict(existing.attributes) == dict(attributes):
                return state
            return state.with_instance(change.address, inst, provider=change.provider or "azurerm")
        self.update(record)

    def outputs(self, values: dict[str, Any], sensitive: dict[str, bool]) -> None:
        def record(state: State) -> State:
            from state.model import OutputState
            wanted = {k: OutputState(v, sensitive.get(k, False)) for k, v in values.items()}
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
                elif dict(inst.attributes) != attrs:
                    state = state.with_instance(address, replace(inst, attributes=dict(attrs)))
            return state
        self.update(record)


def dependencies_of(change: ResourceChange) -> tuple[str, ...]:
    deps = set(change.depends_on)
    for more in change.phase_depends_on.values():
        deps.update(more)
    return tuple(sorted({d.split("#")[0] for d in deps} - {change.address}))

"""Apply a plan: walk the apply graph, at most ``parallelism`` operations at once.

A step starts when every step it depends on has finished. A failed step stops its
dependents only; independent branches finish. Retryable provider errors are retried
with exponential backoff and jitter, within a bound. The configuration of each step
is evaluated again with final values, checked against the plan, and the provider's
result is checked against what was planned ("inconsistent result" is an error).
The first Ctrl-C stops starting new steps, lets running ones finish and keeps their
results in state.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import random
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any

from providers.base import (
    CLOUD_GUARD,
    Clock,
    CreateRequest,
    DataRequest,
    DeleteRequest,
    IncompleteError,
    NotFoundError,
    PermanentError,
    ProviderError,
    RetryableError,
    UpdateRequest,
)
from reconciler.apply.evaluator import ApplyEvaluator, known_differences
from reconciler.apply.graph import ApplyGraph, Op, Step, StepId
from reconciler.apply.recorder import StateRecorder
from reconciler.apply.recovery import deposed_left, locate_left_over
from reconciler.apply.retry_policy import RetryPolicy, configured_timeout
from reconciler.data_not_found import not_found_detail
from reconciler.diagnostics import Diagnostic, DiagnosticsError, error, warning
from reconciler.plan.model import Action, ResourceChange
from reconciler.plan.sensitivity import hide_in
from state.model import PendingAction

log = logging.getLogger(__name__)

VERB = {Op.CREATE: "create", Op.UPDATE: "update", Op.PHASE: "update", Op.DELETE: "delete", Op.READ: "read"}


class StoppedAtOnce(BaseException):
    """A step given up at a second interrupt - not a failure of the step, so no ``except Exception``
    records it as one."""


@dataclass
class ApplyOptions(RetryPolicy):
    parallelism: int = 10
    heartbeat_every: float = 1.0


@dataclass
class ApplyResult:
    completed: list[StepId] = field(default_factory=list)
    failed: list[tuple[StepId, Diagnostic]] = field(default_factory=list)
    skipped: list[StepId] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)  # what failed and only warns (a check's data)
    interrupted: bool = False
    counts: dict[str, int] = field(default_factory=lambda: {"added": 0, "changed": 0, "destroyed": 0})

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted


class Executor:
    def __init__(
        self,
        graph: ApplyGraph,
        evaluator: ApplyEvaluator,
        providers: dict[str, Any],
        recorder: StateRecorder,
        progress,
        options: ApplyOptions | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        lock_lost: Callable[[], str | None] | None = None,
    ):
        self.graph = graph
        self.evaluator = evaluator
        self.providers = providers
        self.recorder = recorder
        self.progress = progress
        self.options = options or ApplyOptions()
        self.clock = clock or Clock()  # retries wait and steps are timed through it, never directly
        self.rng = rng or random.Random()
        self.result = ApplyResult()
        self._stop_now = threading.Event()  # a second interrupt: waits between attempts end at once
        # why the run may no longer hold the state lock (``Backend.lock_lost``), asked before each
        # cloud operation: a run that lost it - another run took it - changes nothing more
        self.lock_lost = lock_lost or (lambda: None)

    # ------------------------------------------------------------------ scheduling

    def run(self) -> ApplyResult:
        g = self.graph.graph.g
        waiting = {n: set(g.predecessors(n)) for n in g.nodes}
        order = self._priorities()
        ready = [(order[n], n) for n, deps in waiting.items() if not deps]
        heapq.heapify(ready)
        running: dict[Future, tuple[StepId, float]] = {}
        blocked: set[StepId] = set()
        stopping = False
        with ThreadPoolExecutor(max_workers=max(1, self.options.parallelism)) as pool:
            try:
                while ready or running:
                    try:
                        while ready and not stopping and len(running) < self.options.parallelism:
                            node = heapq.heappop(ready)[1]
                            step = self.graph.steps[node]
                            if step.op is Op.NOOP or step.op is Op.FORGET:  # state only: no provider call
                                failure = None
                                if step.op is Op.NOOP:
                                    failure = self._noop(step)
                                else:
                                    self.recorder.deleted(step.change)
                                self._finish(node, failure, waiting, ready, blocked, order)
                                continue
                            lost = self._lost_lock(step)
                            if lost is not None:  # nothing more is started; what runs finishes
                                stopping = True
                                self._finish(node, lost, waiting, ready, blocked, order)
                                break
                            running[pool.submit(self._run_step, step)] = (node, self.clock.monotonic())
                        if stopping and not running:
                            break
                        if not running:
                            continue
                        done, _ = wait(
                            list(running), timeout=self.options.heartbeat_every, return_when=FIRST_COMPLETED
                        )
                        self.progress.heartbeat(self.clock.monotonic())
                        for fut in done:
                            node, _started = running.pop(fut)
                            self._finish(node, fut.result(), waiting, ready, blocked, order)
                    except KeyboardInterrupt:
                        if stopping:
                            raise
                        stopping = True
                        self.result.interrupted = True
                        self.progress.interrupted()
            except KeyboardInterrupt:  # the second, wherever it lands: stop at once, abandoning waits
                self._stop_now.set()
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        never = set(g.nodes) - set(self.result.completed) - {f for f, _ in self.result.failed}
        self.result.skipped = sorted(never, key=lambda n: order[n])
        return self.result

    def _priorities(self) -> dict[StepId, tuple[int, int]]:
        """Ready steps start longest remaining chain first (then in graph order), so the
        critical path is never left waiting behind short branches."""
        g = self.graph.graph.g
        topo = self.graph.order()
        height: dict[StepId, int] = {}
        for n in reversed(topo):
            height[n] = 1 + max((height[s] for s in g.successors(n)), default=0)
        return {n: (-height[n], i) for i, n in enumerate(topo)}

    def _finish(self, node: StepId, failure: Diagnostic | None, waiting, ready, blocked, order) -> None:
        g = self.graph.graph.g
        if failure is None:
            self.result.completed.append(node)
            for succ in g.successors(node):
                waiting[succ].discard(node)
                if not waiting[succ] and succ not in blocked:
                    heapq.heappush(ready, (order[succ], succ))
        else:
            self.result.failed.append((node, failure))
            blocked.update(self.graph.graph.descendants(node))

    # ------------------------------------------------------------------ one step

    def _scoped_to_check(self, change: ResourceChange) -> bool:
        _path, declared = self.evaluator._configured(change)
        return bool(declared is not None and declared.check)

    def _run_step(self, step: Step) -> Diagnostic | None:
        guarded = CLOUD_GUARD.set(lambda: self._guard(step))  # this thread's, for this step
        try:
            return self._step(step)
        finally:
            CLOUD_GUARD.reset(guarded)

    def _step(self, step: Step) -> Diagnostic | None:
        started = self.clock.monotonic()
        change = step.change
        label = step.phase or VERB[step.op]
        log.debug("starting %s of %s (%s)", label, change.address, change.action.value)
        deposed = (
            secrets.token_hex(4)  # the old object, as terraform names it (its DeposedKey)
            if step.op is Op.DELETE and change.action is Action.CREATE_THEN_DELETE
            else None
        )
        self.progress.started(change.address, label, (change.before or {}).get("id"), deposed)
        try:
            new_id = self._with_retries(step, lambda: self._do(step))
        except DiagnosticsError as exc:
            diag = (
                exc.diagnostics[0] if exc.diagnostics else error("apply_failed", f"{change.address} failed")
            )
            diag = replace(
                diag, summary=self._hide(change, diag.summary), detail=self._hide(change, diag.detail)
            )
            self.progress.failed(change.address, label, self.clock.monotonic() - started, diag.summary)
            return diag.with_address(change.address)
        except ProviderError as exc:
            if step.op is not Op.READ and not isinstance(exc, RetryableError):
                # Azure answered with a refusal: the outcome is known (nothing was created; an
                # object it refused to change or delete is as the next refresh reads it), so no
                # later run has to find out what happened to an interrupted operation
                self.recorder.clear_pending(change)
            message = self._hide(change, exc.message)
            if step.deposed:
                self.recorder.clear_pending(change)  # the state holds the new object only
                message += " " + deposed_left(change.before)
            if step.op is Op.READ and self._scoped_to_check(change):
                # as terraform: a check's own data source that can't be read warns, the apply goes on
                self.progress.warned(change.address, label, self.clock.monotonic() - started)
                self.result.warnings.append(
                    warning(
                        exc.code or "data_source",
                        f"Reading {change.address} failed",
                        message,
                        address=change.address,
                    )
                )
                return None
            diag = error(
                exc.code or "apply_failed",
                f"Could not {VERB[step.op]} {change.address}" + (f" ({step.phase})" if step.phase else ""),
                message,
                address=change.address,
            )
            self.progress.failed(change.address, label, self.clock.monotonic() - started, message)
            return diag
        except Exception as exc:  # an unexpected provider bug is this step's failure, not a crash
            message = self._hide(change, str(exc))
            diag = error(
                "apply_failed",
                f"Could not {VERB[step.op]} {change.address}",
                f"{type(exc).__name__}: {message}",
                address=change.address,
            )
            self.progress.failed(change.address, label, self.clock.monotonic() - started, message)
            return diag
        self.progress.finished(change.address, label, self.clock.monotonic() - started, new_id)
        return None

    def _with_retries(self, step: Step, fn: Callable[[], Any]) -> Any:
        address = step.change.address

        def told(exc: RetryableError, attempt: int, delay: float) -> None:
            log.info("retrying %s (attempt %d) in %.3gs: %s", address, attempt, delay, exc.message)
            self.progress.retrying(address, attempt, delay, exc.message, waiting=exc.waiting)

        # a delete is given the time the state's timeouts block allows, the others the configuration's
        values = step.change.before if step.op is Op.DELETE else step.change.after
        allowed = configured_timeout(values, step.op.value)
        return self.options.run(fn, sleep=self._sleep, jitter=self.rng.random, on_wait=told, allowed=allowed)

    def _sleep(self, seconds: float) -> None:
        """The wait before a step's next attempt, cut short by a second interrupt: the step is then
        abandoned (its intent stays pending in state, for the next run to look into)."""
        if self.clock.sleep is time.sleep:
            self._stop_now.wait(seconds)
        elif not self._stop_now.is_set():
            self.clock.sleep(seconds)
        if self._stop_now.is_set():
            raise StoppedAtOnce

    def _provider(self, step: Step):
        provider = self.providers.get(step.change.provider)
        if provider is None:
            raise DiagnosticsError(
                error(
                    "provider_missing",
                    f'No provider "{step.change.provider}"',
                    f"{step.change.address} needs the {step.change.provider} provider.",
                    address=step.change.address,
                )
            )
        return provider

    def _lost_lock(self, step: Step) -> Diagnostic | None:
        why = self.lock_lost()
        if why is None:
            return None
        address = step.change.address
        return error(
            "state_lock_lost",
            f"Did not {VERB[step.op]} {address}: this run lost the state lock",
            f"The state lock this run took is no longer surely its own: {why}. Another run may be "
            "changing the same objects, so this one started nothing more. What it finished before is "
            "recorded if the state can still be written. Run plan again to see where things stand.",
            address=address,
        )

    def _guard(self, step: Step) -> None:
        """``CLOUD_GUARD`` of the step: the provider's calls stop once the run lost its lock."""
        lost = self._lost_lock(step)
        if lost is not None:
            raise PermanentError(lost.detail, code=lost.code)

    def _pending(self, step: Step, action: PendingAction, values: dict, object_id: Any = None) -> None:
        """Record the operation's intent, then make sure the run still holds the state lock: asked
        last, just before the call to the cloud (each attempt asks again), so a run that stalled
        past its lease and lost it to another run sends nothing more."""
        self.recorder.pending(step.change, action, values, object_id)
        lost = self._lost_lock(step)
        if lost is not None:
            self.recorder.clear_pending(step.change)  # nothing was sent
            raise DiagnosticsError(lost)

    def _do(self, step: Step) -> str | None:
        return {
            Op.CREATE: self._create,
            Op.UPDATE: self._update,
            Op.PHASE: self._phase,
            Op.DELETE: self._delete,
            Op.READ: self._read,
        }[step.op](step)

    def _create(self, step: Step) -> str | None:
        change = step.change
        config, rs = self.evaluator.config_for(change, None)
        self._check_final(step, rs, config)
        provider = self._provider(step)
        state = locate_left_over(provider, self.recorder.state, change.address, change.type, config)
        if state is None:  # not made by an interrupted run: create it
            self._pending(step, PendingAction.CREATE, config)
            try:
                state = provider.create(CreateRequest(change.type, config, change.address)).state
            except IncompleteError as exc:  # the object exists: keep it in state, then fail the step
                self.recorder.created(change, exc.state, *self._recorded(change, exc.state))
                raise
        self.recorder.created(change, state, *self._recorded(change, state))
        self.evaluator.set_value(change, state)
        self.result.counts["added"] += 1
        self._check_result(step, rs, config, state)
        self.evaluator.postconditions(step.change, state)
        return state.get("id")

    def _update(self, step: Step) -> str | None:
        change = step.change
        config, rs = self.evaluator.config_for(change, None)
        prior = self.recorder.attributes(change.address) or change.before or {}
        for nb in rs.block.blocks:
            if nb.phase:
                config[nb.name] = prior.get(nb.name, [])
        return self._send_update(step, rs, prior, config)

    def _phase(self, step: Step) -> str | None:
        change = step.change
        config, rs = self.evaluator.config_for(change, step.phase)
        prior = self.recorder.attributes(change.address) or change.before or {}
        return self._send_update(step, rs, prior, config)

    def _send_update(self, step: Step, rs, prior: dict, config: dict) -> str | None:
        change = step.change
        changed = tuple(sorted(k for k in config if config.get(k) != prior.get(k)))
        self._check_final(step, rs, config)
        self._pending(step, PendingAction.UPDATE, config, prior.get("id"))
        try:
            state = self._provider(step).update(UpdateRequest(change.type, prior, config, changed)).state
        except IncompleteError as exc:  # the object changed: keep what it now is, then fail the step
            self.recorder.created(change, exc.state, *self._recorded(change, exc.state))
            raise
        self.recorder.created(change, state, *self._recorded(change, state))
        self.evaluator.set_value(change, state)
        if step.op is Op.UPDATE or (
            step.op is Op.PHASE and change.action.value == "update" and "" not in change.phases
        ):
            self.result.counts["changed"] += 1
        self._check_result(step, rs, config, state)
        self.evaluator.postconditions(step.change, state)
        return state.get("id")

    def _delete(self, step: Step) -> str | None:
        change = step.change
        prior = change.before if step.deposed else (self.recorder.attributes(change.address) or change.before)
        if prior is None:
            return None
        self._pending(step, PendingAction.DELETE, prior, prior.get("id"))
        with contextlib.suppress(NotFoundError):  # already gone: the wanted outcome
            self._provider(step).delete(DeleteRequest(change.type, prior))
        self.recorder.deleted(change, deposed=step.deposed)
        self.result.counts["destroyed"] += 1
        return None

    def _read(self, step: Step) -> str | None:
        change = step.change
        config, _rs = self.evaluator.config_for(change, None)
        state = self._provider(step).read_data(DataRequest(change.type, config)).state
        if state is None:
            found_nothing = error(
                "data_source_not_found",
                f"{change.address} found nothing",
                not_found_detail(change.type, config),
                address=change.address,
            )
            raise DiagnosticsError(hide_in([found_nothing], config, self._sensitive(change, config)))
        self.recorder.data_read(change, state, self._sensitive(change, state))
        self.evaluator.set_value(change, state)
        self.evaluator.postconditions(change, state)
        return state.get("id")

    def _noop(self, step: Step) -> Diagnostic | None:
        """An object with nothing to do: its postconditions are checked again with what the
        apply has made of the objects they read, as terraform 1.11 does."""
        change = step.change
        self.recorder.unchanged(change)
        if not self.evaluator.has_postconditions(change):
            return None
        state = self.recorder.attributes(change.address) or change.after or change.before
        if state is None:
            return None
        try:
            self.evaluator.postconditions(change, state)
        except DiagnosticsError as exc:
            diag = (
                exc.diagnostics[0] if exc.diagnostics else error("apply_failed", f"{change.address} failed")
            )
            return diag.with_address(change.address)
        return None

    # ------------------------------------------------------------------ consistency

    def _hide(self, change, text: str) -> str:
        """A message about ``change`` without its sensitive values (a provider may quote what it was sent)."""
        try:
            return self.evaluator.hide(change, text)
        except Exception:  # never lose the failure itself over hiding
            return text if not change.hidden_paths else "(details hidden: they may quote sensitive values)"

    def _recorded(self, change, state: dict) -> tuple[list, dict[str, Any]]:
        """What state records beside the object's attributes: its sensitive paths, and the types of
        its attributes of any type."""
        return self._sensitive(change, state), self.evaluator.dynamic_types(change, state)

    def _sensitive(self, change, state: dict) -> list:
        """Paths state must treat as secret: the schema's, and wherever the configuration was marked."""
        return list(self.evaluator.sensitive_paths(change, state))

    def _check_final(self, step: Step, rs, config: dict) -> None:
        planned = step.change.after or {}
        phase_names = {nb.name for nb in rs.block.blocks if nb.phase}
        if step.op is not Op.PHASE:
            planned = {k: v for k, v in planned.items() if k not in phase_names}
        diffs = known_differences(rs.block, planned, config)
        if diffs:
            shown = ", ".join(".".join(str(p) for p in d) for d in diffs)
            raise DiagnosticsError(
                error(
                    "inconsistent_final_plan",
                    f"The configuration of {step.change.address} changed since the plan",
                    f"At apply time {shown} had other values than planned. Nothing was sent for this "
                    "object; run plan again.",
                    address=step.change.address,
                )
            )

    def _check_result(self, step: Step, rs, config: dict, state: dict) -> None:
        diffs = known_differences(rs.block, config, state)
        if diffs:
            shown = ", ".join(".".join(str(p) for p in d) for d in diffs)
            raise DiagnosticsError(
                error(
                    "inconsistent_result",
                    f"Provider produced an inconsistent result for {step.change.address}",
                    f"The object was {VERB[step.op]}d, but {shown} came back different from what was sent. "
                    "The object is recorded as Azure returned it; a later plan shows the difference.",
                    address=step.change.address,
                )
            )

"""The recorder's durability contract: an intent is on disk before its request goes
out; results are written behind, batched, and all on disk after ``close``; objects
that live only in state need no intent; a failed write is never swallowed."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from providers.base import Clock
from reconciler.apply.recorder import StateRecorder
from reconciler.diagnostics import DiagnosticsError
from reconciler.plan.model import Action, ResourceChange
from state.errors import StateError
from state.model import PendingAction, State


class SlowBackend:
    """Keeps every written state; each write takes ``delay`` seconds (like an fsync)."""

    def __init__(self, delay: float = 0.005, fail_after: int | None = None):
        self.delay = delay
        self.fail_after = fail_after
        self.written: list[State] = []
        self.serial = 0
        self.busy = threading.Lock()

    def write(self, state: State) -> State:
        assert self.busy.acquire(blocking=False), "two writes at once"
        try:
            if self.fail_after is not None and len(self.written) >= self.fail_after:
                raise StateError("test.tfstate", "could not write the state (No space left on device)")
            time.sleep(self.delay)
            self.serial += 1
            stored = state.with_serial(self.serial)
            self.written.append(stored)
            return stored
        finally:
            self.busy.release()


class Cloud:
    objects_outside_state = True

    def planned_id(self, type_name, planned):
        return f"/ids/{planned['name']}"

    def locate(self, type_name, planned):  # the rest of the Locating protocol
        return None


class StateOnly:
    objects_outside_state = False


def _change(address: str, provider: str = "azurerm", type_: str = "azurerm_resource_group") -> ResourceChange:
    name = address.split(".")[1].split("[")[0]
    index = int(address.split("[")[1][:-1]) if "[" in address else None
    return ResourceChange(
        address=address,
        mode="managed",
        type=type_,
        name=name,
        index=index,
        module="",
        provider=provider,
        action=Action.CREATE,
        before=None,
        after={},
    )


def test_an_intent_is_on_disk_when_pending_returns():
    backend = SlowBackend()
    recorder = StateRecorder(
        backend, State.new(lineage="l"), providers={"azurerm": Cloud()}, write_behind=True
    )
    change = _change("azurerm_resource_group.rg")
    recorder.pending(change, PendingAction.CREATE, {"name": "rg"})
    on_disk = backend.written[-1].instance("azurerm_resource_group.rg")
    assert on_disk.pending.operation is PendingAction.CREATE
    assert on_disk.pending.planned_id == "/ids/rg"  # asked of the provider
    recorder.close()


def test_an_intent_records_when_it_started_by_the_injected_clock():
    recorder = StateRecorder(
        SlowBackend(),
        State.new(lineage="l"),
        providers={"azurerm": Cloud()},
        clock=Clock(now=lambda: 86400.0),
    )
    recorder.pending(_change("azurerm_resource_group.rg"), PendingAction.CREATE, {"name": "rg"})
    started = recorder.state.instance("azurerm_resource_group.rg").pending.started_at
    assert started == datetime(1970, 1, 2, tzinfo=UTC)
    recorder.close()


def test_results_are_batched_and_all_on_disk_after_close():
    backend = SlowBackend(delay=0.01)
    recorder = StateRecorder(backend, State.new(lineage="l"), write_behind=True, batch_interval=0.02)
    for i in range(200):
        recorder.created(_change(f"terraform_data.t[{i}]", "terraform", "terraform_data"), {"id": str(i)})
    final = recorder.close()
    assert len(backend.written) < 50, f"{len(backend.written)} writes for 200 results"
    assert len(backend.written[-1].addresses()) == 200
    assert final.serial == backend.written[-1].serial
    assert recorder.writes == len(backend.written)


def test_results_arriving_one_by_one_wait_for_the_batch_interval():
    """Every result notifies the writer; that must not end its wait, or a fast backend writes the
    whole state once per result (1,000 results, 1,000 writes of a growing state)."""
    backend = SlowBackend(delay=0.0)
    recorder = StateRecorder(backend, State.new(lineage="l"), write_behind=True, batch_interval=0.05)
    started = time.monotonic()
    for i in range(100):
        recorder.created(_change(f"terraform_data.t[{i}]", "terraform", "terraform_data"), {"id": str(i)})
        time.sleep(0.003)
    elapsed = time.monotonic() - started
    recorder.close()
    assert len(backend.written) <= elapsed / 0.05 + 3, f"{len(backend.written)} writes in {elapsed:.2f}s"
    assert len(backend.written[-1].addresses()) == 100


def test_an_intent_ends_the_batch_interval():
    backend = SlowBackend(delay=0.0)
    recorder = StateRecorder(
        backend, State.new(lineage="l"), providers={"azurerm": Cloud()}, write_behind=True, batch_interval=5.0
    )
    recorder.created(_change("terraform_data.t", "terraform", "terraform_data"), {"id": "t"})
    time.sleep(0.05)  # the writer is now waiting out its interval for more results
    started = time.monotonic()
    recorder.pending(_change("azurerm_resource_group.rg"), PendingAction.CREATE, {"name": "rg"})
    assert time.monotonic() - started < 2.0
    assert backend.written[-1].instance("azurerm_resource_group.rg").pending is not None
    recorder.close()


def test_intents_waiting_together_share_a_write():
    backend = SlowBackend(delay=0.05)
    recorder = StateRecorder(
        backend, State.new(lineage="l"), providers={"azurerm": Cloud()}, write_behind=True
    )
    threads = [
        threading.Thread(
            target=recorder.pending,
            args=(_change(f"azurerm_resource_group.g[{i}]"), PendingAction.CREATE, {"name": f"g{i}"}),
        )
        for i in range(10)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recorder.close()
    assert len(backend.written) < 10
    assert all(inst.pending for _a, _r, inst in backend.written[-1].instances())


def test_objects_living_only_in_state_need_no_intent():
    backend = SlowBackend()
    recorder = StateRecorder(
        backend, State.new(lineage="l"), providers={"terraform": StateOnly()}, write_behind=True
    )
    recorder.pending(_change("terraform_data.t", "terraform", "terraform_data"), PendingAction.CREATE, {})
    assert backend.written == [] and recorder.state.instance("terraform_data.t") is None
    recorder.close()


def test_without_write_behind_every_change_is_written_at_once():
    backend = SlowBackend(delay=0)
    recorder = StateRecorder(backend, State.new(lineage="l"))
    for i in range(3):
        recorder.created(_change(f"terraform_data.t[{i}]", "terraform", "terraform_data"), {"id": str(i)})
    assert [len(s.addresses()) for s in backend.written] == [1, 2, 3]
    recorder.created(_change("terraform_data.t[2]", "terraform", "terraform_data"), {"id": "2"})
    assert len(backend.written) == 3  # the same content is not written again


def test_a_failed_write_reaches_the_next_intent_and_close():
    backend = SlowBackend(fail_after=1)
    recorder = StateRecorder(
        backend, State.new(lineage="l"), providers={"azurerm": Cloud()}, write_behind=True
    )
    recorder.pending(_change("azurerm_resource_group.a"), PendingAction.CREATE, {"name": "a"})
    with pytest.raises(DiagnosticsError) as caught:
        recorder.pending(_change("azurerm_resource_group.b"), PendingAction.CREATE, {"name": "b"})
    assert caught.value.diagnostics[0].code == "state_write_failed"
    assert "No space left on device" in caught.value.diagnostics[0].summary
    with pytest.raises(DiagnosticsError):
        recorder.close()

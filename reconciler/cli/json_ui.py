"""Terraform's machine-readable UI: ``plan -json`` and ``apply -json`` as one JSON object a line.

Each line has ``@level``, ``@message``, ``@module`` and ``@timestamp`` and a ``type``: version,
refresh_start / refresh_complete, planned_change, change_summary, outputs, apply_start /
apply_progress / apply_complete / apply_errored, and diagnostic - the messages and fields
Terraform's ``internal/command/views/json`` writes (ui version 1.2), so tools that read
``terraform plan -json`` read vaultform's. ``JsonProgress`` is the apply progress printer's
twin for this stream.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from reconciler import __version__
from reconciler.apply.progress import (
    DESTROY,
    READ,
    Failure,
    Wording,
    format_duration,
    resource_count,
    wording,
)
from reconciler.diagnostic_source import SourceFiles, range_and_snippet
from reconciler.diagnostics import Diagnostic, Severity
from reconciler.plan.model import Action, Plan, Reason, ResourceChange
from reconciler.providers_registry import provider_name_for_type
from state.addresses import InstanceAddress, parse_address
from state.errors import AddressError
from state.format import go_json

UI_VERSION = "1.2"
JSON_READ = Wording("Refreshing", "Refresh")
MODULE = "vaultform.ui"

# plan actions as the machine-readable UI names them
_CHANGE_ACTION = {
    Action.CREATE: "create",
    Action.UPDATE: "update",
    Action.DELETE: "delete",
    Action.DELETE_THEN_CREATE: "replace",
    Action.CREATE_THEN_DELETE: "replace",
    Action.READ: "read",
    Action.NO_OP: "noop",
    Action.FORGET: "remove",  # terraform's views/json/change.go: ActionForget
}
_HOOK_ACTION = {
    "create": "create",
    "update": "update",
    "modify": "update",
    "delete": "delete",
    "destroy": "delete",
}
_HOOK_ACTION["read"] = "read"
_PLAN_WORDS = {
    "create": "create",
    "update": "update",
    "delete": "delete",
    "replace": "replace",
    "read": "read",
}
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warn", Severity.INFO: "info"}


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def resource_identity(address: str | InstanceAddress) -> dict[str, Any]:
    """The ``resource`` object of Terraform's hooks and changes, from an instance address."""
    addr = address if isinstance(address, InstanceAddress) else parse_address(str(address))
    local = f"{'data.' if addr.mode.value == 'data' else ''}{addr.type}.{addr.name}"
    key = addr.key
    return {
        "addr": str(addr),
        "module": addr.module_text,
        "resource": local + ("" if key is None else str(addr)[len(str(addr.resource)) :]),
        "implied_provider": provider_name_for_type(addr.type),
        "resource_type": addr.type,
        "resource_name": addr.name,
        "resource_key": key,
    }


def _identity_or_text(address: str) -> dict[str, Any]:
    try:
        return resource_identity(address)
    except AddressError:
        return {"addr": address}


class JsonUi:
    """Writes the stream; one lock, so lines from worker threads never interleave."""

    def __init__(self, out: TextIO, *, now: Callable[[], str] = _timestamp):
        self.out = out
        self.now = now
        self._lock = threading.Lock()
        self._sources = SourceFiles()

    def emit(self, type_: str, message: str, *, level: str = "info", **fields: Any) -> None:
        line = {"@level": level, "@message": message, "@module": MODULE, "@timestamp": self.now(), **fields}
        line["type"] = type_
        text = go_json(line, default=str)
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()

    def version(self) -> None:
        self.emit("version", f"vaultform {__version__}", vaultform=__version__, ui=UI_VERSION)

    def diagnostic(self, d: Diagnostic) -> None:
        body: dict[str, Any] = {
            "severity": _LEVEL[d.severity].replace("warn", "warning"),
            "summary": d.summary,
        }
        body["detail"] = d.detail
        body["code"] = d.code  # vaultform's stable code (R1, O2, ...); terraform has none
        if d.address and " " not in d.address:  # an object's address; a block's header (check "x")
            body["address"] = d.address  # is the snippet's context, as terraform gives it
        if d.range is not None:
            r = d.range
            body.update(range_and_snippet(r.file, r.line, r.column, r.end_line, r.end_column, self._sources))
            if d.values and "snippet" in body:
                body["snippet"]["values"] = [{"traversal": t, "statement": s} for t, s in d.values]
        word = {"error": "Error", "warn": "Warning", "info": "Info"}[_LEVEL[d.severity]]
        self.emit("diagnostic", f"{word}: {d.summary}", level=_LEVEL[d.severity], diagnostic=body)

    def diagnostics(self, diags: Iterable[Diagnostic]) -> None:
        for d in diags:
            self.diagnostic(d)

    # ---- refresh

    def refreshing(self, address: str, id_value: str | None, done: bool) -> None:
        hook = {"resource": _identity_or_text(address), "id_key": "id", "id_value": id_value}
        if done:
            self.emit("refresh_complete", f"{address}: Refresh complete [id={id_value}]", hook=hook)
        else:
            self.emit("refresh_start", f"{address}: Refreshing state... [id={id_value}]", hook=hook)

    def reading(self, address: str, done: bool, id_value: str | None, elapsed: float) -> None:
        """A data source read while planning: apply_start / apply_complete with action "read",
        worded "Refreshing..." / "Refresh complete after 0s" as terraform's JSON hooks word a read
        (internal/command/views/json/hook.go: startActionVerb, actionNoun)."""
        hook: dict[str, Any] = {"resource": _identity_or_text(address), "action": "read"}
        if not done:
            self.emit("apply_start", f"{address}: Refreshing...", hook=hook)
            return
        if id_value:
            hook.update(id_key="id", id_value=id_value)
        hook["elapsed_seconds"] = int(elapsed)
        suffix = f" [id={id_value}]" if id_value else ""
        self.emit(
            "apply_complete",
            f"{address}: Refresh complete after {format_duration(elapsed)}{suffix}",
            hook=hook,
        )

    # ---- plan

    def planned_changes(self, plan: Plan) -> None:
        moved_from = {new: old for old, new in plan.moved}
        for change in plan.changes:
            action = _CHANGE_ACTION[change.action]
            previous = moved_from.get(change.address)
            if action == "noop" and previous is not None:
                action = "move"  # as terraform: a moved object with nothing else to do
            if action == "noop" and change.importing:
                action = "import"  # terraform's views/json/change.go: an import with nothing else to do
            if action == "noop":
                continue
            self._planned_change(change, action, previous)

    def _planned_change(self, change: ResourceChange, action: str, previous: str | None = None) -> None:
        body: dict[str, Any] = {"resource": _identity_or_text(change.address), "action": action}
        if previous is not None:
            body["previous_resource"] = _identity_or_text(previous)
        if change.reason is not Reason.NONE:
            body["reason"] = change.reason.value
        if change.importing:
            body["importing"] = {"id": change.importing}
        words = _PLAN_WORDS.get(action, "import" if change.importing else action)
        self.emit("planned_change", f"{change.address}: Plan to {words}", change=body)

    def change_summary(self, counts: Mapping[str, int], operation: str, *, imported: int = 0) -> None:
        add, change, remove = (
            _count(counts, k) for k in (("add", "added"), ("change", "changed"), ("destroy", "destroyed"))
        )
        if operation == "plan":
            importing = f"{imported} to import, " if imported else ""
            text = f"Plan: {importing}{add} to add, {change} to change, {remove} to destroy."
        else:
            verb = "Destroy" if operation == "destroy" else "Apply"
            text = f"{verb} complete! {resource_count({**counts, 'imported': imported}, verb)}"
        changes = {"add": add, "change": change, "import": imported, "remove": remove, "operation": operation}
        self.emit("change_summary", text, changes=changes)

    def plan_outputs(self, plan: Plan) -> None:
        # as terraform 1.11: every output the plan has a change for, those that stay as they are too
        outputs = {
            o.name: {"sensitive": o.sensitive, "action": _CHANGE_ACTION[o.action]}
            for o in sorted(plan.outputs, key=lambda o: o.name)
        }
        if outputs:
            self.emit("outputs", f"Outputs: {len(outputs)}", outputs=outputs)

    def applied_outputs(self, outputs: Mapping[str, Any]) -> None:
        shown = {}
        for name in sorted(outputs):
            o = outputs[name]
            entry: dict[str, Any] = {"sensitive": o.sensitive, "type": _type_of(o.value)}
            if not o.sensitive:
                entry["value"] = o.value
            shown[name] = entry
        self.emit("outputs", f"Outputs: {len(shown)}", outputs=shown)  # as terraform's apply: even none


def _count(counts: Mapping[str, int], names: tuple[str, str]) -> int:
    return int(counts.get(names[0], counts.get(names[1], 0)))


def _type_of(value: Any) -> Any:
    """The cty type Terraform reports for an output value, as JSON."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return ["object", {k: _type_of(v) for k, v in value.items()}]
    if isinstance(value, (list, tuple)):
        return ["tuple", [_type_of(v) for v in value]]
    return "dynamic"


class JsonProgress:
    """Apply progress as hook messages: the same calls as ``Progress``, a JSON line each."""

    def __init__(self, ui: JsonUi, *, clock: Callable[[], float] = time.monotonic, interval: float = 10.0):
        self.ui = ui
        self.clock = clock
        self.interval = interval
        self.failures: list[Failure] = []
        self._running: dict[tuple[str, str], list] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _action(action: Action | str) -> str:
        """The hook's action: create, update, delete or read; an apply phase (the key
        assignment) is an update of its object."""
        if isinstance(action, Action):
            return _CHANGE_ACTION.get(action, action.value)
        text = str(action)
        return _HOOK_ACTION.get(text, "update")

    def _hook(self, address: str, action: Action | str, **extra: Any) -> dict[str, Any]:
        return {"resource": _identity_or_text(address), "action": self._action(action), **extra}

    @staticmethod
    def _wording(action: Action | str) -> Wording:
        # terraform's JSON hooks word a read "Refreshing..." / "Refresh complete" (views/json/hook.go)
        return JSON_READ if wording(action) is READ else wording(action)

    def warned(self, address: str, action: Action | str, elapsed: float) -> None:
        """A step that only warns (a check's data source): it stops running; its warning follows."""
        with self._lock:
            self._running.pop((address, action.value if isinstance(action, Action) else str(action)), None)

    def imported(self, address: str, id: str, done: bool) -> None:
        """Nothing: terraform's JSON stream says nothing of an import as apply records it."""

    def started(
        self, address: str, action: Action | str, id: str | None = None, deposed: str | None = None
    ) -> None:  # terraform's JSON hooks name the resource only, deposed object or not
        words = self._wording(action)
        key = action.value if isinstance(action, Action) else str(action)
        with self._lock:
            self._running[(address, key)] = [address, action, self.clock(), 0]
        extra = {"id_key": "id", "id_value": id} if id and words.shows_id_at_start else {}
        suffix = f" [id={id}]" if id and words.shows_id_at_start else ""
        self.ui.emit(
            "apply_start", f"{address}: {words.doing}...{suffix}", hook=self._hook(address, action, **extra)
        )

    def finished(self, address: str, action: Action | str, elapsed: float, id: str | None = None) -> None:
        words = self._wording(action)
        key = action.value if isinstance(action, Action) else str(action)
        with self._lock:
            self._running.pop((address, key), None)
        shown = id if id and words is not DESTROY else None
        extra = {"id_key": "id", "id_value": shown} if shown else {}
        suffix = f" [id={shown}]" if shown else ""
        self.ui.emit(
            "apply_complete",
            f"{address}: {words.noun} complete after {format_duration(elapsed)}{suffix}",
            hook=self._hook(address, action, elapsed_seconds=int(elapsed), **extra),
        )

    def failed(self, address: str, action: Action | str, elapsed: float, message: str) -> None:
        words = self._wording(action)
        key = action.value if isinstance(action, Action) else str(action)
        with self._lock:
            self._running.pop((address, key), None)
            self.failures.append(Failure(address, message, key))
        self.ui.emit(
            "apply_errored",
            f"{address}: {words.noun} errored after {format_duration(elapsed)}",
            level="error",
            hook=self._hook(address, action, elapsed_seconds=int(elapsed)),
        )

    def retrying(
        self, address: str, attempt: int, delay: float, reason: str, *, waiting: bool = False
    ) -> None:
        first = (reason.strip().splitlines() or [""])[0].rstrip(" .")  # the line goes on after it
        if waiting:
            self.ui.emit("log", f"{address}: {first}; checking again in {delay:.0f}s", level="info")
            return
        self.ui.emit(
            "log", f"{address}: Attempt {attempt} failed: {first}; retrying in {delay:.0f}s", level="warn"
        )

    def heartbeat(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        with self._lock:
            due = []
            for run in self._running.values():
                ticks = int((now - run[2]) // self.interval) if self.interval > 0 else 0
                if ticks > run[3]:
                    run[3] = ticks
                    due.append((run[0], run[1], now - run[2]))
        for address, action, elapsed in due:
            self.ui.emit(
                "apply_progress",
                f"{address}: {self._wording(action).still}... [{format_duration(elapsed)} elapsed]",
                hook=self._hook(address, action, elapsed_seconds=int(elapsed)),
            )

    def interrupted(self) -> None:
        self.ui.emit(
            "log", "Interrupt received: running operations finish and are kept in state", level="warn"
        )

    def summary(
        self,
        counts: Mapping[str, int],
        failures: Iterable[Failure | tuple[str, Any]] | None = None,
        *,
        skipped: Iterable[str] = (),
        verb: str = "Apply",
    ) -> None:
        if failures is None and not self.failures or failures is not None and not list(failures):
            imported = int(counts.get("imported", 0))
            self.ui.change_summary(counts, "destroy" if verb == "Destroy" else "apply", imported=imported)

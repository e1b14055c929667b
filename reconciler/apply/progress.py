"""What an apply prints while it runs, in the lines Terraform users know.

    azurerm_key_vault.kv: Creating...
    azurerm_key_vault.kv: Still creating... [10s elapsed]
    azurerm_key_vault.kv: Creation complete after 12s [id=/subscriptions/...]
    azurerm_recovery_services_vault.v: Assigning the encryption key...
    azurerm_recovery_services_vault.v: Key assignment complete after 3s

    Apply complete! Resources: 3 added, 1 changed, 0 destroyed.

The executor calls ``started``/``finished``/``failed``/``retrying`` from its worker
threads and ``heartbeat`` periodically from its scheduler; every method takes one lock,
so lines never interleave. An operation is named by a plan ``Action``, by its spelling
("create", "update", "delete", "read", "delete-then-create"...) or by the name of an apply
phase ("encryption": the vault's key assignment). The clock is injectable for tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from reconciler.diagnostics import Diagnostic
from reconciler.plan.model import Action

HEARTBEAT_INTERVAL = 10.0


@dataclass(frozen=True)
class Wording:
    """How one kind of operation reads: 'Creating...', 'Still creating...', 'Creation complete'."""

    doing: str  # "Creating"
    noun: str  # "Creation"  (-> "Creation complete after 2s", "Creation failed after 2s")
    shows_id_at_start: bool = False

    @property
    def still(self) -> str:
        return "Still " + self.doing[0].lower() + self.doing[1:]


CREATE = Wording("Creating", "Creation")
MODIFY = Wording("Modifying", "Modifications", shows_id_at_start=True)
DESTROY = Wording("Destroying", "Destruction", shows_id_at_start=True)
READ = Wording("Reading", "Read")
REPLACE = Wording("Replacing", "Replacement", shows_id_at_start=True)
ASSIGN_KEY = Wording("Assigning the encryption key", "Key assignment")

# every spelling an operation may arrive in -> its wording
WORDING: dict[str, Wording] = {
    Action.CREATE.value: CREATE,
    "create": CREATE,
    Action.UPDATE.value: MODIFY,
    "modify": MODIFY,
    Action.DELETE.value: DESTROY,
    "destroy": DESTROY,
    Action.READ.value: READ,
    Action.DELETE_THEN_CREATE.value: REPLACE,
    Action.CREATE_THEN_DELETE.value: REPLACE,
    "replace": REPLACE,
    # apply phases (ResourceChange.phases / NestedBlock.phase)
    "encryption": ASSIGN_KEY,
}


def wording(action: Action | str) -> Wording:
    key = action.value if isinstance(action, Action) else str(action)
    found = WORDING.get(key)
    if found is not None:
        return found
    if isinstance(action, Action):  # NO_OP: nothing runs, but say so plainly if asked
        return Wording("Checking", "Check")
    # a phase this table doesn't name yet: say which phase runs
    return Wording(f"Applying {key}", f"{key[:1].upper()}{key[1:]} step")


def format_duration(seconds: float) -> str:
    """Whole seconds the way Go prints durations: 0s, 9s, 1m0s, 1h2m3s."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def format_delay(seconds: float) -> str:
    """A wait as it is announced: 0.05s, 2.5s, 1m30s (a wait under a second is not "0s")."""
    if 0 < seconds < 0.1:
        return f"{seconds:.1g}s"
    if seconds < 10 and seconds != int(seconds):
        return f"{seconds:.1f}s"
    return format_duration(seconds)


@dataclass(frozen=True)
class Failure:
    """One operation that failed, for the closing summary."""

    address: str
    message: str
    action: str = ""


@dataclass
class _Running:
    address: str
    words: Wording
    started: float
    ticks: int = 0  # heartbeats printed so far


_COUNT_KEYS = (("added", "add"), ("changed", "change"), ("destroyed", "destroy"))


def resource_count(counts: Mapping[str, int], verb: str = "Apply") -> str:
    """The 'Resources: ...' part of the closing line, worded as terraform's (views/apply.go):
    a destroy counts what it destroyed; imports are counted only when there were some."""
    added, changed, destroyed = (_count(counts, k) for k in _COUNT_KEYS)
    if verb == "Destroy":
        return f"Resources: {destroyed} destroyed."
    imported = int(counts.get("imported", 0))
    head = f"{imported} imported, " if imported else ""
    return f"Resources: {head}{added} added, {changed} changed, {destroyed} destroyed."


def _count(counts: Mapping[str, int], names: tuple[str, str]) -> int:
    return int(sum(counts.get(n, 0) for n in names))


class ProgressReporter(Protocol):
    """What the executor tells whoever shows an apply's progress (text here, JSON in the CLI)."""

    def started(
        self, address: str, action: Action | str, id: str | None = None, deposed: str | None = None
    ) -> None: ...

    def finished(self, address: str, action: Action | str, elapsed: float, id: str | None = None) -> None: ...

    def failed(self, address: str, action: Action | str, elapsed: float, message: str) -> None: ...

    def retrying(
        self, address: str, attempt: int, delay: float, reason: str, *, waiting: bool = False
    ) -> None: ...

    def heartbeat(self, now: float | None = None) -> None: ...

    def imported(self, address: str, id: str, done: bool) -> None: ...

    def warned(self, address: str, action: Action | str, elapsed: float) -> None: ...

    def interrupted(self) -> None: ...

    def summary(
        self,
        counts: Mapping[str, int],
        failures: Iterable[Failure | tuple[str, Any]] | None = None,
        *,
        skipped: Iterable[str] = (),
        verb: str = "Apply",
    ) -> None: ...


class Progress:
    """Thread-safe apply progress printer."""

    def __init__(
        self,
        out: TextIO,
        *,
        color: bool,
        clock: Callable[[], float] = time.monotonic,
        interval: float = HEARTBEAT_INTERVAL,
    ):
        self.out = out
        self.color = color
        self.clock = clock
        self.interval = interval
        self.failures: list[Failure] = []
        self._running: dict[tuple[str, str], _Running] = {}
        self._lock = threading.Lock()

    # ---- output

    def _paint(self, text: str, *codes: str) -> str:
        return f"\x1b[{';'.join(codes)}m{text}\x1b[0m" if self.color and text else text

    def _write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    @staticmethod
    def _key(action: Action | str) -> str:
        return action.value if isinstance(action, Action) else str(action)

    # ---- events

    def started(
        self, address: str, action: Action | str, id: str | None = None, deposed: str | None = None
    ) -> None:
        """``deposed``: the key of the old object a create-before-destroy replacement destroys,
        named in the line as terraform names it ("(deposed object 1a2b3c4d)")."""
        words = wording(action)
        with self._lock:
            self._running[(address, self._key(action))] = _Running(address, words, self.clock())
            suffix = f" [id={id}]" if id and words.shows_id_at_start else ""
            shown = f"{address} (deposed object {deposed})" if deposed else address
            self._write(self._paint(f"{shown}: {words.doing}...{suffix}", "1"))

    def finished(self, address: str, action: Action | str, elapsed: float, id: str | None = None) -> None:
        words = wording(action)
        with self._lock:
            self._running.pop((address, self._key(action)), None)
            suffix = f" [id={id}]" if id and words is not DESTROY else ""
            self._write(
                self._paint(f"{address}: {words.noun} complete after {format_duration(elapsed)}{suffix}", "1")
            )

    def failed(self, address: str, action: Action | str, elapsed: float, message: str) -> None:
        words = wording(action)
        with self._lock:
            self._running.pop((address, self._key(action)), None)
            self.failures.append(Failure(address, message, self._key(action)))
            # the reason is told once, in the error that follows the summary
            self._write(
                self._paint(f"{address}: {words.noun} failed after {format_duration(elapsed)}", "1", "31")
            )

    def retrying(
        self, address: str, attempt: int, delay: float, reason: str, *, waiting: bool = False
    ) -> None:
        with self._lock:
            first = (reason.strip().splitlines() or [""])[0].rstrip(" .")  # the line goes on after it
            if waiting:  # Azure's operation is under way: a wait, not a failure
                self._write(f"{address}: {first}; checking again in {format_delay(delay)}...")
                return
            because = f": {first}" if first else ""
            self._write(
                self._paint(
                    f"{address}: Attempt {attempt} failed{because}; retrying in {format_delay(delay)}...",
                    "33",
                )
            )

    def warned(self, address: str, action: Action | str, elapsed: float) -> None:
        """A step that failed without failing the apply (a check's data source): it stops running,
        and its warning is told with the others after the steps."""
        with self._lock:
            self._running.pop((address, self._key(action)), None)

    def imported(self, address: str, id: str, done: bool) -> None:
        """An object an import block brings into state (terraform's "Importing..." and "Import
        complete" lines: nothing runs in the cloud, so no time is given)."""
        with self._lock:
            self._write(
                self._paint(f"{address}: {'Import complete' if done else 'Importing...'} [id={id}]", "1")
            )

    def heartbeat(self, now: float | None = None) -> None:
        """'Still creating... [10s elapsed]' for every operation past each whole interval."""
        with self._lock:
            now = self.clock() if now is None else now
            for run in sorted(self._running.values(), key=lambda r: (r.started, r.address)):
                elapsed = now - run.started
                ticks = int(elapsed // self.interval) if self.interval > 0 else 0
                if ticks > run.ticks:
                    run.ticks = ticks
                    self._write(
                        self._paint(
                            f"{run.address}: {run.words.still}... [{format_duration(elapsed)} elapsed]", "1"
                        )
                    )

    def interrupted(self) -> None:
        with self._lock:
            self._write("")
            self._write(
                self._paint(
                    "Interrupt received: no new operations will start; the running ones "
                    "finish and their results are kept in state. Press Ctrl-C again to "
                    "stop without waiting for retries: only calls already sent to Azure are "
                    "waited for, and the next run finds out what they did.",
                    "1",
                    "33",
                )
            )

    def summary(
        self,
        counts: Mapping[str, int],
        failures: Iterable[Failure | tuple[str, Any]] | None = None,
        *,
        skipped: Iterable[str] = (),
        verb: str = "Apply",
    ) -> None:
        """The closing line(s): 'Apply complete! ...' or 'Apply failed: ...' with each failure.

        ``counts`` uses "added"/"changed"/"destroyed" (or the plan's "add"/"change"/"destroy");
        ``failures`` defaults to those reported through ``failed``; a tuple is
        (address, message or Diagnostic).
        """
        with self._lock:
            listed = [_as_failure(f) for f in failures] if failures is not None else list(self.failures)
            resources = resource_count(counts, verb)
            skipped = list(skipped)
            self._write("")
            if not listed:
                self._write(self._paint(f"{verb} complete! {resources}", "1", "32"))
                return
            n = len(listed)
            self._write(
                self._paint(
                    f"{verb} failed: {n} operation{'s' if n != 1 else ''} failed. {resources}", "1", "31"
                )
            )
            for f in listed:
                lines = f.message.strip().splitlines() or [""]
                self._write(f"  - {f.address}: {lines[0]}".rstrip())
                for extra in lines[1:]:
                    self._write(f"      {extra}" if extra.strip() else "")
            if skipped:
                self._write(f"Not started because something they need failed: {', '.join(skipped)}")


def _as_failure(item: Failure | tuple[str, Any]) -> Failure:
    if isinstance(item, Failure):
        return item
    address, what = item
    if isinstance(what, Diagnostic):  # its detail is printed with the error itself
        return Failure(address, what.summary)
    return Failure(address, str(what))

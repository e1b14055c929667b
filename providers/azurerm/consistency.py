"""Waiting out Azure's eventual consistency, visibly and within bounds.

Azure acknowledges some writes before every reader sees them: a new managed
identity's principal may be unknown to the role-assignment API for a minute
(``PrincipalNotFound``), and an access policy or role assignment becomes
effective for data-plane calls some time after ARM accepted it. A careful
provider waits for these before it reports success, so the next step in the
graph (assigning the key) does not fail on a grant that is not live yet.

Every pause goes through the injected ``Clock`` and is announced through the
``report`` callback first: providers never sleep silently, and tests replace
the clock so nothing really waits. Every wait is bounded; running out of time
raises ``RetryableError`` so the executor decides what happens next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from providers.base import Clock, ProviderError, RetryableError

T = TypeVar("T")

Report = Callable[[str], None]


def _silent(_: str) -> None:
    return None


@dataclass(frozen=True)
class Backoff:
    """Bounded exponential backoff: first, first*factor, ... capped at ``cap``."""

    first: float = 1.0
    factor: float = 2.0
    cap: float = 15.0
    budget: float = 300.0  # total seconds a wait may take before giving up

    def delays(self):
        delay = self.first
        while True:
            yield min(delay, self.cap)
            delay *= self.factor


# How long each kind of wait may take. Entra ID replication of a new principal is
# usually under a minute; key vault access changes are documented to take effect
# within minutes (RBAC up to ~10 minutes).
PRINCIPAL_REPLICATION = Backoff(first=2.0, factor=2.0, cap=15.0, budget=180.0)
GRANT_PROPAGATION = Backoff(first=1.0, factor=2.0, cap=15.0, budget=600.0)
READ_BACK = Backoff(first=1.0, factor=2.0, cap=10.0, budget=120.0)


@dataclass
class Waiter:
    clock: Clock = field(default_factory=Clock)
    report: Report = _silent

    def pause(self, seconds: float, reason: str) -> None:
        """Sleep through the clock after saying why."""
        if seconds <= 0:
            return
        self.report(f"waiting {seconds:g}s: {reason}")
        self.clock.sleep(seconds)

    def until(self, description: str, probe: Callable[[], T | None], backoff: Backoff = READ_BACK) -> T:
        """Call ``probe`` until it returns something other than None/False.

        Raises ``RetryableError`` when the backoff's budget runs out.
        """
        start = self.clock.monotonic()
        waited = 0.0
        for delay in backoff.delays():
            result = probe()
            if result is not None and result is not False:
                return result
            elapsed = max(waited, self.clock.monotonic() - start)
            if elapsed + delay > backoff.budget:
                raise RetryableError(
                    f"gave up after {elapsed:g}s waiting until {description}",
                    code="ConsistencyTimeout",
                    retry_after=backoff.cap,
                )
            self.pause(delay, f"until {description}")
            waited += delay
        raise AssertionError("unreachable: delays() is endless")

    def retrying(
        self,
        description: str,
        action: Callable[[], T],
        codes: frozenset[str],
        backoff: Backoff = PRINCIPAL_REPLICATION,
    ) -> T:
        """Run ``action``; when it fails with one of ``codes`` (Azure error codes, any
        case), wait and run it again, within the backoff's budget."""
        wanted = {c.lower() for c in codes}
        start = self.clock.monotonic()
        waited = 0.0
        for delay in backoff.delays():
            try:
                return action()
            except ProviderError as exc:
                if exc.code.split("/")[0].lower() not in wanted:
                    raise
                hint = getattr(exc, "retry_after", None)
                pause = max(delay, hint or 0.0)
                elapsed = max(waited, self.clock.monotonic() - start)
                if elapsed + pause > backoff.budget:
                    raise
                self.pause(pause, f"{description} ({exc.code})")
                waited += pause
        raise AssertionError("unreachable: delays() is endless")

"""Stay within Azure's request budgets: slow down before a 429, and after one let nobody go before its
Retry-After has passed.

ARM tells, on every answer, how many requests of that kind (reads, writes, deletes) the caller has left
in its subscription's bucket and in the subscription-wide one (``x-ms-ratelimit-remaining-subscription-
reads`` / ``-global-reads``, ...; https://learn.microsoft.com/azure/azure-resource-manager/management/
request-limits-and-throttling, "Remaining requests"). The buckets refill at a fixed rate (ARM's reads: 250
tokens, 25 a second - a full bucket in 10 s; writes and deletes: 200 tokens, 10 a second - 20 s). So:

* while plenty is left, requests go as fast as the apply sends them;
* when what is left (minus what is in flight) falls to a low mark, the requests of that kind share one
  schedule: they leave one at a time, at about the rate the bucket refills - the full refill rate at the
  low mark, half of it when the bucket is empty - so the bucket never runs dry;
* the refill rate is first guessed from the bucket's size (ARM's 10 s / 20 s to refill a full bucket)
  and then measured from how what is left changes over time;
* a 429 with ``Retry-After`` (ARM's, or Key Vault's, which sends no remaining-requests header:
  https://learn.microsoft.com/azure/key-vault/general/overview-throttling) holds every request of that
  budget until the wait is over, and halves the rate the schedule assumes.

One ``Budgets`` per process is shared by every client of every provider instance, keyed by host,
subscription and kind of request, as ARM counts them. Waits go through the provider's clock, and the
user is told when requests are being paced.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from azure.core.pipeline.policies import HTTPPolicy

from providers.azurerm.errors import retry_after_seconds
from providers.base import Clock

HEADER_PREFIX = "x-ms-ratelimit-remaining-"
_SUBSCRIPTION_RE = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)
# How long ARM's buckets take to fill from empty (size / refill rate, from the doc's table).
FILL_SECONDS = {"reads": 10.0, "writes": 20.0, "deletes": 20.0}
LOW_SHARE = 0.2  # pace once a fifth of the bucket is left ...
LOW_MAX = 50  # ... or 50 requests, whichever is fewer
MEASURE_SECONDS = 0.25  # the shortest span a refill rate is measured over
REPORT_EVERY = 10.0  # seconds between two "pacing" lines for one budget


def operation_of(method: str) -> str:
    """ARM's kind of request (a POST is a write: Azure/azure-sdk-for-java issue 1389)."""
    method = method.upper()
    if method in ("GET", "HEAD"):
        return "reads"
    return "deletes" if method == "DELETE" else "writes"


def budget_key(method: str, url: str) -> tuple[str, str, str]:
    """(host, subscription or "", kind): the budget a request is counted against."""
    parts = urlsplit(url)
    m = _SUBSCRIPTION_RE.match(parts.path or "")
    return ((parts.hostname or "").lower(), (m.group(1).lower() if m else ""), operation_of(method))


def remaining_from(headers: Mapping[str, str], kind: str) -> int | None:
    """The fewest requests left among the buckets this answer reports for ``kind`` (None: not told)."""
    left: list[int] = []
    for name in (
        f"{HEADER_PREFIX}subscription-{kind}",
        f"{HEADER_PREFIX}subscription-global-{kind}",
        f"{HEADER_PREFIX}tenant-{kind}",
    ):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            left.append(int(float(raw)))
        except ValueError:
            continue
    return min(left) if left else None


@dataclass
class Budget:
    """What this process knows of one of Azure's buckets."""

    kind: str
    remaining: int | None = None
    capacity: int = 0  # the most ever seen left, plus one
    rate: float | None = None  # tokens per second, guessed then measured
    in_flight: int = 0
    last_sent: float = -1e9  # monotonic time the last request left
    blocked_until: float = 0.0  # after a 429: nobody leaves before this
    hold: float = 0.0  # the Retry-After that set ``blocked_until``
    anchor: tuple[float, int] | None = None  # (time, remaining) a refill measurement starts from
    admitted_since_anchor: int = 0
    reported_at: float = field(default=-1e9)

    def low_mark(self) -> float:
        return max(2.0, min(self.capacity * LOW_SHARE, LOW_MAX))

    def refill(self) -> float:
        if self.rate is not None:
            return self.rate
        return max(self.capacity, 1) / FILL_SECONDS.get(self.kind, 20.0)

    def pacing(self) -> bool:
        return self.remaining is not None and self.remaining - self.in_flight <= self.low_mark()

    def gap(self) -> float:
        """Seconds between two paced requests: the refill rate at the low mark, half of it at empty."""
        left = max(0.0, (self.remaining or 0) - self.in_flight)
        share = 0.5 + 0.5 * min(1.0, left / self.low_mark())
        return 1.0 / max(self.refill() * share, 1e-3)

    def observe(self, now: float, remaining: int, paced: bool) -> None:
        """A new count of what is left; measure the refill rate over spans of at least ``MEASURE_SECONDS``
        while the bucket is below full (a full bucket doesn't refill, so it would read low). Paced requests
        that find more than the low mark left went slower than the bucket refills: speed up."""
        self.capacity = max(self.capacity, remaining + 1)
        self.remaining = remaining
        self.admitted_since_anchor += 1
        if paced and remaining > self.low_mark():
            self.rate = min(self.refill() * 1.5, 4.0 * self.capacity)
        below_full = remaining < self.capacity - 1
        if self.anchor is None or not below_full:
            self.anchor, self.admitted_since_anchor = ((now, remaining) if below_full else None), 0
            return
        started, then = self.anchor
        if now - started < MEASURE_SECONDS:
            return
        measured = (remaining - then + self.admitted_since_anchor) / (now - started)
        if measured > 0:
            measured = min(measured, 4.0 * self.capacity)  # bounds a measurement gone wild
            self.rate = measured if self.rate is None else 0.5 * self.rate + 0.5 * measured
        self.anchor, self.admitted_since_anchor = (now, remaining), 0


class Budgets:
    """Every budget this process has heard of, and the waits they impose."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._budgets: dict[tuple[str, str, str], Budget] = {}
        self.waited = 0.0  # seconds requests were held, in total
        # the hold a thread's own 429 imposed: its retry policy already waits that out
        self._mine = threading.local()
        self.refusals = 0  # 429s seen

    def budget(self, key: tuple[str, str, str]) -> Budget:
        with self._lock:
            found = self._budgets.get(key)
            if found is None:
                found = self._budgets[key] = Budget(key[2])
            return found

    def before(self, key, clock: Clock, report: Callable[[str], None]) -> bool:
        """Wait, if need be, until a request against ``key`` may leave; then count it in flight.
        True when the request was paced. A paced request leaves one gap after the one before it; the gap
        is worked out again after every wait, so a rate learnt meanwhile applies at once."""
        budget = self.budget(key)
        paced = False
        while True:
            with self._lock:
                now = clock.monotonic()
                # Times another clock left (a test's, or a provider's with its own clock) never hold a
                # request longer than the Retry-After or the gap they came from.
                budget.blocked_until = min(budget.blocked_until, now + budget.hold)
                budget.last_sent = min(budget.last_sent, now)
                pacing = budget.pacing()
                held = budget.blocked_until
                if getattr(self._mine, "held", None) == (key, held):
                    held = now  # this thread's retry policy waited its own Retry-After already
                start = max(now, held)
                if pacing:
                    start = max(start, budget.last_sent + budget.gap())
                wait = start - now
                if wait <= 0:
                    budget.in_flight += 1
                    budget.last_sent = now
                    return paced or pacing
                paced = paced or pacing
                self.waited += wait
                tell = pacing and now - budget.reported_at >= REPORT_EVERY
                if tell:
                    budget.reported_at = now
            if tell:
                host, subscription, kind = key
                where = f"subscription {subscription}" if subscription else host
                report(
                    f"Azure's {kind[:-1]} budget for {where} is low ({budget.remaining} left): pacing "
                    f"requests to about {budget.refill():.3g} a second"
                )
            clock.sleep(wait)

    def after(
        self,
        key,
        clock: Clock,
        status: int | None,
        headers: Mapping[str, str],
        retry_after: float | None,
        paced: bool = False,
    ) -> None:
        budget = self.budget(key)
        with self._lock:
            now = clock.monotonic()
            budget.in_flight = max(0, budget.in_flight - 1)
            left = remaining_from(headers, key[2])
            if status == 429:
                self.refusals += 1
                budget.hold = retry_after or 1.0
                budget.blocked_until = now + budget.hold
                self._mine.held = (key, budget.blocked_until)
                budget.rate = budget.refill() / 2  # what we assumed was too fast
                budget.anchor = None
                if left is not None:
                    budget.remaining = left
                    budget.capacity = max(budget.capacity, left + 1)
                return
            if left is not None:
                budget.observe(now, left, paced)


# One per process: every client of every provider instance counts against the same buckets.
BUDGETS = Budgets()
_LOCAL_BUDGETS: dict[str, Budgets] = {}
_LOCAL_LOCK = threading.Lock()


def local_budgets(database: str) -> Budgets:
    """The budgets of one local Azure: it keeps its buckets per database file (providers.azurelocal.
    ratelimits), so a process that talks to several (a test run) must not carry one's rates, holds and
    in-flight counts over to another that shares its host and subscription id."""
    with _LOCAL_LOCK:
        found = _LOCAL_BUDGETS.get(database)
        if found is None:
            found = _LOCAL_BUDGETS[database] = Budgets()
        return found


class PacingPolicy(HTTPPolicy):
    """A per-retry pipeline policy (it sees every attempt, after the retry policy decided to make it):
    holds a request while its budget says so, and learns from each answer's remaining-requests headers."""

    def __init__(self, clock: Clock, report: Callable[[str], None], budgets: Budgets | None = None) -> None:
        super().__init__()
        self._clock = clock
        self._report = report
        self._budgets = budgets or BUDGETS

    def send(self, request):
        http = request.http_request
        key = budget_key(http.method, http.url)
        paced = self._budgets.before(key, self._clock, self._report)
        try:
            response = self.next.send(request)
        except BaseException:
            self._budgets.after(key, self._clock, None, {}, None)
            raise
        answer = response.http_response
        headers = answer.headers
        status = answer.status_code
        self._budgets.after(
            key, self._clock, status, headers, retry_after_seconds(headers) if status == 429 else None, paced
        )
        return response


__all__ = [
    "BUDGETS",
    "Budget",
    "Budgets",
    "PacingPolicy",
    "budget_key",
    "local_budgets",
    "operation_of",
    "remaining_from",
]

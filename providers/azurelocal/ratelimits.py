"""Request budgets of the local Azure: ARM's per-subscription token buckets and Key Vault's per-vault limits.

ARM (https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling,
"Regional throttling and token bucket algorithm"): since 2024 each subscription has, per region, per
security principal and per kind of operation, a bucket of tokens that refills at a fixed rate:

    reads    250 tokens, 25 per second
    writes   200 tokens, 10 per second
    deletes  200 tokens, 10 per second

and a global bucket per subscription shared by all principals, 15 times the principal's. Tenant-level
requests (no subscription in the path) have the same sizes per tenant. A request finding either bucket
empty is answered 429 with ``Retry-After`` (seconds) and code ``SubscriptionRequestsThrottled``
(troubleshoot article "Troubleshoot the SubscriptionRequestsThrottled error code (429)", MicrosoftDocs
SupportArticles-docs); the message follows a recorded ARM answer: "Number of 'read' requests for
subscription '<id>' actor '<object id>' exceeded. Please try again after '10' seconds." Every answer
carries what is left: ``x-ms-ratelimit-remaining-subscription-reads`` / ``-writes`` / ``-deletes`` and
``x-ms-ratelimit-remaining-subscription-global-reads`` / ... (a recorded answer in azure-powershell's
Invoke-AzRestMethod help shows ``...-subscription-reads: 249`` beside ``...-global-reads: 3749``; the
deletes pair is not in the doc's table but read from DELETE answers by public scripts that watch ARM's
budget, ``x-ms-ratelimit-remaining-subscription-global-deletes`` among them); tenant-level requests carry ``x-ms-ratelimit-remaining-tenant-reads`` / ``-writes``
(the doc's header table; ``-tenant-deletes`` is invented by analogy). A POST counts as a write (Azure/
azure-sdk-for-java issue 1389: a POST listKeys was throttled as a write). A refused request takes no
token (a token bucket admits or refuses; the doc says nothing of charging refusals).

Key Vault (https://learn.microsoft.com/azure/key-vault/general/service-limits): transactions per vault per
region in 10 seconds - for RSA 2048 software keys 20 creates and 4,000 other transactions. A vault over its
limit answers 429 with ``Retry-After`` (https://learn.microsoft.com/azure/key-vault/general/overview-throttling:
"Failed requests that return a 429 do not count towards the throttle limits") and the body
``{"error": {"code": "Throttled", "message": "Request was not processed because too many requests were
received. Reason: VaultRequestTypeLimitReached"}}`` (vcsjones/AzureSignTool issue 219). Key Vault sends no
remaining-requests header. Modelled as a bucket of that many tokens refilling in 10 seconds; the weighting
by key type (HSM keys, larger RSA keys) and the subscription-wide Key Vault limit are left out.

The limits are on by default with these real numbers, so ordinary use never meets them; tests configure
them lower through the fault settings (``providers.azurelocal.faults``). Buckets live in the memory of the
process serving the requests (one per database file), measured on the emulator clock, so moving the clock
forward refills them; each refusal is also counted in the database (``rate_limited_requests``) so a test
can read, from any process, how many 429s the local Azure sent.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from providers.azurelocal.http import AzureError, Request

if TYPE_CHECKING:
    from providers.azurelocal.faults import FaultSettings

THROTTLED_META_KEY = "rate_limited_requests"
REFUSAL_CODES = frozenset({"SubscriptionRequestsThrottled", "TenantRequestsThrottled", "Throttled"})
KEYVAULT_WINDOW_SECONDS = 10.0  # Key Vault counts transactions per 10 seconds (service-limits doc)


class Operation(Enum):
    """ARM's kinds of operation; the value is the header suffix."""

    READ = "reads"
    WRITE = "writes"
    DELETE = "deletes"

    @property
    def singular(self) -> str:
        return self.value[:-1]


def operation_of(method: str) -> Operation:
    if method in ("GET", "HEAD"):
        return Operation.READ
    if method == "DELETE":
        return Operation.DELETE
    return Operation.WRITE


@dataclass
class Bucket:
    """Tokens refilling at ``refill`` per second up to ``capacity``; starts full."""

    capacity: float
    refill: float
    tokens: float
    at: float

    def level(self, now: float) -> float:
        return min(self.capacity, self.tokens + max(0.0, now - self.at) * self.refill)

    def take(self, now: float) -> bool:
        self.tokens, self.at = self.level(now), max(now, self.at)
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

    def wait_for_token(self, now: float) -> float:
        """Seconds until one token is there."""
        missing = 1.0 - self.level(now)
        if missing <= 0:
            return 0.0
        return missing / self.refill if self.refill > 0 else math.inf


@dataclass(frozen=True)
class _Limit:
    capacity: float
    refill: float


def _arm_limit(settings: FaultSettings, op: Operation) -> _Limit:
    return {
        Operation.READ: _Limit(settings.arm_read_tokens, settings.arm_read_refill_per_second),
        Operation.WRITE: _Limit(settings.arm_write_tokens, settings.arm_write_refill_per_second),
        Operation.DELETE: _Limit(settings.arm_delete_tokens, settings.arm_delete_refill_per_second),
    }[op]


def _retry_after(seconds: float) -> str:
    """ARM and Key Vault send whole seconds; never 0 (azure-core reads 0 as "no hint")."""
    return str(max(1, math.ceil(seconds))) if math.isfinite(seconds) else "3600"


class RateLimiter:
    """The buckets of one local Azure (one database) in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[tuple, Bucket] = {}
        self.throttled: Counter[str] = Counter()  # refusals by scope kind, this process

    def _bucket(self, key: tuple, limit: _Limit, now: float) -> Bucket:
        # the limit is part of the key: new settings start with a full bucket of the new size
        full_key = (*key, limit.capacity, limit.refill)
        bucket = self._buckets.get(full_key)
        if bucket is None:
            bucket = self._buckets[full_key] = Bucket(limit.capacity, limit.refill, limit.capacity, now)
        return bucket

    def _admit(self, buckets: list[Bucket], now: float) -> tuple[bool, float]:
        """Take a token from every bucket, or from none when one is empty (then: seconds to wait)."""
        waits = [b.wait_for_token(now) for b in buckets]
        if any(w > 0 for w in waits):
            return False, max(waits)
        for b in buckets:
            b.take(now)
        return True, 0.0

    # ------------------------------------------------------------------ ARM

    def admit_arm(
        self,
        request: Request,
        settings: FaultSettings,
        now: float,
        *,
        tenant_id: str,
        headers: dict[str, str],
    ) -> None:
        """Charge one ARM request; fill ``headers`` with what is left, or raise the 429."""
        op = operation_of(request.method)
        limit = _arm_limit(settings, op)
        actor = str((request.principal or {}).get("object_id") or "")
        parts = [p for p in request.path.split("/") if p]
        subscription = parts[1].lower() if len(parts) > 1 and parts[0].lower() == "subscriptions" else ""
        with self._lock:
            if subscription:
                factor = settings.arm_global_multiplier
                mine = self._bucket(("sub", subscription, actor, op), limit, now)
                shared = self._bucket(
                    ("sub-global", subscription, op),
                    _Limit(limit.capacity * factor, limit.refill * factor),
                    now,
                )
                admitted, wait = self._admit([mine, shared], now)
                headers[f"x-ms-ratelimit-remaining-subscription-{op.value}"] = str(int(mine.level(now)))
                headers[f"x-ms-ratelimit-remaining-subscription-global-{op.value}"] = str(
                    int(shared.level(now))
                )
            else:
                mine = self._bucket(("tenant", tenant_id, actor, op), limit, now)
                admitted, wait = self._admit([mine], now)
                headers[f"x-ms-ratelimit-remaining-tenant-{op.value}"] = str(int(mine.level(now)))
            if not admitted:
                self.throttled["arm"] += 1
        if admitted:
            return
        after = _retry_after(wait)
        scope = f"subscription '{subscription}'" if subscription else f"tenant '{tenant_id}'"
        raise AzureError(
            429,
            "SubscriptionRequestsThrottled" if subscription else "TenantRequestsThrottled",
            f"Number of '{op.singular}' requests for {scope} actor '{actor}' exceeded. Please try again "
            f"after '{after}' seconds after additional tokens are available. Refer to "
            f"https://aka.ms/arm-throttling",
            {**headers, "Retry-After": after},
        )

    # ------------------------------------------------------------------ Key Vault

    def admit_vault(self, request: Request, settings: FaultSettings, now: float, *, vault: str) -> None:
        """Charge one Key Vault transaction against its vault, or raise Key Vault's 429."""
        creating = request.method == "POST" and request.path.rstrip("/").lower().endswith("/create")
        size = settings.keyvault_create_per_10s if creating else settings.keyvault_transactions_per_10s
        limit = _Limit(size, size / KEYVAULT_WINDOW_SECONDS)
        with self._lock:
            bucket = self._bucket(("vault", vault.lower(), "create" if creating else "other"), limit, now)
            admitted, wait = self._admit([bucket], now)
            if not admitted:
                self.throttled["vault"] += 1
        if admitted:
            return
        raise AzureError(
            429,
            "Throttled",
            "Request was not processed because too many requests were received. "
            "Reason: VaultRequestTypeLimitReached",
            {"Retry-After": _retry_after(wait)},
        )


_LIMITERS: dict[str, RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def limiter_for(database: object) -> RateLimiter:
    """The one limiter of this process for the local Azure on ``database`` (a path)."""
    key = str(database)
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(key)
        if limiter is None:
            limiter = _LIMITERS[key] = RateLimiter()
        return limiter


def count_refusal(store) -> None:
    """Count one 429 in the database (rare: one small write per refusal)."""
    with store.transaction():
        store.set_meta(THROTTLED_META_KEY, int(store.meta(THROTTLED_META_KEY, 0) or 0) + 1)


def refusals(store) -> int:
    """How many requests the local Azure on ``store`` refused for its rate limits, in any process."""
    return int(store.meta(THROTTLED_META_KEY, 0) or 0)


__all__ = ["Bucket", "Operation", "RateLimiter", "limiter_for", "operation_of", "refusals"]

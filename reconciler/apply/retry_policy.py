"""How long an operation Azure refuses for now is tried again: the apply's steps and crash
recovery's reads wait by the same budgets, keyed by Azure's error code."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from providers.base import RetryableError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryBudget:
    """How long a step may keep retrying one kind of refusal: ``seconds`` of waiting in all, no single
    wait longer than ``cap``, and at most ``attempts`` tries when set."""

    seconds: float
    cap: float
    attempts: int | None = None


# Refusals Azure clears on its own, but only after minutes: the step keeps trying as long as azurerm
# waits for the same thing (keyed by the error code, lower case; others get the short default).
RETRY_BUDGETS: dict[str, RetryBudget] = {
    # Azure Backup discovers a VM (container refresh) before it can protect it: azurerm waits within its
    # create timeout of 80 minutes (internal/services/recoveryservices/backup_protected_vm_resource.go)
    "containerrefreshinprogress": RetryBudget(80 * 60.0, 60.0),
    "bmsusererrorinvalidconfigureprotectionrequest": RetryBudget(80 * 60.0, 60.0),
    # a new grant reaches Azure Backup minutes after ARM accepted it (azurerm issue 27817; Key Vault
    # documents RBAC changes taking up to 10 minutes)
    "usererrorcmkkeyvaultauthfailure": RetryBudget(15 * 60.0, 30.0),
    # Key Vault refusing the identity running vaultform a key create or read that ARM already shows
    # it granted (providers/azurerm raises GrantPropagating; azurerm issues 4569, 9114, 19926):
    # the same documented ten minutes for a grant to arrive
    "grantpropagating": RetryBudget(10 * 60.0, 30.0),
    # a new principal is unknown to role assignments for a while: azurerm retries PrincipalNotFound within
    # its 30 minute create timeout (internal/services/authorization/role_assignment_resource.go)
    "principalnotfound": RetryBudget(30 * 60.0, 60.0),
    # the provider's own wait for one of the above ran out: give it the same room, in rounds
    "consistencytimeout": RetryBudget(30 * 60.0, 60.0),
    # ARM's and Key Vault's throttling: wait what Retry-After says, for a while
    "subscriptionrequeststhrottled": RetryBudget(10 * 60.0, 300.0),
    "toomanyrequests": RetryBudget(10 * 60.0, 300.0),
    "throttled": RetryBudget(10 * 60.0, 300.0),
}


@dataclass
class RetryPolicy:
    max_attempts: int = 6  # the default budget: this many tries ...
    retry_base: float = 1.0
    retry_cap: float = 30.0  # ... no wait longer than this
    retry_budgets: dict[str, RetryBudget] = field(default_factory=lambda: dict(RETRY_BUDGETS))

    def retry_budget(self, code: str) -> RetryBudget:
        """The budget for a refusal with Azure's error code ``code`` (an inner code after '/' is ignored)."""
        found = self.retry_budgets.get((code or "").split("/")[0].lower())
        return found or RetryBudget(float("inf"), self.retry_cap, self.max_attempts)

    def next_wait(
        self, exc: RetryableError, attempt: int, waited: float, jitter: float, allowed: float | None = None
    ) -> float | None:
        """How long to wait before trying again after the ``attempt``-th refusal ``exc``, with ``waited``
        seconds waited already (``jitter`` in [0, 1) spreads the exponential backoff); None when its
        budget is spent and the refusal stands. ``allowed``: the seconds the configuration gives the
        operation (its ``timeouts`` block), in place of the budget's, longer or shorter."""
        budget = self.retry_budget(exc.code)
        if budget.attempts is not None and attempt >= budget.attempts:
            return None
        backoff = min(budget.cap, self.retry_base * 2 ** (attempt - 1))
        delay = min(exc.retry_after if exc.retry_after is not None else backoff * (0.5 + jitter), budget.cap)
        return None if waited + delay > (budget.seconds if allowed is None else allowed) else delay

    def run(
        self,
        action: Callable[[], T],
        *,
        sleep: Callable[[float], None],
        jitter: Callable[[], float],
        on_wait: Callable[[RetryableError, int, float], None],
        allowed: float | None = None,
    ) -> T:
        """``action``, tried again after each refusal Azure clears on its own (``RetryableError``)
        while its budget (or the ``allowed`` seconds) lasts; ``on_wait(refusal, attempt, seconds)``
        hears of each wait first."""
        attempt, waited = 0, 0.0
        while True:
            try:
                return action()
            except RetryableError as exc:
                attempt += 1
                delay = self.next_wait(exc, attempt, waited, jitter(), allowed)
                if delay is None:
                    raise
                waited += delay
                on_wait(exc, attempt, delay)
                sleep(delay)


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str) -> float | None:
    """Seconds in a Go duration as a ``timeouts`` block writes it ("30m", "1h30m", "90s"); None
    when ``text`` isn't one."""
    text = text.strip()
    parts = _DURATION_PART.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


OPERATION_TIMEOUTS = {"create": "create", "update": "update", "phase": "update", "delete": "delete"}


def configured_timeout(values: dict | None, operation: str) -> float | None:
    """The seconds a resource's ``timeouts`` block gives ``operation`` (create, update or delete)."""
    block = (values or {}).get("timeouts")
    if isinstance(block, list):
        block = block[0] if block else None
    text = block.get(OPERATION_TIMEOUTS.get(operation, operation)) if isinstance(block, dict) else None
    return parse_duration(text) if isinstance(text, str) else None

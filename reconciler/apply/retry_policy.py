"""How long an operation Azure refuses for now is tried again: the apply's steps and crash
recovery's reads wait by the same budgets, keyed by Azure's error code."""

from __future__ import annotations

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

    def next_wait(self, exc: RetryableError, attempt: int, waited: float, jitter: float) -> float | None:
        """How long to wait before trying again after the ``attempt``-th refusal ``exc``, with ``waited``
        seconds waited already (``jitter`` in [0, 1) spreads the exponential backoff); None when its
        budget is spent and the refusal stands."""
        budget = self.retry_budget(exc.code)
        if budget.attempts is not None and attempt >= budget.attempts:
            return None
        backoff = min(budget.cap, self.retry_base * 2 ** (attempt - 1))
        delay = min(exc.retry_after if exc.retry_after is not None else backoff * (0.5 + jitter), budget.cap)
        return None if waited + delay > budget.seconds else delay

    def run(
        self,
        action: Callable[[], T],
        *,
        sleep: Callable[[float], None],
        jitter: Callable[[], float],
        on_wait: Callable[[RetryableError, int, float], None],
    ) -> T:
        """``action``, tried again after each refusal Azure clears on its own (``RetryableError``)
        while its budget lasts; ``on_wait(refusal, attempt, seconds)`` hears of each wait first."""
        attempt, waited = 0, 0.0
        while True:
            try:
                return action()
            except RetryableError as exc:
                attempt += 1
                delay = self.next_wait(exc, attempt, waited, jitter())
                if delay is None:
                    raise
                waited += delay
                on_wait(exc, attempt, delay)
                sleep(delay)

"""A step keeps retrying a refusal Azure clears only after minutes (a new grant reaching Azure Backup, a VM
not yet discovered) as long as azurerm would wait for it, not the few seconds other refusals get."""

from __future__ import annotations

import random
import threading

from providers.base import Clock, RetryableError
from reconciler.apply.executor import ApplyOptions, Executor
from reconciler.apply.graph import Op
from reconciler.apply.retry_policy import RetryBudget, parse_duration


def test_budgets_follow_the_reason():
    options = ApplyOptions()
    assert options.retry_budget("UserErrorCMKKeyVaultAuthFailure/ForbiddenByRbac").seconds >= 10 * 60
    assert options.retry_budget("BMSUserErrorInvalidConfigureProtectionRequest").seconds == 80 * 60
    assert options.retry_budget("Conflict") == RetryBudget(float("inf"), 30.0, 6)
    # a key create or read waiting for the deployer's own new grant: minutes, not six tries
    assert options.retry_budget("GrantPropagating/Forbidden/ForbiddenByPolicy").seconds == 10 * 60
    tight = ApplyOptions(retry_budgets={"principalnotfound": RetryBudget(5.0, 1.0)})
    assert tight.retry_budget("PrincipalNotFound") == RetryBudget(5.0, 1.0)


def waits_until_given_up(
    code: str, retry_after: float | None = None, timeouts: dict | None = None, op: Op = Op.CREATE
) -> list[float]:
    """The waits the executor makes for a step refused with ``code`` every time, on a recording clock."""
    waits: list[float] = []
    executor = Executor.__new__(Executor)
    executor.options, executor.clock, executor.rng = (
        ApplyOptions(),
        Clock(sleep=waits.append),
        random.Random(1),
    )

    class Progress:
        def retrying(self, *_args, **_kwargs) -> None:
            return None

    executor.progress = Progress()
    executor._stop_now = threading.Event()

    def refuse():
        raise RetryableError("not yet", code=code, retry_after=retry_after)

    values = {"name": "v", "timeouts": timeouts}

    class Step:
        class change:
            address = "azurerm_recovery_services_vault.v"
            before = values if op is Op.DELETE else None
            after = None if op is Op.DELETE else values

    Step.op = op

    try:
        executor._with_retries(Step, refuse)
    except RetryableError:
        return waits
    raise AssertionError("the refusal was never given up on")


def test_a_grant_is_waited_for_minutes_and_other_refusals_for_seconds():
    grant = waits_until_given_up("UserErrorCMKKeyVaultAuthFailure")
    assert 14 * 60 <= sum(grant) <= 15 * 60 and max(grant) <= 30.0
    discovery = waits_until_given_up("BMSUserErrorInvalidConfigureProtectionRequest", retry_after=30.0)
    assert sum(discovery) == 80 * 60 and set(discovery) == {30.0}
    other = waits_until_given_up("Conflict")
    assert len(other) == 5 and sum(other) <= 47


def test_a_timeouts_block_gives_the_operation_its_own_time():
    """timeouts { create = "..." } bounds the waiting, longer or shorter than azurerm's default."""
    shorter = waits_until_given_up("BMSUserErrorInvalidConfigureProtectionRequest", 30.0, {"create": "5m"})
    assert sum(shorter) == 5 * 60
    longer = waits_until_given_up("UserErrorCMKKeyVaultAuthFailure", None, {"create": "1h"})
    assert 59 * 60 <= sum(longer) <= 60 * 60
    # a delete is given what the state's block says for delete; create's time doesn't count for it
    deleting = waits_until_given_up("PrincipalNotFound", 60.0, {"create": "1m", "delete": "2h"}, Op.DELETE)
    assert sum(deleting) == 2 * 3600
    assert sum(waits_until_given_up("PrincipalNotFound", 60.0, {"create": "1m"}, Op.DELETE)) == 30 * 60


def test_durations_are_read_as_azurerm_reads_them():
    assert parse_duration("90s") == 90 and parse_duration("1h30m") == 5400 and parse_duration("1.5h") == 5400
    assert parse_duration("250ms") == 0.25
    for bad in ("", "90", "1 h", "1d", "m", "30 minutes"):
        assert parse_duration(bad) is None

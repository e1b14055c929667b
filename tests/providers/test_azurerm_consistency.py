"""Bounded, reported waits through an injected clock (nothing really sleeps)."""

from __future__ import annotations

import pytest

from providers.azurerm.consistency import Backoff, Waiter
from providers.base import Clock, PermanentError, RetryableError


class FakeTime:
    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.t += s

    def clock(self) -> Clock:
        return Clock(now=lambda: self.t, monotonic=lambda: self.t, sleep=self.sleep)


def test_until_polls_with_growing_capped_pauses_and_reports_each():
    ft, events = FakeTime(), []
    answers = iter([None, False, None, None, "ready"])
    waiter = Waiter(ft.clock(), events.append)
    assert (
        waiter.until("the grant shows", lambda: next(answers), Backoff(first=1, factor=2, cap=3, budget=60))
        == "ready"
    )
    assert ft.slept == [1, 2, 3, 3]
    assert len(events) == 4 and all("until the grant shows" in e for e in events)


def test_until_gives_up_within_its_budget():
    ft = FakeTime()
    with pytest.raises(RetryableError) as err:
        Waiter(ft.clock()).until("never", lambda: None, Backoff(first=5, factor=1, cap=5, budget=20))
    assert sum(ft.slept) <= 20
    assert err.value.code == "ConsistencyTimeout"


def test_retrying_only_the_named_codes_and_honouring_retry_after():
    ft, events = FakeTime(), []
    calls = {"n": 0}

    def create():
        calls["n"] += 1
        if calls["n"] < 3:
            raise RetryableError("principal unknown yet", code="PrincipalNotFound", retry_after=10)
        return "created"

    waiter = Waiter(ft.clock(), events.append)
    assert waiter.retrying("the assignment", create, frozenset({"PrincipalNotFound"})) == "created"
    assert ft.slept == [10, 10]  # the hint beat the smaller backoff
    assert all("PrincipalNotFound" in e for e in events)

    def forbidden():
        raise PermanentError("no", code="AuthorizationFailed")

    with pytest.raises(PermanentError):
        waiter.retrying("x", forbidden, frozenset({"PrincipalNotFound"}))
    assert ft.slept == [10, 10]  # no pause for an error that isn't waited out


def test_retrying_stops_at_the_budget():
    ft = FakeTime()

    def always():
        raise RetryableError("still unknown", code="PrincipalNotFound")

    with pytest.raises(RetryableError):
        Waiter(ft.clock()).retrying(
            "x", always, frozenset({"principalnotfound"}), Backoff(first=4, factor=2, cap=8, budget=30)
        )
    assert sum(ft.slept) <= 30

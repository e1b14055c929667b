"""Every call the azurerm handlers send goes through ``call`` or ``not_found_is_none``; both ask the
apply's cloud guard first, so a run that lost its state lock sends nothing - a delete included."""

from __future__ import annotations

import pytest

from providers.azurerm.resources.base import call, not_found_is_none
from providers.base import CLOUD_GUARD, PermanentError


def _lost() -> None:
    raise PermanentError("this run lost the state lock", code="state_lock_lost")


@pytest.mark.parametrize("wrapper", [call, not_found_is_none], ids=["call", "not_found_is_none"])
def test_no_call_is_sent_once_the_guard_refuses(wrapper):
    sent = []
    token = CLOUD_GUARD.set(_lost)
    try:
        with pytest.raises(PermanentError, match="lost the state lock"):
            wrapper(lambda: sent.append("DELETE"))
    finally:
        CLOUD_GUARD.reset(token)
    assert sent == []
    assert wrapper(lambda: sent.append("GET") or "read") == "read"  # outside an apply's step: no guard

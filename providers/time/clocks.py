"""Whose time the ``time`` provider keeps: the local Azure's, or the real one.

On the local Azure (the default cloud), time is the emulator's clock, which vaultform can move
forward: a ``time_sleep`` there advances it instead of waiting, so a wait for a grant to take
effect passes in no real time and the local Azure sees it pass (its delayed grants, key
expiry and rotation all run on that clock). On real Azure (``VAULTFORM_CLOUD=azure``) it is
the wall clock, and a sleep is a real wait.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from providers.base import PermanentError

log = logging.getLogger(__name__)


class _SteppableClock(Protocol):
    """The local Azure's emulated clock, as the time provider uses it."""

    def now(self) -> datetime: ...

    def advance(self, seconds: float) -> datetime: ...


class TimeSource(Protocol):
    description: str

    def now(self) -> datetime: ...

    def wait(self, seconds: float) -> None: ...


class WallTime:
    description = "the wall clock"

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait(self, seconds: float) -> None:
        if seconds > 0:
            log.info("waiting %.1fs of real time", seconds)
            self._sleep(seconds)


class LocalAzureTime:
    """The local Azure's clock, opened when first needed."""

    description = "the local Azure's clock"

    def __init__(self, path: str | None) -> None:
        self._path = path
        self._clock: _SteppableClock | None = None

    def _emulator_clock(self) -> _SteppableClock:
        if self._clock is None:
            from providers.azurelocal.seam import LocalAzureUnavailable, open_emulator  # lazy: start-up

            path = Path(self._path) if self._path else None
            try:
                self._clock = open_emulator(path).clock
            except LocalAzureUnavailable as exc:
                raise PermanentError(
                    f"the local Azure's database {path or 'at its default place'} can't be used "
                    f"({exc.reason}). Run `vaultform cloud reset` to start a new local Azure there, or point "
                    "VAULTFORM_LOCAL_AZURE at another file.",
                    code="LocalAzureUnavailable",
                ) from exc
        return self._clock

    def now(self) -> datetime:
        return self._emulator_clock().now()

    def wait(self, seconds: float) -> None:
        if seconds > 0:
            log.info("advancing the local Azure's clock by %.1fs", seconds)
            self._emulator_clock().advance(seconds)


def time_source(environ: Mapping[str, str] | None = None) -> TimeSource:
    env = os.environ if environ is None else environ
    if env.get("VAULTFORM_CLOUD", "local").strip().lower() == "azure":
        return WallTime()
    return LocalAzureTime(env.get("VAULTFORM_LOCAL_AZURE"))

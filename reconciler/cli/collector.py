"""The garbage collector during one command.

A run builds hundreds of thousands of objects that live to its end (the configuration, the state,
the plan) and makes few cycles. ``running`` (around each command, in ``reconciler.cli.main``) makes
young-generation collections rarer; ``keep_loaded`` (once the configuration and the state are
loaded) moves every object alive at that moment out of the collector's generations
(``gc.freeze``), so the collections that still happen no longer rescan them: about a tenth of a
no-change plan of 10,000 resources. When the command ends, ``running`` hands them back
(``gc.unfreeze``), so a process that runs several commands (tests, benchmarks) frees them as before.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

GC_YOUNG_THRESHOLD = 20_000

_depth = 0  # commands running in this process (keep_loaded freezes only inside one)


@contextmanager
def running() -> Iterator[None]:
    global _depth
    thresholds = gc.get_threshold()
    # with the default young-generation threshold (700) the collector rescans the run's objects over
    # and over: about a third of a no-change plan of 10,000 resources. Collections still happen, just
    # rarer; peak memory measured unchanged.
    gc.set_threshold(GC_YOUNG_THRESHOLD, thresholds[1], thresholds[2])
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            gc.unfreeze()
        gc.set_threshold(*thresholds)


def keep_loaded() -> None:
    """What is alive now lives to the end of the command: leave it out of later collections."""
    if _depth > 0:
        gc.freeze()


def leave_to_exit() -> None:
    """The process ends with the command (the ``vaultform`` command itself): leave every object to the
    process's end. The interpreter's shutdown would otherwise collect several times over everything
    still alive - the run's and every imported module's (the azurerm backend's SDK alone adds ~20,000):
    50-100 ms of a 1,000-resource plan. Objects are still freed by reference counting, and logging's
    handlers are flushed at exit."""
    gc.freeze()

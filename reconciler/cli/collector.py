"""The garbage collector during one command.

A run builds hundreds of thousands of objects that live to its end (the configuration, the state,
the plan) and makes few cycles. ``running`` (around each command, in ``reconciler.cli.main``) makes
young-generation collections rarer; ``loading`` (around reading the configuration and the state)
makes none at all while they are read, and then ``keep_loaded`` moves every object alive at that
moment out of the collector's generations (``gc.freeze``), so the collections that still happen no
longer rescan them: about a tenth of a no-change plan of 10,000 resources. ``paused`` makes none
while a plan is worked out. When the command ends, ``running`` hands them back (``gc.unfreeze``),
so a process that runs several commands (tests, benchmarks) frees them as before.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager

GC_YOUNG_THRESHOLD = 20_000

_depth = 0  # commands running in this process (keep_loaded freezes only inside one)
_paused = False  # inside ``paused``: the collector is off in this process


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


@contextmanager
def loading() -> Iterator[None]:
    """Around reading the configuration and the state: no collections while they are read, then
    ``keep_loaded``.

    Reading 10,000 resources builds some 360,000 objects that all live to the end of the command
    and makes almost no garbage cycles (about 100 objects, from a warm parse cache or a cold one),
    yet the collections that ran while they were read rescanned them over and over: about 0.5 s,
    a fifth of a no-change plan. The few cycles made meanwhile are frozen with the rest and freed
    when the command ends. A process forked meanwhile (a parallel parse's worker) collects as
    usual. Outside a command (``running``) nothing changes."""
    with paused(keep=True):
        yield


@contextmanager
def paused(*, keep: bool = False) -> Iterator[None]:
    """No collections inside. With ``keep``, what is alive when it ends lives to the end of the
    command (``keep_loaded``, before collections resume: the first one would otherwise scan all of
    it at once); without, what is garbage by then is collected as usual afterwards.

    For work that builds many objects and makes next to no cycles: reading the configuration and
    the state (``loading``), and a plan's walk (about 250,000 objects at 10,000 resources, 4 of
    them garbage cycles; its collections took about 0.15 s). A process forked meanwhile (a parallel
    parse's worker) collects as usual. Outside a command (``running``) nothing changes."""
    global _paused
    if _depth == 0 or not gc.isenabled():
        yield
        return
    gc.disable()
    _paused = True
    try:
        yield
        if keep:
            keep_loaded()
    finally:
        _paused = False
        gc.enable()


def _collect_in_forked_child() -> None:
    if _paused:
        gc.enable()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_collect_in_forked_child)


def leave_to_exit() -> None:
    """The process ends with the command (the ``vaultform`` command itself): leave every object to the
    process's end. The interpreter's shutdown would otherwise collect several times over everything
    still alive - the run's and every imported module's (the azurerm backend's SDK alone adds ~20,000):
    50-100 ms of a 1,000-resource plan. Objects are still freed by reference counting, and logging's
    handlers are flushed at exit."""
    gc.freeze()

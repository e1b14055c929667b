"""Whether a process on this host still runs, told apart from a later process with its pid.

A lock (or a temporary file) records the pid of its writer and the moment that process
started: the boot id of the machine and the process's start time in clock ticks since boot
(field 22 of ``/proc/PID/stat``, see proc(5): https://man7.org/linux/man-pages/man5/proc.5.html).
A pid alone proves nothing once the process ended, since the kernel hands pids out again; the
pair (pid, start) names one process for the life of the machine, and the boot id tells a
machine that restarted since. Where ``/proc`` is missing the start is empty, and a live pid
is taken to be the writer (never a reason to take anything over).
"""

from __future__ import annotations

import contextlib
import os
import re

__all__ = [
    "pid_alive",
    "process_start",
    "own_start",
    "same_process_running",
    "writer_tag",
    "remove_dead_writers_files",
]


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a zombie counts as ended)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = _stat_fields(pid)
    return stat is None or stat[0] != "Z"


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state first), or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def process_start(pid: int) -> str:
    """``BOOT_ID:TICKS`` naming the process that has ``pid`` now; "" when unknown."""
    fields = _stat_fields(pid)
    boot = _boot_id()
    if fields is None or len(fields) < 20 or not boot:
        return ""
    return f"{boot}:{fields[19]}"  # starttime is field 22 of the line, the 20th after the name


def own_start() -> str:
    return process_start(os.getpid())


def same_process_running(pid: int, start: str) -> bool:
    """Whether the process that recorded (``pid``, ``start``) still runs on this host.

    False is a proof: the pid is free, is a zombie, belongs to a process that started at
    another moment, or the machine restarted since. With no recorded ``start`` (or no
    ``/proc``), a live pid counts as that process.
    """
    if not pid_alive(pid):
        return False
    if not start:
        return True
    now = process_start(pid)
    if not now:
        return True
    boot, _, _ = start.partition(":")
    if boot != now.partition(":")[0]:
        return False  # the machine restarted: nothing from before runs
    return now == start


def writer_tag() -> str:
    """``PID.TICKS``, this process, for the names of its temporary files: a file named
    ``PREFIX PID.TICKS [.RANDOM] .tmp`` is removed by ``remove_dead_writers_files`` once
    that process no longer runs."""
    return f"{os.getpid()}.{own_start().partition(':')[2] or '0'}"


def remove_dead_writers_files(directory: str, prefixes: list[str]) -> list[str]:
    """Remove the temporary files in ``directory`` named ``PREFIX`` + ``writer_tag()`` of a
    process that no longer runs (killed mid-write); returns the names removed."""
    pattern = re.compile(
        "(?:" + "|".join(re.escape(p) for p in prefixes) + r")(\d+)\.(\d+)\.(?:[^.]+\.)?tmp\Z"
    )
    try:
        entries = os.listdir(directory)
    except OSError:
        return []
    boot = own_start().partition(":")[0]
    removed = []
    for name in entries:
        match = pattern.match(name)
        if match is None:
            continue
        pid, ticks = int(match.group(1)), match.group(2)
        if same_process_running(pid, f"{boot}:{ticks}" if boot else ""):
            continue
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(directory, name))
            removed.append(name)
    return removed

"""State locking: an OS lock on ``<state>.lock`` plus the lock's description in it.

A state is locked while either holds:

* a live process holds ``fcntl.flock`` on ``<state>.lock`` (the kernel drops it
  when the process ends, however it ends), or
* ``<state>.lock`` holds lock information (JSON: id, who, operation, created,
  pid, host, the holder process's start, vaultform version, path).

A run that ends normally removes the file; a run that is killed leaves the
information behind without the OS lock. When its holder is *provably gone*
(``why_gone``: it ran on this host and that process no longer runs - its pid is
free, or now belongs to a process that started at another moment, or the
machine restarted - or, on a backend with leases, its lease expired), the next
run takes the lock over and says whose it was (``Lock.taken_over``); a crashed
run's half-finished operations are then recovered from state as usual. A lock
whose holder may still run (another host, no OS lock but a live pid) is never
taken: the message names the holder and the exact ``force-unlock`` command for
where the user stands (``unlock_command``). ``force_unlock`` removes a lock only
when the caller names its id and no live process holds the OS lock.

Windows is not supported (``fcntl``).
"""

from __future__ import annotations

import errno
import fcntl
import getpass
import json
import os
import re
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from state.format import format_time
from state.liveness import own_start, pid_alive, same_process_running
from state.model import VAULTFORM_VERSION

__all__ = [
    "LockInfo",
    "Lock",
    "Takeover",
    "why_gone",
    "LockError",
    "DurationError",
    "acquire",
    "force_unlock",
    "read_lock_info",
    "lock_path_for",
    "parse_duration",
    "pid_alive",
]


class DurationError(ValueError):
    pass


class LockError(Exception):
    """The state could not be locked or unlocked; ``summary``/``detail`` are for a Diagnostic."""

    def __init__(self, summary: str, detail: str = "", *, holder: LockInfo | None = None):
        self.summary = summary
        self.detail = detail
        self.holder = holder
        super().__init__(summary + (f"\n{detail}" if detail else ""))


@dataclass(frozen=True, slots=True)
class LockInfo:
    id: str
    who: str
    operation: str
    created: datetime
    pid: int
    host: str
    version: str
    path: str
    process_start: str = ""  # ``state.liveness.process_start`` of the holder; "" when unknown
    expires: datetime | None = None  # the end of the holder's lease, on backends that lease
    tool: str = ""  # the program that wrote a lock vaultform didn't ("terraform"); its ``version``

    def to_json(self) -> str:
        doc = {
            "id": self.id,
            "who": self.who,
            "operation": self.operation,
            "created": format_time(self.created),
            "pid": self.pid,
            "host": self.host,
            "version": self.version,
            "path": self.path,
        }
        if self.process_start:
            doc["process_start"] = self.process_start
        if self.expires is not None:
            doc["expires"] = format_time(self.expires)
        return json.dumps(doc, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> LockInfo | None:
        """The lock information in ``text``, or None when it is not readable as such."""
        try:
            doc = json.loads(text)
            info = cls(
                id=doc["id"],
                who=doc["who"],
                operation=doc["operation"],
                created=datetime.fromisoformat(doc["created"]),
                pid=doc["pid"],
                host=doc["host"],
                version=doc["version"],
                path=doc["path"],
                process_start=doc.get("process_start") or "",
                expires=datetime.fromisoformat(doc["expires"]) if doc.get("expires") else None,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if not (isinstance(info.id, str) and info.id and type(info.pid) is int):
            return None
        if not isinstance(info.process_start, str):
            return None
        return info

    def describe(self) -> str:
        since = format_time(self.created.replace(microsecond=0))
        if self.tool:  # another program's lock: no pid or host, which it doesn't record
            return f"{self.who} ({self.operation}, since {since}, {self.tool} {self.version})"
        where = f"pid {self.pid} on {self.host}"
        return f"{self.who} ({self.operation}, since {since}, {where}, vaultform {self.version})"


def lock_path_for(state_path: str | os.PathLike[str]) -> str:
    return os.fspath(state_path) + ".lock"


def why_gone(
    holder: LockInfo,
    *,
    host: str,
    now: datetime,
    running: Callable[[int, str], bool] = same_process_running,
) -> str | None:
    """Why ``holder`` provably no longer holds its lock, or None when it may.

    Any backend can use this: a lease that ran out proves it (remote backends), and so
    does a holder on this host whose process no longer runs (``running``: the pid and
    the process start it recorded, so a reused pid is told apart).
    """
    if holder.expires is not None and holder.expires <= now:
        return f"its lease expired at {format_time(holder.expires.replace(microsecond=0))}"
    if holder.host == host and not running(holder.pid, holder.process_start):
        return f"process {holder.pid} on {holder.host} is no longer running"
    return None


@dataclass(frozen=True, slots=True)
class Takeover:
    """The lock of a provably gone holder, taken over: whose it was and why it could be."""

    previous: LockInfo
    reason: str

    def describe(self) -> str:
        p = self.previous
        return (
            f"The state lock was held by {p.who} ({p.operation}, since "
            f"{format_time(p.created.replace(microsecond=0))}, lock ID {p.id}), and {self.reason}, "
            f"so vaultform took the lock over."
        )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid{os.getuid()}"


class Lock:
    """A held state lock; ``release`` is idempotent, and the lock is a context manager."""

    def __init__(self, state_path: str, info: LockInfo, fd: int, taken_over: Takeover | None = None):
        self.state_path = state_path
        self.lock_path = lock_path_for(state_path)
        self.info = info
        self.taken_over = taken_over  # the previous holder's lock, when it was taken over
        self._fd: int | None = fd

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if _same_file(fd, self.lock_path):
                os.unlink(self.lock_path)
        finally:
            os.close(fd)  # drops the OS lock

    def __enter__(self) -> Lock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"Lock({self.lock_path!r}, id={self.id!r}, held={self.held})"


def _same_file(fd: int, path: str) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (own.st_dev, own.st_ino) == (st.st_dev, st.st_ino)


def _read_all(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def read_lock_info(state_path: str | os.PathLike[str]) -> LockInfo | None:
    """The information of the lock on ``state_path``, or None when there is none (or unreadable)."""
    try:
        with open(lock_path_for(state_path), encoding="utf-8", errors="replace") as fh:
            return LockInfo.from_json(fh.read())
    except FileNotFoundError:
        return None


@dataclass(frozen=True, slots=True)
class _Held:
    holder: LockInfo | None
    os_locked: bool
    unreadable: bool = False
    fd: int | None = None  # the lock file, OS-locked by us, when no process holds it


def _open_lock_file(lock_path: str) -> int:
    try:
        return os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise LockError(
            f"Cannot create the state lock file {lock_path}",
            f"{exc.strerror}. Check that the directory exists and is writable.",
        ) from None


def _try_lock(lock_path: str) -> int | _Held:
    """One attempt: the fd of a held, empty lock file, or what holds it (with the fd, OS-locked
    by us, when what holds it is only the information a run left behind)."""
    while True:
        fd = _open_lock_file(lock_path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                os.close(fd)
                raise
            text = _read_all(fd)
            os.close(fd)
            return _Held(LockInfo.from_json(text), os_locked=True)
        if not _same_file(fd, lock_path):
            os.close(fd)  # the file we locked was removed by a releasing holder; start over
            continue
        text = _read_all(fd)
        if not text.strip():
            return fd
        info = LockInfo.from_json(text)
        return _Held(info, os_locked=False, unreadable=info is None, fd=fd)


def default_unlock_command(lock_id: str) -> str:
    return f"vaultform force-unlock {lock_id}"


def acquire(
    state_path: str | os.PathLike[str],
    operation: str,
    timeout: float = 0.0,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    poll_interval: float = 0.5,
    running: Callable[[int, str], bool] = same_process_running,
    unlock_command: Callable[[str], str] = default_unlock_command,
) -> Lock:
    """Lock ``state_path`` for ``operation``, waiting up to ``timeout`` seconds.

    A lock whose holder is provably gone (``why_gone``) is taken over at once
    (``Lock.taken_over`` says whose it was). Raises ``LockError`` naming the holder and
    the exact command to remove the lock (``unlock_command(lock_id)``) when it stays taken.
    """
    state_path = os.fspath(state_path)
    lock_path = lock_path_for(state_path)
    host = socket.gethostname()
    deadline = clock() + max(timeout, 0.0)
    while True:
        got = _try_lock(lock_path)
        taken_over = None
        if isinstance(got, _Held) and got.fd is not None and got.holder is not None:
            reason = why_gone(got.holder, host=host, now=now(), running=running)
            if reason is not None:
                taken_over = Takeover(got.holder, reason)
                got = got.fd
        if isinstance(got, int):
            return _take(got, state_path, operation, host, now(), taken_over)
        if got.fd is not None:
            os.close(got.fd)
        if got.unreadable:
            raise LockError(
                f"The state lock file {lock_path} is unreadable",
                "No running process holds it. Look at the file, then remove it to unlock the state.",
            )
        remaining = deadline - clock()
        if remaining <= 0:
            raise _held_error(
                state_path, got.holder, timeout, os_locked=got.os_locked, command=unlock_command
            )
        sleep(min(poll_interval, remaining))


def _take(
    fd: int, state_path: str, operation: str, host: str, now: datetime, taken_over: Takeover | None
) -> Lock:
    """Write our lock information into the lock file ``fd`` (OS-locked by us)."""
    info = LockInfo(
        id=str(uuid.uuid4()),
        who=f"{_user()}@{host}",
        operation=operation,
        created=now,
        pid=os.getpid(),
        host=host,
        version=VAULTFORM_VERSION,
        path=state_path,
        process_start=own_start(),
    )
    data = info.to_json().encode("utf-8")
    try:
        os.ftruncate(fd, 0)  # a kill between these leaves an empty file: a free lock, never garbage
        os.pwrite(fd, data, 0)
        os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        raise LockError(
            f"Cannot write the state lock file {lock_path_for(state_path)}", f"{exc.strerror}."
        ) from None
    return Lock(state_path, info, fd, taken_over)


def _held_error(
    state_path: str, holder: LockInfo | None, waited: float, *, os_locked: bool, command: Callable[[str], str]
) -> LockError:
    lines = []
    if holder is None:
        lines.append(f"{state_path} is locked by a run that has not yet written its lock information.")
    else:
        lines.append(f"{state_path} is locked by {holder.describe()}.")
        lines.append(f"Lock ID: {holder.id}")
    if waited > 0:
        lines.append(f"vaultform waited {_format_seconds(waited)} for it.")
    lines.append(
        "Wait for that run to finish and try again, or let vaultform wait for the lock "
        "with -lock-timeout=60s."
    )
    if holder is not None:
        if os_locked:
            why = (
                f"If that run hangs, stop it (process {holder.pid} on {holder.host}): the next run then "
                "takes its lock over by itself; or, once it has ended"
            )
        elif holder.host == socket.gethostname():
            why = f"Process {holder.pid} runs but does not hold the lock; if it is not that run"
        else:
            why = f"If that run has ended (it ran on {holder.host}, so vaultform cannot check)"
        lines.append(f"{why}, remove the lock with:\n  {command(holder.id)}")
    return LockError("The state is locked by another run", "\n".join(lines), holder=holder)


def force_unlock(
    state_path: str | os.PathLike[str],
    lock_id: str,
    *,
    unlock_command: Callable[[str], str] = default_unlock_command,
) -> LockInfo:
    """Remove the lock on ``state_path`` whose id is ``lock_id``; returns what it removed."""
    state_path = os.fspath(state_path)
    lock_path = lock_path_for(state_path)
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        raise LockError(f"{state_path} is not locked", "There is no lock to remove.") from None
    try:
        info = LockInfo.from_json(_read_all(fd))
        if info is None:
            raise LockError(
                f"The state lock file {lock_path} is unreadable",
                "Look at the file, then remove it yourself if no run is using the state.",
            )
        if info.id != lock_id:
            raise LockError(
                f"Lock ID {lock_id!r} does not match the lock on {state_path}",
                f"The lock's ID is {info.id}, held by {info.describe()}. Run "
                f"`{unlock_command(info.id)}` if you mean to remove that lock.",
                holder=info,
            )
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockError(
                f"The lock on {state_path} is held by a running process",
                f"{info.describe()} is still running; force-unlock removes only locks "
                f"whose run has ended. Wait for it, or stop process {info.pid} first.",
                holder=info,
            ) from None
        if _same_file(fd, lock_path):
            os.unlink(lock_path)
        return info
    finally:
        os.close(fd)


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``30s``, ``2m``, ``1h``, ``1m30s``, ``500ms`` or ``0``."""
    s = text.strip()
    if s == "0":
        return 0.0
    total, pos = 0.0, 0
    while pos < len(s):
        match = _DURATION_PART.match(s, pos)
        if not match:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if not s or pos < len(s):
        raise DurationError(
            f'invalid duration "{text}": write a number and a unit, like 30s, 2m, 1h or 1m30s'
        )
    return total


def _format_seconds(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"

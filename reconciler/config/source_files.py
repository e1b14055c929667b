"""Finding and reading configuration source files, refusing any that can't be read.

A configuration file that is skipped is a configuration that silently lost what the
file declared, and an apply would destroy it. So every name in a directory that looks
like a configuration file (``*.tf``, ``*.auto.tfvars``, ...) is listed, whatever it
is, and reading one that is not a readable regular file is an error naming the file
and why: a dangling symbolic link, a symbolic-link loop, a named pipe or device, a
directory, a file this user may not read, or bytes that are not UTF-8.

(Terraform skips directories, dangling links and link loops without a word and blocks
forever on a named pipe; vaultform refuses them all, because the cost of a silently
missing file is a destroyed estate.)

Reading never blocks: the file is checked with ``stat`` first and then opened with
``O_NONBLOCK``, and the opened descriptor is checked again, so a file swapped for a
pipe in between is refused too.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from reconciler.diagnostics import Diagnostic, SourceRange, error

READ_CODE = "config-read"
ENCODING_CODE = "encoding"

# What a non-regular file is, by the file-type bits of its mode.
_KINDS = (
    (stat.S_ISDIR, "is a directory, not a file"),
    (stat.S_ISFIFO, "is a named pipe (FIFO), not a file"),
    (stat.S_ISCHR, "is a character device, not a file"),
    (stat.S_ISBLK, "is a block device, not a file"),
    (stat.S_ISSOCK, "is a socket, not a file"),
)

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | os.O_CLOEXEC


@dataclass(frozen=True, slots=True)
class ReadProblem:
    """Why one source file can't be read; ``diagnostic`` phrases it for the user."""

    path: str
    reason: str

    def diagnostic(self, what: str = "configuration file") -> Diagnostic:
        return error(
            READ_CODE,
            f"Can't read {what} {self.path!r}",
            f"It {self.reason}. vaultform reads every file named like this; a file it skipped "
            "would silently drop what it declares. Fix or remove it.",
        )


def list_source_files(directory: str | os.PathLike, suffixes: tuple[str, ...]) -> list[Path]:
    """Every entry of ``directory`` named ``*<suffix>`` (hidden names aside), sorted by name,
    whatever kind of file it is: readers refuse the ones that aren't readable files."""
    root = Path(directory)
    with os.scandir(root) as entries:
        names = [e.name for e in entries if e.name.endswith(suffixes) and not e.name.startswith(".")]
    return [root / name for name in sorted(names)]


def _kind_problem(mode: int) -> str | None:
    for test, reason in _KINDS:
        if test(mode):
            return reason
    return None if stat.S_ISREG(mode) else "is not a regular file"


def _directory_problem(mode: int) -> str | None:
    return "is a directory, not a file" if stat.S_ISDIR(mode) else None


def _link_problem(path: str) -> str | None:
    """For a symbolic link that can't be followed: why."""
    try:
        if not stat.S_ISLNK(os.lstat(path).st_mode):
            return None
        target = os.readlink(path)
    except OSError:
        return None
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"is a symbolic link loop (it points to {target!r}, which leads back to itself)"
        if exc.errno == errno.ENOENT:
            return f"is a symbolic link to {target!r}, which does not exist (a dangling link)"
    return None


def _os_problem(path: str, exc: OSError) -> str:
    if exc.errno in (errno.ENOENT, errno.ELOOP):
        linked = _link_problem(path)
        if linked is not None:
            return linked
        if exc.errno == errno.ELOOP:
            return "is reached through a symbolic link loop"
        return "does not exist (it was removed while being read)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "may not be read by this user (permission denied); check its mode and owner"
    if exc.errno == errno.ENXIO:
        return "is a socket or device with nothing behind it, not a file"
    return f"could not be opened: {exc.strerror or exc}"


def read_source(path: str | os.PathLike, *, named_by_user: bool = False) -> bytes | ReadProblem:
    """The bytes of a regular file, or why it can't be read; never blocks on a pipe.

    ``named_by_user``: the user gave this path on the command line (``-var-file``), so a
    pipe or device is read as asked (``-var-file=<(...)``, ``/dev/stdin``); only files
    found by listing a directory must be regular."""
    name = os.fspath(path)
    check = _directory_problem if named_by_user else _kind_problem
    try:
        reason = check(os.stat(name).st_mode)
    except OSError as exc:
        return ReadProblem(name, _os_problem(name, exc))
    if reason is not None:
        return ReadProblem(name, reason)
    try:
        fd = os.open(name, _OPEN_FLAGS & ~getattr(os, "O_NONBLOCK", 0) if named_by_user else _OPEN_FLAGS)
    except OSError as exc:
        return ReadProblem(name, _os_problem(name, exc))
    try:
        reason = check(os.fstat(fd).st_mode)
        if reason is not None:
            return ReadProblem(name, reason)
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        return ReadProblem(name, f"could not be read: {exc.strerror or exc}")
    finally:
        os.close(fd)


def decode_source(data: bytes, filename: str, what: str = "configuration file") -> str | Diagnostic:
    """UTF-8 text, or a diagnostic naming the first byte that isn't (with its line and column)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return error(
            ENCODING_CODE,
            f"Invalid UTF-8 in {what}",
            f"Byte 0x{data[exc.start]:02x} at offset {exc.start} is not valid UTF-8; save the file as UTF-8.",
            range=SourceRange(filename, line, column),
        )

"""The local file backend: one JSON state file, written atomically.

A write goes to a temporary file in the same directory, is flushed and fsynced,
and then renamed over the state file (``os.replace``), after which the directory
is fsynced too; a crash or a full disk at any point leaves either the old file or
the new one, never a mix. A temporary file's name carries its writer's pid and
start (``.vaultform.tfstate.PID.START.XXXX.tmp``), so the run that next takes the
lock removes the ones whose writer was killed, and no more. The previous file is kept as ``<path>.backup`` (a hard
link, so no copy is made). Both files have mode 0600: state holds the values of
sensitive attributes.

The apply loop persists after every operation, so ``write`` must stay cheap as
state grows: it skips identical content (and then leaves ``serial`` alone), and
its ``StateEncoder`` re-encodes only the resources that changed since the last
write.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import os
import shutil
import stat
import tempfile
from typing import Any

from state.encryption.target import TargetEncryption
from state.errors import StateError
from state.format import StateEncoder
from state.liveness import remove_dead_writers_files, writer_tag
from state.lock import Lock, LockInfo, acquire, force_unlock, read_lock_info
from state.model import State

DEFAULT_STATE_FILE = "vaultform.tfstate"

_Stamp = tuple[int, int, int, int]
"""Identity of a state file: device, inode, size and modification time in nanoseconds."""


class BackupPolicy(enum.Enum):
    EVERY_WRITE = "every-write"
    """``.backup`` is the file as it was before the latest write."""
    FIRST_WRITE = "first-write"
    """``.backup`` is the file as it was before this backend object's first write
    (the state a run started from), however many writes the run makes."""


class LocalBackend:
    """State in a local file; ``read``/``write``/``lock`` as the backend interface asks."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        backup: BackupPolicy = BackupPolicy.EVERY_WRITE,
        directory: str | os.PathLike[str] | None = None,
        encryption: TargetEncryption | None = None,
    ):
        self.path = os.fspath(path)
        self.directory = os.fspath(directory) if directory is not None else None  # DIR, when no -state
        self.backup_path = self.path + ".backup"
        self.backup_policy = backup
        self._encoder = StateEncoder(encryption)
        self._persisted: State | None = None
        self._loaded = False
        self._stamp: _Stamp | None = None  # identity of the file as last read or written
        self._backed_up = False

    @classmethod
    def for_directory(
        cls,
        config_dir: str | os.PathLike[str],
        state_path: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> LocalBackend:
        """``vaultform.tfstate`` in the configuration directory, or ``state_path``
        (the ``-state`` flag) as given, relative to the working directory."""
        if state_path is not None:
            return cls(state_path, **options)
        directory = os.fspath(config_dir)
        return cls(os.path.join(directory, DEFAULT_STATE_FILE), directory=directory, **options)

    def describe(self) -> str:
        return self.path

    def identity(self) -> str:
        """Which state this is, the same however the path was spelled (lineage memory's key)."""
        return "local:" + os.path.realpath(self.path)

    def unlock_arguments(self) -> list[str]:
        """What ``vaultform force-unlock`` needs, before the lock id, to find this state from the
        working directory: the directory as given (none for ``.``), or ``-state=PATH``."""
        if self.directory is not None:
            return [] if os.path.normpath(self.directory) == "." else [self.directory]
        return [f"-state={self.path}"]

    def __repr__(self) -> str:
        return f"LocalBackend({self.path!r})"

    # ------------------------------------------------------------------ reading

    def read(self) -> State | None:
        """The stored state, or None when there is no state file yet."""
        try:
            # a named pipe or device in the state file's place would block or never end: refuse it
            kind = os.stat(self.path).st_mode
            if not stat.S_ISREG(kind):
                raise StateError(
                    self.path,
                    "is not a regular file (a named pipe, device or directory)",
                    hint="A state file is a plain file vaultform writes. Move this one away, and restore "
                    "the state from its .backup if there is one.",
                )
            with open(self.path, "rb") as fh:
                data = fh.read()
                stamp = _stamp(os.fstat(fh.fileno()))
        except FileNotFoundError:
            self._remember(None, None)
            return None
        except OSError as exc:
            raise StateError(self.path, f"cannot read the state file ({exc.strerror})") from None
        try:
            state = self._encoder.decode(data, source=self.path)
        except StateError as exc:
            hint = exc.hint
            if os.path.exists(self.backup_path):
                hint = (hint + "\n" if hint else "") + (
                    f"The previous version is kept in {self.backup_path}; look at both "
                    f"before replacing one with the other."
                )
            raise StateError(exc.source, exc.problem, where=exc.where, hint=hint) from None
        self._remember(state, stamp)
        return state

    def stored_lineage(self) -> str | None:
        """The lineage of the state stored now (None: none is); a file another run wrote since this
        backend read it is looked at without changing what this backend remembers having read."""
        if not self._loaded:
            self.read()
        elif self._on_disk() != self._stamp:
            try:
                with open(self.path, "rb") as fh:
                    return self._encoder.decode(fh.read(), source=self.path).lineage
            except FileNotFoundError:
                return None
            except OSError as exc:
                raise StateError(self.path, f"cannot read the state file ({exc.strerror})") from None
        return self._persisted.lineage if self._persisted is not None else None

    def _remember(self, state: State | None, stamp: _Stamp | None) -> None:
        self._persisted = state
        self._stamp = stamp
        self._loaded = True

    # ------------------------------------------------------------------ writing

    def write(self, state: State, *, force: bool = False) -> State:
        """Persist ``state`` and return it as stored (with its new serial).

        The serial is the stored one plus one, and only when the content
        differs; an identical state is not written at all. A state of another
        lineage is refused unless ``force`` (``state push -force``), which also
        keeps a higher serial given by the caller.
        """
        current = self._current(force)
        if current is not None:
            if state.lineage != current.lineage and not force:
                raise StateError(
                    self.path,
                    f"refusing to write a state of lineage {state.lineage} over the "
                    f"stored state of lineage {current.lineage}",
                    hint="The two states have different histories. Use `vaultform state push "
                    "-force` if you really mean to replace the stored state.",
                )
            if state.same_content(current) and not self._encoder.outdated:
                return current
            serial = current.serial + 1
            if force:
                serial = max(serial, state.serial)
        else:
            serial = state.serial + 1
        new = state.with_serial(serial)
        try:
            chunks = self._encoder.encode_chunks(new)
        except StateError as exc:
            raise StateError(
                self.path,
                exc.problem,
                where=exc.where,
                hint=(exc.hint + " " if exc.hint else "")
                + "Nothing was written; the stored state is unchanged.",
            ) from None
        self._remember(new, self._replace_file(chunks))
        return new

    def _current(self, force: bool) -> State | None:
        if self._loaded and not force and self._on_disk() != self._stamp:
            raise StateError(
                self.path,
                "the state file changed since this run read it",
                hint="Another run wrote it, probably without the state lock. Nothing "
                "was written; run again to start from the stored state.",
            )
        if not self._loaded or force:
            try:
                self.read()
            except StateError:
                if not force:
                    raise
                self._remember(None, self._on_disk())
        return self._persisted

    def _on_disk(self) -> _Stamp | None:
        try:
            return _stamp(os.stat(self.path))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(self.path, f"cannot read the state file ({exc.strerror})") from None

    def _replace_file(self, chunks: list[bytes]) -> _Stamp:
        """Write the file atomically; returns the new file's stamp."""
        directory = os.path.dirname(os.path.abspath(self.path))
        base = os.path.basename(self.path)
        try:
            os.makedirs(directory, exist_ok=True)  # a backend "local" path in a new directory, as Terraform's
            fd, tmp = tempfile.mkstemp(prefix=f".{base}.{writer_tag()}.", suffix=".tmp", dir=directory)
        except OSError as exc:
            raise self._write_failed(exc) from None
        try:
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), 0o600)
                for chunk in chunks:
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
                stamp = _stamp(os.fstat(fh.fileno()))
            if self._wants_backup():
                self._keep_backup()
            os.replace(tmp, self.path)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise self._write_failed(exc) from None
            raise
        self._backed_up = True
        _fsync_directory(directory)
        return stamp

    def _wants_backup(self) -> bool:
        if self.backup_policy is BackupPolicy.FIRST_WRITE and self._backed_up:
            return False
        return os.path.exists(self.path)

    def _keep_backup(self) -> None:
        """Make ``<path>.backup`` the current file, atomically and without copying."""
        tmp = os.path.join(
            os.path.dirname(self.backup_path), f".{os.path.basename(self.backup_path)}.{writer_tag()}.tmp"
        )
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        try:
            os.link(self.path, tmp)
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise
            shutil.copyfile(self.path, tmp)
        try:
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.backup_path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _write_failed(self, exc: OSError) -> StateError:
        return StateError(
            self.path,
            f"could not write the state ({exc.strerror or exc})",
            hint="The stored state is unchanged. Free space or fix permissions, then run again.",
        )

    # ------------------------------------------------------------------ locking

    def lock(self, operation: str, timeout: float = 0.0, **options: Any) -> Lock:
        """Lock this state for ``operation`` (see ``state.lock.acquire``: a lock whose holder is
        provably gone is taken over); then remove the temporary files of killed writers. The state's
        directory is created first, as Terraform's local backend creates it for a new ``path``."""
        try:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        except OSError as exc:
            raise self._write_failed(exc) from None
        lock = acquire(self.path, operation, timeout, **options)
        self.remove_stale_temporaries()
        return lock

    def force_unlock(self, lock_id: str, **options: Any) -> LockInfo:
        """Remove a lock left by a run that ended (``vaultform force-unlock ID``)."""
        return force_unlock(self.path, lock_id, **options)

    def remove_stale_temporaries(self) -> list[str]:
        """Remove the temporary files of state writes whose writer no longer runs; returns them."""
        directory = os.path.dirname(os.path.abspath(self.path))
        names = (os.path.basename(self.path), os.path.basename(self.backup_path))
        return remove_dead_writers_files(directory, [f".{n}." for n in names])

    def lock_lost(self) -> str | None:
        """None: a lock file this process holds open can't lapse while it runs."""
        return None

    def lock_info(self) -> LockInfo | None:
        """Who holds the lock, when someone does."""
        return read_lock_info(self.path)


def _stamp(st: os.stat_result) -> _Stamp:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on directories; the rename is still atomic
    finally:
        os.close(fd)

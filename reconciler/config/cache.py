"""The parse cache: file content -> pickled ``(ast.File | None, [Diagnostic])``.

Key: sha256 over the file's path, its bytes, python-hcl2's version and the
converter's version. (The path is part of the key because every ``Pos`` in the
tree names its file; the same bytes under another name must not come back with
the wrong file name in diagnostics.) Values are the converted vaultform nodes,
never python-hcl2 objects, pickled in a compact form: each node becomes a tuple
``(class number, its pos's four numbers, other field...)`` and any other ``Pos`` a
tuple of four numbers (its file is the ``File``'s path). Unpickling frozen slotted dataclasses directly costs
about 2.5 times as much as rebuilding them from that form, and a warm cache is
only worth having if it is much faster than parsing. The same form carries
trees back from the worker processes of a parallel load.

Directory: ``$VAULTFORM_CACHE_DIR`` or ``~/.cache/vaultform/parse``, created
with mode 0700. The entries are pickles, so a directory that another user owns
or that group/others may write is not used at all (loading just parses).
``VAULTFORM_NO_PARSE_CACHE=1`` turns the cache off.

Safe for concurrent processes: an entry is written to a temporary file in the
same directory and moved into place with ``os.replace`` (atomic), so a reader
sees a whole old entry, a whole new one, or none. A corrupt, truncated or
unpicklable entry counts as a miss and is rewritten; a cache that can't be
written (read-only disk, full disk) is silently skipped. The cache never makes
loading fail.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

from reconciler.config import ast
from reconciler.config.convert_version import CONVERTER_VERSION, HCL2_VERSION
from reconciler.diagnostics import Diagnostic

ENV_DIR = "VAULTFORM_CACHE_DIR"
ENV_OFF = "VAULTFORM_NO_PARSE_CACHE"
_FORMAT = b"vaultform-parse-cache-3\n"

Entry = tuple["ast.File | None", list[Diagnostic]]


def cache_disabled_by_env() -> bool:
    return os.environ.get(ENV_OFF, "").strip().lower() in ("1", "true", "yes", "on")


def default_directory() -> Path:
    configured = os.environ.get(ENV_DIR)
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "vaultform" / "parse"


def cache_key(path: str, content: bytes) -> str:
    h = hashlib.sha256()
    h.update(path.encode("utf-8", "surrogateescape"))
    h.update(b"\0")
    h.update(content)
    h.update(b"\0hcl2=" + HCL2_VERSION.encode() + b"\0converter=" + CONVERTER_VERSION.encode())
    return h.hexdigest()


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    writes: int = 0
    broken: int = 0


class ParseCache:
    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self.stats = CacheStats()
        self._trusted: bool | None = None

    def trusted(self) -> bool:
        """Entries are pickles: use a directory only if this user owns it and others can't write it."""
        if self._trusted is None:
            try:
                self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
                st = self.directory.stat()
                self._trusted = (
                    not hasattr(os, "getuid") or st.st_uid == os.getuid()
                ) and not st.st_mode & 0o022
            except OSError:
                self._trusted = False
        return self._trusted

    @classmethod
    def default(cls) -> ParseCache:
        return cls(default_directory())

    def _entry_path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.pickle"

    def get_bytes(self, key: str) -> bytes | None:
        """The stored bytes under ``key`` (None: none, or a directory that isn't safe to read)."""
        if not self.trusted():
            return None
        try:
            return self._entry_path(key).read_bytes()
        except OSError:
            return None

    def get(self, key: str) -> Entry | None:
        data = self.get_bytes(key)
        if data is None:
            self.stats.misses += 1
            return None
        entry = decode_entry(data)
        if entry is None:
            self.stats.broken += 1
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        return entry

    def put(self, key: str, entry: Entry) -> bool:
        payload = encode_entry(entry)
        return payload is not None and self.put_bytes(key, payload)

    def put_bytes(self, key: str, payload: bytes) -> bool:
        path = self._entry_path(key)
        if not self.trusted():
            return False
        tmp_name = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".pickle", dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            os.replace(tmp_name, path)
            tmp_name = None
            self.stats.writes += 1
            return True
        except OSError:
            return False
        finally:
            if tmp_name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)


# --------------------------------------------------------------------------- compact form

_CLASSES: tuple[type, ...] = tuple(
    c
    for c in vars(ast).values()
    if isinstance(c, type)
    and dataclasses.is_dataclass(c)
    and c.__module__ == ast.__name__
    and c is not ast.Pos
    and c is not ast.File
)
_TAG = {c: i for i, c in enumerate(_CLASSES)}
_FIELDS = {c: tuple(f.name for f in dataclasses.fields(c)) for c in _CLASSES}
# A node's own ``pos`` is written inline, its four numbers right after the class number:
# (class number, line, column, end line, end column, other field...). Nearly every node has
# one, and rebuilding it there costs no tuple in the entry and no call of the decoder. A node
# whose ``pos`` is not a ``Pos`` is written with every field, under its class number plus
# ``len(_CLASSES)``.
_OTHER_FIELDS = {
    c: tuple(name for name in names if name != "pos") for c, names in _FIELDS.items() if "pos" in names
}
_PLAIN = len(_CLASSES)
_POS = -1


def _enc(obj):
    t = type(obj)
    if t is ast.Pos:
        return (_POS, obj.line, obj.column, obj.end_line, obj.end_column)
    tag = _TAG.get(t)
    if tag is not None:
        others = _OTHER_FIELDS.get(t)
        pos = obj.pos if others is not None else None
        if type(pos) is ast.Pos:
            head = (tag, pos.line, pos.column, pos.end_line, pos.end_column)
            return head + tuple(_enc(getattr(obj, name)) for name in others)  # type: ignore[union-attr]
        return (tag + _PLAIN,) + tuple(_enc(getattr(obj, name)) for name in _FIELDS[t])
    if t is tuple:
        return [_enc(x) for x in obj]
    return obj


# Decoding builds nodes without calling their ``__init__``: a frozen dataclass's
# ``__init__`` sets each field through ``object.__setattr__`` in Python, while a slot's
# own setter is one C call; it made decoding a warm cache about 2.5 times faster. There
# is no ``__post_init__`` in ``ast`` to skip.
_new = object.__new__


def _setters(c: type, names: tuple[str, ...]) -> tuple:
    return tuple(getattr(c, name).__set__ for name in names)


# by class number: (class, the setter of its inline ``pos`` or None, the setters of the rest)
_MAKERS = tuple(
    (c, _setters(c, ("pos",))[0], _setters(c, _OTHER_FIELDS[c]))
    if c in _OTHER_FIELDS
    else (c, None, _setters(c, _FIELDS[c]))
    for c in _CLASSES
) + tuple((c, None, _setters(c, _FIELDS[c])) for c in _CLASSES)
_POS_SETTERS = tuple(
    getattr(ast.Pos, name).__set__ for name in ("file", "line", "column", "end_line", "end_column")
)


def _dec(obj, file: str):
    t = type(obj)
    if t is tuple:
        tag = obj[0]
        set_file, set_line, set_column, set_end_line, set_end_column = _POS_SETTERS
        if tag == _POS:
            pos = _new(ast.Pos)
            set_file(pos, file)
            set_line(pos, obj[1])
            set_column(pos, obj[2])
            set_end_line(pos, obj[3])
            set_end_column(pos, obj[4])
            return pos
        cls, set_pos, setters = _MAKERS[tag]
        node = _new(cls)
        if set_pos is not None:
            pos = _new(ast.Pos)
            set_file(pos, file)
            set_line(pos, obj[1])
            set_column(pos, obj[2])
            set_end_line(pos, obj[3])
            set_end_column(pos, obj[4])
            set_pos(node, pos)
            values = obj[5:]
        else:
            values = obj[1:]
        for set_field, value in zip(setters, values):
            kind = type(value)
            set_field(node, _dec(value, file) if kind is tuple or kind is list else value)
        return node
    if t is list:
        return tuple([_dec(x, file) for x in obj])
    return obj


def encode_entry(entry: Entry) -> bytes | None:
    """The cache/transfer bytes for ``(File | None, diagnostics)``; None if it can't be encoded."""
    node, diags = entry
    try:
        form = None if node is None else (node.path, _enc(node.body))
        return _FORMAT + pickle.dumps((form, diags, _class_signature()), protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError, ValueError):
        return None


def decode_entry(data: bytes) -> Entry | None:
    """Inverse of ``encode_entry``; None for anything unreadable (a cache miss)."""
    if not data.startswith(_FORMAT):
        return None
    try:
        form, diags, signature = pickle.loads(data[len(_FORMAT) :])
        if signature != _class_signature():
            return None
        node = None if form is None else ast.File(form[0], _dec(form[1], form[0]))
    except Exception:
        return None
    if (
        not (node is None or isinstance(node.body, ast.Body))
        or not isinstance(diags, list)
        or not all(isinstance(d, Diagnostic) for d in diags)
    ):
        return None
    return node, diags


_SIGNATURE: list[str] = []


def _class_signature() -> str:
    """Names and fields of the node classes: an entry written for other classes is a miss."""
    if not _SIGNATURE:
        h = hashlib.sha256(repr([(c.__name__, _FIELDS[c]) for c in _CLASSES]).encode())
        _SIGNATURE.append(h.hexdigest()[:16])
    return _SIGNATURE[0]

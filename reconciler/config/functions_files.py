"""Filesystem and path functions: file, fileexists, fileset, filebase64, filesha1, filesha256,
filesha512, filebase64sha256, filebase64sha512, filemd5, templatefile, basename, dirname,
abspath, pathexpand.

``templatefile(path, vars)`` renders the file as a template (``${...}`` and
``%{...}`` as in a heredoc) in which only the keys of ``vars`` and the built-in
functions are defined; it can't call templatefile again.

As in Terraform, relative paths are taken from the current working directory, so
configurations write ``file("${path.module}/policy.json")``. Files are read when the
expression is evaluated (they are part of the configuration, not of the cloud), must
be UTF-8 for ``file`` and are limited to 16 MiB.
"""

from __future__ import annotations

import base64
import hashlib
import os
import posixpath
import re
import stat
from collections.abc import Callable
from typing import Any

from reconciler.config.functions_spec import FunctionError, Known, Param, ParamType, spec, table

MAX_FILE_BYTES = 16 * 1024 * 1024
_PATH = Param("path", ParamType.STRING)


def _read(path: str) -> bytes:
    full = os.path.expanduser(path)
    try:
        st = os.stat(full)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(full)
        if not stat.S_ISREG(st.st_mode):
            # a named pipe or device would block or never end
            raise FunctionError(f'"{path}" is not a regular file (a named pipe or device?)', 0)
        size = st.st_size
        if size > MAX_FILE_BYTES:
            raise FunctionError(f'"{path}" is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB', 0)
        with open(full, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise FunctionError(
            f'no file exists at "{path}"; relative paths start at the working '
            'directory, so write "${path.module}/..." for files beside the configuration',
            0,
        ) from None
    except IsADirectoryError:
        raise FunctionError(f'"{path}" is a directory, not a file', 0) from None
    except OSError as exc:
        raise FunctionError(f'cannot read "{path}": {exc.strerror}', 0) from None


@spec("file", _PATH, reads_outside=True)
def _file(path):
    try:
        return _read(path).decode("utf-8")
    except UnicodeDecodeError:
        raise FunctionError(f'"{path}" is not UTF-8 text; use filebase64 for binary files', 0) from None


# Rendering a template is evaluating an expression, which is the evaluator's job; the
# evaluator imports the function table (and so this module), so it hands its renderer
# down here when it is imported instead of this module importing it.
TemplateRenderer = Callable[[str, str, dict], Any]
_renderer: list[TemplateRenderer] = []


def use_template_renderer(render: TemplateRenderer) -> None:
    """Set how templatefile renders ``(text, path, vars)``; the evaluator calls this."""
    _renderer[:] = [render]


@spec("templatefile", _PATH, Param("vars", ParamType.MAP, Known.TOP), reads_outside=True)
def _templatefile(path, variables):
    try:
        text = _read(path).decode("utf-8")
    except UnicodeDecodeError:
        raise FunctionError(f'"{path}" is not UTF-8 text', 0) from None
    if not _renderer:
        raise FunctionError("templates can only be rendered by the evaluator", 0)
    return _renderer[0](text, path, dict(variables))


@spec("fileexists", _PATH, reads_outside=True)
def _fileexists(path):
    full = os.path.expanduser(path)
    if os.path.isdir(full):
        raise FunctionError(f'"{path}" is a directory, not a file', 0)
    return os.path.isfile(full)


@spec("filebase64", _PATH, reads_outside=True)
def _filebase64(path):
    return base64.b64encode(_read(path)).decode()


@spec("filesha256", _PATH, reads_outside=True)
def _filesha256(path):
    return hashlib.sha256(_read(path)).hexdigest()


@spec("filemd5", _PATH, reads_outside=True)
def _filemd5(path):
    return hashlib.md5(_read(path)).hexdigest()


@spec("filesha1", _PATH, reads_outside=True)
def _filesha1(path):
    return hashlib.sha1(_read(path)).hexdigest()


@spec("filesha512", _PATH, reads_outside=True)
def _filesha512(path):
    return hashlib.sha512(_read(path)).hexdigest()


@spec("filebase64sha256", _PATH, reads_outside=True)
def _filebase64sha256(path):
    return base64.b64encode(hashlib.sha256(_read(path)).digest()).decode()


@spec("filebase64sha512", _PATH, reads_outside=True)
def _filebase64sha512(path):
    return base64.b64encode(hashlib.sha512(_read(path)).digest()).decode()


# --------------------------------------------------------------------------- fileset
#
# terraform's fileset (funcs/filesystem.go) joins path and pattern, cleans the result and globs it
# with github.com/bmatcuk/doublestar (v1): "*" is any run of characters but "/" (dot files
# included), "**" as a whole path element is any number of elements (none included), "?" one
# character but "/", "[...]" a class ("[^...]" negated, ranges with "-"; "!" is an ordinary
# character there), "{a,b}" alternatives, a backslash escapes the next character. Only regular
# files are kept, relative to path, sorted as a set.


def _glob_regex(pattern: str, path: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    depth = 0
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "*":
            if pattern.startswith("**", i) and (i == 0 or pattern[i - 1] == "/"):
                end = i + 2
                if end == n:
                    out.append(".*")
                    i = end
                    continue
                if pattern[end] == "/":
                    out.append("(?:.*/)?")
                    i = end + 1
                    continue
            out.append("[^/]*")
            i += 1
            while i < n and pattern[i] == "*":
                i += 1
            continue
        if ch == "?":
            out.append("[^/]")
        elif ch == "[":
            close = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] == "^" else i + 1)
            if close < 0:
                raise FunctionError(f"failed to glob pattern {path}: syntax error in pattern", 1)
            body = pattern[i + 1 : close]
            negate = body[:1] == "^"
            if negate:
                body = body[1:]
            escaped = body.replace("\\", "\\\\").replace("]", "\\]").replace("[", "\\[")
            out.append(f"[{'^/' if negate else ''}{escaped}]")
            i = close + 1
            continue
        elif ch == "{":
            depth += 1
            out.append("(?:")
        elif ch == "}" and depth:
            depth -= 1
            out.append(")")
        elif ch == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(ch))
        i += 1
    if depth:
        raise FunctionError(f"failed to glob pattern {path}: syntax error in pattern", 1)
    return "".join(out)


def _literal_prefix(pattern: str) -> str:
    """The leading path elements of ``pattern`` with no glob characters."""
    parts = pattern.split("/")
    kept: list[str] = []
    for part in parts[:-1]:
        if any(c in part for c in "*?[{\\"):
            break
        kept.append(part)
    return "/".join(kept)


@spec("fileset", _PATH, Param("pattern", ParamType.STRING), reads_outside=True)
def _fileset(path, pattern):
    full = posixpath.normpath(posixpath.join(path, pattern))
    try:
        matcher = re.compile(_glob_regex(full, full) + r"\Z", re.DOTALL)
    except re.error:
        raise FunctionError(f"failed to glob pattern {full}: syntax error in pattern", 1) from None
    top = _literal_prefix(full) or ("/" if full.startswith("/") else ".")
    found: list[str] = []
    if os.path.isdir(top):
        for here, dirs, files in os.walk(top):
            dirs.sort()
            for name in files:
                candidate = os.path.join(here, name)
                shown = posixpath.normpath(candidate) if top != "." else posixpath.relpath(candidate)
                if not matcher.match(shown):
                    continue
                if not stat.S_ISREG(os.stat(candidate).st_mode):
                    continue
                found.append(posixpath.relpath(shown, path))
    return sorted(set(found))


@spec("basename", _PATH)
def _basename(path):
    stripped = path.rstrip("/")
    if not stripped:
        return "/" if path else "."
    return posixpath.basename(stripped)


@spec("dirname", _PATH)
def _dirname(path):
    head = path[: path.rfind("/") + 1]  # all but the last element, as Go's filepath.Dir
    return posixpath.normpath(head) if head else "."


@spec("abspath", _PATH, reads_outside=True)
def _abspath(path):
    return os.path.abspath(path).replace(os.sep, "/")


@spec("pathexpand", _PATH, reads_outside=True)
def _pathexpand(path):
    return os.path.expanduser(path)


FUNCTIONS = table(
    _file,
    _templatefile,
    _fileexists,
    _filebase64,
    _filesha256,
    _filemd5,
    _filesha1,
    _filesha512,
    _filebase64sha256,
    _filebase64sha512,
    _fileset,
    _basename,
    _dirname,
    _abspath,
    _pathexpand,
)

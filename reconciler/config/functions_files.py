"""Filesystem and path functions: file, fileexists, filebase64, filesha256, filemd5,
templatefile, basename, dirname, abspath, pathexpand.

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

from reconciler.config import ast
from reconciler.config.functions_spec import FunctionError, Known, Param, ParamType, spec, table

MAX_FILE_BYTES = 16 * 1024 * 1024
_PATH = Param("path", ParamType.STRING)


def _read(path: str) -> bytes:
    full = os.path.expanduser(path)
    try:
        size = os.path.getsize(full)
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


@spec("file", _PATH)
def _file(path):
    try:
        return _read(path).decode("utf-8")
    except UnicodeDecodeError:
        raise FunctionError(f'"{path}" is not UTF-8 text; use filebase64 for binary files', 0) from None


_MARK = "VAULTFORM_TEMPLATE_END"


@spec("templatefile", _PATH, Param("vars", ParamType.MAP, Known.TOP))
def _templatefile(path, variables):
    from reconciler.config.evaluator import EvalError, MapScope, evaluate
    from reconciler.config.loader import parse_text
    from reconciler.config.references import walk_expressions

    try:
        text = _read(path).decode("utf-8")
    except UnicodeDecodeError:
        raise FunctionError(f'"{path}" is not UTF-8 text', 0) from None
    mark = _MARK
    while mark in text:
        mark += "_"
    # the body is read as a heredoc; the opening line shifts positions by one
    source = f"t = <<{mark}\n{text}{'' if text.endswith(chr(10)) or not text else chr(10)}{mark}\n"
    file, diags = parse_text(source, path)
    if file is None:
        raise FunctionError(f"the template is not valid: {_first(diags)}", 0)
    expr = file.body.attributes[0].expr
    if any(isinstance(n, ast.Call) and n.name == "templatefile" for n in walk_expressions(expr)):
        raise FunctionError("a template can't call templatefile", 0)
    bad = [k for k in variables if not k.isidentifier()]
    if bad:
        raise FunctionError(f'template variable names must be identifiers, not "{bad[0]}"', 1)
    try:
        value = evaluate(expr, MapScope(dict(variables)))
    except EvalError as exc:
        d = exc.diagnostic
        line = d.range.line - 1 if d.range else 0
        raise FunctionError(f"{path}:{line}: {d.summary}: {d.detail}", 0) from None
    if isinstance(value, str) and not text.endswith("\n") and value.endswith("\n"):
        value = value[:-1]
    return value


def _first(diags) -> str:
    if not diags:
        return "it could not be read"
    d = diags[0]
    line = d.range.line - 1 if d.range else 0
    return f"line {line}: {d.summary}"


@spec("fileexists", _PATH)
def _fileexists(path):
    full = os.path.expanduser(path)
    if os.path.isdir(full):
        raise FunctionError(f'"{path}" is a directory, not a file', 0)
    return os.path.isfile(full)


@spec("filebase64", _PATH)
def _filebase64(path):
    return base64.b64encode(_read(path)).decode()


@spec("filesha256", _PATH)
def _filesha256(path):
    return hashlib.sha256(_read(path)).hexdigest()


@spec("filemd5", _PATH)
def _filemd5(path):
    return hashlib.md5(_read(path)).hexdigest()


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


@spec("abspath", _PATH)
def _abspath(path):
    return os.path.abspath(path).replace(os.sep, "/")


@spec("pathexpand", _PATH)
def _pathexpand(path):
    return os.path.expanduser(path)


FUNCTIONS = table(
    _file,
    _templatefile,
    _fileexists,
    _filebase64,
    _filesha256,
    _filemd5,
    _basename,
    _dirname,
    _abspath,
    _pathexpand,
)

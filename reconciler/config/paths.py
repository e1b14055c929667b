"""The ``path`` object of expressions: ``path.module``, ``path.root`` and ``path.cwd``.

As terraform 1.11 gives them: ``path.root`` is the root module's directory as the command was
given it ("." when run in it), ``path.module`` a module's directory relative to the working
directory in the same way ("modules/m"; ``ModuleTree.source_dir``), and ``path.cwd`` the absolute
working directory the command was started in - before a global ``-chdir``, which terraform
documents as the one case where path.cwd and the configuration's directory differ.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

_started_in: list[str] = []


@contextlib.contextmanager
def started_in(directory: str) -> Iterator[None]:
    """Run the body with ``directory`` as the working directory the command started in
    (the CLI's -chdir changes the process's working directory inside it)."""
    _started_in.append(os.path.abspath(directory))
    try:
        yield
    finally:
        _started_in.pop()


def cwd() -> str:
    """``path.cwd``: the directory the command started in, else the process's own."""
    return _started_in[-1] if _started_in else os.getcwd()


def path_object(module: str | os.PathLike[str], root: str | os.PathLike[str]) -> dict[str, str]:
    """The value of ``path`` in a module whose ``path.module`` is ``module``."""
    return {"module": os.fspath(module), "root": os.fspath(root), "cwd": cwd()}

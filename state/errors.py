"""Errors of the state package.

The state package must not depend on the engine, so these are plain exceptions
carrying the pieces a ``Diagnostic`` needs (a one-line summary and a detail that
says how to fix it). The CLI turns them into diagnostics; nothing here is ever
shown as a traceback.
"""

from __future__ import annotations


class StateError(Exception):
    """A state file is unreadable, malformed, or cannot be written.

    ``source`` is the file (or other origin) as shown to the user, ``where`` the
    place inside the document (``resources[2].instances[0]``), ``problem`` what is
    wrong there and ``hint`` how to fix it (may be empty).
    """

    def __init__(self, source: str, problem: str, *, where: str = "", hint: str = ""):
        self.source = source
        self.where = where
        self.problem = problem
        self.hint = hint
        super().__init__(self.summary + (f"\n{hint}" if hint else ""))

    @property
    def summary(self) -> str:
        parts = [p for p in (self.source, self.where) if p]
        return ": ".join(parts + [self.problem])

    @property
    def detail(self) -> str:
        return self.hint


class AddressError(ValueError):
    """A resource address that does not parse."""

    def __init__(self, text: str, problem: str, position: int | None = None):
        self.text = text
        self.problem = problem
        self.position = position
        at = f" at character {position + 1}" if position is not None else ""
        super().__init__(f"invalid resource address {text!r}{at}: {problem}")

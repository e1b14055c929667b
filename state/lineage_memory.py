"""Which lineage a configuration last used, so that a state that isn't its own is refused.

A state's lineage is fixed when the state is created and kept by every write; two states
of different lineages have different histories. A state file copied in from another
directory keeps its lineage - and a plan against it deletes everything that other team
manages and creates this configuration's objects anew. So each configuration directory
remembers, per state it uses (``Backend.identity()``: the local file, or later a backend
and workspace), the lineage it last used, in ``.vaultform/lineage.json`` inside the
directory - where Terraform keeps ``.terraform/``, git-ignored, never committed:

    {"version": 1,
     "states": {"local:/abs/cfg/vaultform.tfstate":
                {"lineage": "…", "remembered": "2026-12-04T16:40:00Z"}}}

``check`` is the one rule, run when a command has locked the state and before it plans or
writes anything:

* no state stored yet: nothing to protect; the lineage the run will create is remembered;
* nothing remembered (a directory from before this, or a fresh clone): trusted on first
  use and remembered;
* the remembered lineage: fine;
* another lineage: refused (``LineageChange``) - unless the user says so with
  ``-allow-lineage-change`` (or pushes the state with ``vaultform state push -force``),
  and then the new lineage is remembered from then on.

Terraform compares lineages only when a state is pushed over another ("Differing lineage ...
Terraform will not allow you to push the state", lifted by ``-force``:
https://developer.hashicorp.com/terraform/cli/commands/state/push); a state file copied over
the local one is used as it is. Remembering the lineage per directory is vaultform's own
(invented) guard, with the same way out.

The memory is a convenience of one checkout: when it cannot be read (damaged) it is
started afresh, and when it cannot be written the run goes on unprotected rather than
failing.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from state.format import format_time
from state.liveness import remove_dead_writers_files, writer_tag

MEMORY_DIR = ".vaultform"
MEMORY_FILE = "lineage.json"
ALLOW_FLAG = "-allow-lineage-change"

__all__ = [
    "ALLOW_FLAG",
    "DirectoryMemory",
    "LineageChange",
    "LineageMemory",
    "Remembered",
    "Verdict",
    "check",
]


@dataclass(frozen=True, slots=True)
class Remembered:
    lineage: str
    since: str  # when it was remembered, as written in the memory


class LineageMemory(Protocol):
    """Where a configuration keeps the lineage of each state it uses."""

    def recall(self, identity: str) -> Remembered | None: ...

    def remember(self, identity: str, lineage: str) -> None: ...

    def describe(self) -> str: ...


class DirectoryMemory:
    """``DIR/.vaultform/lineage.json`` of one configuration directory."""

    def __init__(self, config_dir: str | os.PathLike[str]):
        self.directory = os.path.join(os.fspath(config_dir), MEMORY_DIR)
        self.path = os.path.join(self.directory, MEMORY_FILE)

    def describe(self) -> str:
        return self.path

    def _states(self) -> dict[str, Any]:
        try:
            with open(self.path, encoding="utf-8") as fh:
                doc = json.load(fh)
        except (OSError, ValueError):
            return {}
        states = doc.get("states") if isinstance(doc, dict) else None
        return states if isinstance(states, dict) else {}

    def recall(self, identity: str) -> Remembered | None:
        entry = self._states().get(identity)
        if not isinstance(entry, dict) or not isinstance(entry.get("lineage"), str) or not entry["lineage"]:
            return None
        return Remembered(entry["lineage"], str(entry.get("remembered") or "an earlier run"))

    def remember(self, identity: str, lineage: str) -> None:
        states = self._states()
        if states.get(identity, {}).get("lineage") == lineage:
            return
        states[identity] = {
            "lineage": lineage,
            "remembered": format_time(datetime.now(UTC).replace(microsecond=0)),
        }
        text = json.dumps({"version": 1, "states": states}, indent=2, sort_keys=True) + "\n"
        with contextlib.suppress(OSError):  # unprotected, not failing: see the module's doc
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            remove_dead_writers_files(self.directory, [f".{MEMORY_FILE}."])
            fd, tmp = tempfile.mkstemp(
                prefix=f".{MEMORY_FILE}.{writer_tag()}.", suffix=".tmp", dir=self.directory
            )
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise


class Verdict(enum.Enum):
    NEW_STATE = "new-state"  # nothing stored yet
    FIRST_USE = "first-use"  # nothing remembered: trusted and remembered
    SAME = "same"
    ACCEPTED = "accepted"  # another lineage, and the user said so


class LineageChange(Exception):
    """The stored state has another lineage than the configuration last used: refused."""

    def __init__(self, where: str, found: str, remembered: Remembered, memory: str):
        self.where = where  # the state, as the backend describes it
        self.found = found
        self.remembered = remembered
        self.memory = memory  # the memory file, for the message
        super().__init__(self.summary)

    @property
    def summary(self) -> str:
        return "The state is not the one this configuration last used"

    @property
    def detail(self) -> str:
        return (
            f"{self.where} holds a state of lineage {self.found}, but this configuration last used lineage "
            f"{self.remembered.lineage} there (remembered in {self.memory} since {self.remembered.since}). "
            "A state of another lineage has another history - copied from another directory or "
            "environment, it would make this run delete everything that state manages and create this "
            "configuration's objects anew. Nothing was planned or changed.\n"
            "If the file was copied in by mistake, put this configuration's own state back where it was "
            "(the .backup beside a local state holds the version before its last write).\n"
            f"If this configuration really moves to that state, say so: run again with {ALLOW_FLAG}, or "
            "make it the stored state with `vaultform state push -force FILE`. Either way the new lineage "
            "is remembered from then on."
        )


def check(
    memory: LineageMemory,
    identity: str,
    where: str,
    stored_lineage: str | None,
    new_lineage: str,
    *,
    allow_change: bool = False,
) -> Verdict:
    """Apply the rule (see the module's doc) to a state at ``identity`` (described as ``where``)
    whose stored lineage is ``stored_lineage`` (None: no state yet, and the run would create one
    of ``new_lineage``). Raises ``LineageChange`` when refused; remembers what it accepts."""
    if stored_lineage is None:
        memory.remember(identity, new_lineage)
        return Verdict.NEW_STATE
    remembered = memory.recall(identity)
    if remembered is None:
        memory.remember(identity, stored_lineage)
        return Verdict.FIRST_USE
    if remembered.lineage == stored_lineage:
        return Verdict.SAME
    if not allow_change:
        raise LineageChange(where, stored_lineage, remembered, memory.describe())
    memory.remember(identity, stored_lineage)
    return Verdict.ACCEPTED

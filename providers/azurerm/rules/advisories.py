"""Advisories A1-A3: how each encrypted vault follows its key, and what CMK costs.

They speak only when this plan (re)assigns a key, so a plan without encryption
changes stays quiet. A versioned key id pins the key (A1, warning: nothing rotates
until key_id changes); a versionless id rotates (A2, info). When the id is not
known yet, the reference decides: ``….versionless_id`` rotates, ``….id`` pins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from reconciler.diagnostics import Diagnostic

from .context import RuleContext
from .estate import VaultCase, key_ref_of
from .refs import known_str
from .table import MARS_NOTE, diagnose

_VERSIONED = re.compile(r"(?i)^https://[^/]+/keys/[^/]+/[0-9a-f]{32}/?$")
_VERSIONLESS = re.compile(r"(?i)^https://[^/]+/keys/[^/]+/?$")


def key_mode(case: VaultCase) -> tuple[bool | None, str]:
    """(pinned?, how the key is named): True pinned, False rotating, None undecidable."""
    key_id = known_str(case.after.key_id) if case.after else None
    if key_id:
        if _VERSIONED.match(key_id):
            return True, key_id
        if _VERSIONLESS.match(key_id):
            return False, key_id
        return None, key_id
    ref = key_ref_of(case.vault)
    if ref is None:
        return None, ""
    text = f"{ref.instance}.{ref.last}"
    if ref.last == "versionless_id":
        return False, text
    if ref.last == "id":
        return True, text
    return None, text


def a1_a2_rotation(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        if case.after is None or not case.vault.action.exists_after or not case.encryption_touched:
            continue
        pinned, key = key_mode(case)
        if pinned is None:
            continue
        mars = MARS_NOTE if case.newly_encrypted else ""
        yield diagnose(
            "A1" if pinned else "A2",
            address=case.address,
            location=case.vault.location,
            vault=case.address,
            key=key,
            mars=mars,
        )


def a3_cost(ctx: RuleContext) -> Iterable[Diagnostic]:
    if any(c.after is not None and c.vault.action.exists_after and c.encryption_touched for c in ctx.cases):
        yield diagnose("A3", address=None)


ADVISORY_CHECKS = (a1_a2_rotation, a3_cost)

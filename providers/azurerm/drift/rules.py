"""The azurerm provider's drift rules for one estate, and its unmanaged objects.

``drift_rules`` ties the tables (``tables``), the consequence classes (``classify``), the
out-of-band remedies (``remedy``) and the key versions the vaults use (``health``) to the
facts of one estate. ``unmanaged`` lists what lives in the estate's resource groups and key
vaults that no state entry tracks (``providers.azurerm.audit.list_unmanaged``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from providers.azurerm.drift import classify as consequences
from providers.azurerm.drift.estate import facts_of, known_objects, own, scope
from providers.azurerm.drift.health import access_findings, key_findings
from providers.azurerm.drift.remedy import remedy_for
from providers.azurerm.drift.tables import IGNORED, IMPLIED, KEYED_LISTS
from providers.azurerm.drift.types import RSV
from providers.base import ProviderError, RetryableError
from providers.drift_protocol import (
    DriftEstate,
    DriftRules,
    Findings,
    Problem,
    Severity,
    Subject,
    UnmanagedListing,
    UnmanagedObject,
)


def drift_rules(estate: DriftEstate, *, local: bool, audit: Callable[[], list[dict[str, Any]]]) -> DriftRules:
    """``local``: remedies name `vaultform cloud` commands instead of `az`; ``audit``: the CMK
    audit of the subscription, read only when the estate has a Recovery Services vault."""
    facts = facts_of(estate)

    def classify(s: Subject) -> tuple[Severity, str]:
        return consequences.classify(s, facts)

    def remedy(s: Subject) -> str | None:
        return remedy_for(s.type, s.path, s.kind, s.obj_actual or s.obj_recorded or {}, local=local)

    def findings(reported: Mapping[str, Severity]) -> Findings:
        if not any(o.type == RSV for o in estate.objects):
            return Findings()
        try:
            audits = audit()
            found = key_findings(audits, estate, reported, local=local)
            return Findings(tuple(found + access_findings(audits, estate, reported)))
        except RetryableError:
            raise  # refused for now (throttled): the engine waits and asks again
        except ProviderError as exc:
            return Findings(
                problems=(Problem("(key versions in use)", exc.code or "audit_failed", exc.message),)
            )

    return DriftRules(
        keyed_lists=KEYED_LISTS,
        ignored=IGNORED,
        implied=IMPLIED,
        own=own(estate),
        classify=classify,
        remedy=remedy,
        findings=findings,
    )


def unmanaged(estate: DriftEstate, list_unmanaged: Callable[..., list[dict[str, Any]]]) -> UnmanagedListing:
    """``list_unmanaged(resource_groups, key_vault_ids, known)``: the listing of ``providers.azurerm.audit``."""
    groups, key_vaults = scope(estate)
    if not groups and not key_vaults:
        return UnmanagedListing()
    objects: list[UnmanagedObject] = []
    problems: list[Problem] = []
    try:
        items = list_unmanaged(groups, key_vaults, known_objects(estate))
    except RetryableError:
        raise  # refused for now (throttled): the engine waits and lists again
    except ProviderError as exc:
        return UnmanagedListing(
            problems=(Problem("(objects in scope)", exc.code or "list_failed", exc.message),)
        )
    for item in items:
        if "problem" in item:
            problems.append(
                Problem(f"(objects in {item.get('scope', 'scope')})", "list_failed", item["problem"])
            )
            continue
        objects.append(
            UnmanagedObject(
                item["type"], item["id"], item.get("name", ""), item.get("scope", ""), item.get("detail", "")
            )
        )
    return UnmanagedListing(tuple(objects), tuple(problems))

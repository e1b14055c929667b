"""Key versions a managed vault uses but no managed key object shows.

A refresh reads the newest version of each key, so a vault pinned to an older version
(after a rotation) can lose it - disabled, expired, deleted - without any attribute of
the key object moving. The provider's CMK audit (``providers.azurerm.audit``) reads the very
version each vault names; ``key_findings`` turns its key findings about managed vaults
into drift records, unless a record on the key object already says the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.azurerm.drift.classify import Facts, classify
from providers.azurerm.drift.remedy import remedy_for
from providers.azurerm.drift.types import KEY, RSV
from providers.drift_protocol import Baseline, ChangeKind, DriftEstate, Finding, Severity, Subject

PATH = "encryption[0].key_id"

# audit finding code -> (how the key version moved, what the cloud holds now, the key attribute whose
# out-of-band remedy applies)
KEY_FINDINGS: dict[str, tuple[ChangeKind, str, str]] = {
    "KEY_DISABLED": (ChangeKind.DISABLED, "disabled", "enabled"),
    "KEY_EXPIRED": (ChangeKind.DISABLED, "expired", "expiration_date"),
    "KEY_NOT_YET_VALID": (ChangeKind.DISABLED, "not valid yet", "not_before_date"),
    "KEY_NOT_FOUND": (ChangeKind.REMOVED, "deleted", ""),
}


def _ids(attrs: dict | None) -> set[str]:
    attrs = attrs or {}
    return {str(attrs.get(k) or "").lower() for k in ("id", "versionless_id")} - {""}


def key_findings(
    audits: list[dict[str, Any]],
    estate: DriftEstate,
    reported: Mapping[str, Severity],
    *,
    local: bool,
) -> list[Finding]:
    """``reported``: the worst severity drift already gave each address."""
    vaults = {str(o.current.get("id") or "").lower(): o for o in estate.objects if o.type == RSV}
    keys = [o for o in estate.objects if o.type == KEY]
    out: list[Finding] = []
    for audit in audits:
        vault = vaults.get(str(audit.get("id") or "").lower())
        key_id = str(audit.get("key_id") or "")
        if vault is None or not key_id:
            continue
        used = [k for k in keys if key_id.lower() in _ids(k.refreshed) | _ids(k.recorded)]
        if any(reported.get(k.address) is Severity.CRITICAL for k in used):
            continue
        for finding in audit.get("findings") or []:
            known = KEY_FINDINGS.get(finding.get("code"))
            if known is None:
                continue
            kind, actual, key_attr = known
            subject = Subject(
                RSV,
                "encryption.key_id",
                kind,
                "usable",
                actual,
                vault.recorded,
                vault.refreshed,
                Baseline.DESIRED,
            )
            severity, why = classify(subject, Facts())
            out.append(
                Finding(
                    vault.address,
                    RSV,
                    PATH,
                    kind,
                    "usable",
                    f"{actual}: {key_id}",
                    "usable",
                    severity,
                    why,
                    remedy_for(KEY, key_attr, kind, {"id": key_id}, local=local) or "",
                    Baseline.DESIRED,
                )
            )
    return out

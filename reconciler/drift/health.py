"""Key versions a managed vault uses but no managed key object shows.

A refresh reads the newest version of each key, so a vault pinned to an older version
(after a rotation) can lose it - disabled, expired, deleted - without any attribute of
the key object moving. The provider's CMK audit (``provider.audit()``) reads the very
version each vault names; ``health_records`` turns its key findings about managed vaults
into drift records, unless a record on the key object already says the same.
"""

from __future__ import annotations

from typing import Any

from reconciler.drift.classify import Facts, Subject, classify
from reconciler.drift.detect import Tracked
from reconciler.drift.model import Baseline, ChangeKind, DriftRecord, Severity
from reconciler.drift.remedy import fix_for

VAULT_TYPE = "azurerm_recovery_services_vault"
KEY_TYPE = "azurerm_key_vault_key"
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


def health_records(
    audits: list[dict[str, Any]],
    tracked: list[Tracked],
    refreshed: dict[str, dict | None],
    records: list[DriftRecord],
    *,
    local: bool,
) -> list[DriftRecord]:
    vaults = {}
    for t in tracked:
        if t.type == VAULT_TYPE:
            attrs = refreshed.get(t.address) or t.attributes
            vaults[str(attrs.get("id") or "").lower()] = t
    critical_keys = {r.address for r in records if r.type == KEY_TYPE and r.severity is Severity.CRITICAL}
    out: list[DriftRecord] = []
    for audit in audits:
        t = vaults.get(str(audit.get("id") or "").lower())
        key_id = str(audit.get("key_id") or "")
        if t is None or not key_id:
            continue
        keys = [
            k
            for k in tracked
            if k.type == KEY_TYPE and key_id.lower() in _ids(refreshed.get(k.address)) | _ids(k.attributes)
        ]
        if any(k.address in critical_keys for k in keys):
            continue
        for finding in audit.get("findings") or []:
            known = KEY_FINDINGS.get(finding.get("code"))
            if known is None:
                continue
            kind, actual, key_attr = known
            subject = Subject(
                VAULT_TYPE,
                "encryption.key_id",
                kind,
                "usable",
                actual,
                t.attributes,
                refreshed.get(t.address),
                Baseline.DESIRED,
            )
            severity, why = classify(subject, Facts())
            fix = fix_for(
                KEY_TYPE,
                key_attr,
                kind,
                plan_action="no-op",
                plan_changes_it=False,
                obj={"id": key_id},
                local=local,
            )
            out.append(
                DriftRecord(
                    t.address,
                    VAULT_TYPE,
                    PATH,
                    kind,
                    "usable",
                    f"{actual}: {key_id}",
                    "usable",
                    severity,
                    why,
                    fix,
                    "no-op",
                    Baseline.DESIRED,
                )
            )
    return out

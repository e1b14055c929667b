"""What the CMK audit finds wrong with a managed vault that no managed object's attributes show.

Key versions a managed vault uses but no managed key object shows (``key_findings``), and an
encryption identity that can no longer reach its key through something this state doesn't hold
(``access_findings``): a role assigned by another configuration and deleted, an identity
detached, a key vault firewall turned on.

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
from providers.azurerm.drift.types import KEY, KV, POLICY, ROLE, RSV, UAI
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


# audit finding code -> what the vault's encryption lost (each makes backups fail to unwrap the data key)
ACCESS_FINDINGS: dict[str, tuple[str, str]] = {
    "GRANT_MISSING": (
        "encryption[0]",
        "Give the encryption identity Get, List, WrapKey and UnwrapKey on the key vault again: an "
        'access policy, or the role "Key Vault Crypto Service Encryption User" where the key vault '
        "authorizes with Azure RBAC.",
    ),
    "KEY_VERSION_STILL_WRAPS": (
        "encryption[0]",
        "Enable the older key version again, and keep it enabled until a backup job has completed "
        "with the current version (R12).",
    ),
    "IDENTITY_MISSING": (
        "identity[0]",
        "Attach the identity the encryption names to the vault again (or turn its system-assigned "
        "identity back on).",
    ),
    "FIREWALL_BLOCKS_IDENTITY": (
        "encryption[0]",
        "Let the identity through the key vault's firewall: allow trusted Azure services (a "
        "system-assigned identity), or encrypt through the system-assigned identity.",
    ),
}

# a critical record on one of these already tells the same story (a managed grant deleted...)
_ACCESS_TYPES = (KV, POLICY, ROLE, UAI)


def access_findings(
    audits: list[dict[str, Any]], estate: DriftEstate, reported: Mapping[str, Severity]
) -> list[Finding]:
    """``reported``: the worst severity drift already gave each address."""
    vaults = {str(o.current.get("id") or "").lower(): o for o in estate.objects if o.type == RSV}
    told = {o.address for o in estate.objects if o.type in _ACCESS_TYPES}
    if any(reported.get(address) is Severity.CRITICAL for address in told):
        return []
    out: list[Finding] = []
    for audit in audits:
        vault = vaults.get(str(audit.get("id") or "").lower())
        if vault is None or reported.get(vault.address) is Severity.CRITICAL:
            continue
        for finding in audit.get("findings") or []:
            known = ACCESS_FINDINGS.get(finding.get("code"))
            if known is None:
                continue
            path, remedy = known
            out.append(
                Finding(
                    vault.address,
                    RSV,
                    path,
                    ChangeKind.REMOVED,
                    "the identity can use the key",
                    str(finding.get("message") or finding.get("code")),
                    "the identity can use the key",
                    Severity.CRITICAL,
                    "the vault's encryption identity can't reach its key: backups can't unwrap the "
                    "data key and fail",
                    remedy,
                    Baseline.RECORDED,
                )
            )
    return out

"""The CMK compliance audit for people (text), machines (JSON, see SCHEMA.md) and pull requests (markdown).

The audit itself is the provider's (``provider.audit()`` returns one dict per Recovery
Services vault, with ``findings`` and ``compliant``); this module only summarises and shows it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from reconciler.drift.model import FORMAT_VERSION


@dataclass
class AuditReport:
    vaults: list[dict[str, Any]] = field(default_factory=list)
    cloud: str = ""
    generated_at: str = ""
    # the subscriptions audited, in the order read (a tenant's audit; empty: one account)
    subscriptions: list[str] = field(default_factory=list)
    # {"subscription", "error"}: a subscription that could not be read, its vaults not audited
    unreadable: list[dict[str, str]] = field(default_factory=list)

    @property
    def non_compliant(self) -> list[dict[str, Any]]:
        return [v for v in self.vaults if not v.get("compliant")]

    @property
    def exit_code(self) -> int:
        """2 any vault non-compliant; else 1 when a subscription could not be read (as drift's
        unreadable objects); 0 every vault of every subscription compliant."""
        return 2 if self.non_compliant else 1 if self.unreadable else 0


def _yes(v: Any) -> str:
    return {True: "yes", False: "no", None: "unknown"}.get(v, str(v))


def _key_state(v: dict[str, Any]) -> str:
    if not v.get("cmk"):
        return "-"
    if v.get("key_enabled") is None:
        return "unknown"
    text = "enabled" if v["key_enabled"] else "disabled"
    return text + (f", expires {v['key_expires']}" if v.get("key_expires") else "")


def _errors(v: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in v.get("findings") or [] if f["severity"] == "error"]


def headline(report: AuditReport) -> str:
    total, bad = len(report.vaults), len(report.non_compliant)
    subs = len(_subscriptions(report))
    where = f" in {subs} subscriptions" if subs > 1 else ""
    if not total and report.unreadable and not report.subscriptions:
        return "No subscription could be read: nothing was audited."
    if not total:
        if subs > 1:
            return f"No Recovery Services vaults in the {subs} subscriptions."
        return "No Recovery Services vaults in the subscription."
    if not bad:
        return f"All {total} Recovery Services vault(s){where} are compliant."
    return f"{bad} of {total} Recovery Services vault(s){where} are not compliant."


def _subscriptions(report: AuditReport) -> list[str]:
    """The subscriptions audited (a tenant's audit, those without vaults too), in the order read;
    else those the vaults name, in first-seen order."""
    if report.subscriptions:
        return list(report.subscriptions)
    return list(dict.fromkeys(str(v["subscription"]) for v in report.vaults if v.get("subscription")))


def _not_read(report: AuditReport) -> list[str]:
    return [f"subscription {u['subscription']} could not be read: {u['error']}" for u in report.unreadable]


def _where(v: dict[str, Any], several: bool) -> str:
    return f"{v['resource_group']}, subscription {v['subscription']}" if several else v["resource_group"]


def render_text(report: AuditReport) -> str:
    several = len(_subscriptions(report)) > 1
    lines = [f"Target: {report.cloud}", "", headline(report)]
    if report.unreadable:
        lines += ["", "Not audited:"] + [f"  {line}" for line in _not_read(report)]
    for v in report.vaults:
        lines += [
            "",
            f"{v['name']} ({_where(v, several)}): {'compliant' if v['compliant'] else 'NOT COMPLIANT'}",
        ]
        if v.get("cmk"):
            lines.append(f"  key          {v['key_id']} ({v['key_mode']}; {_key_state(v)})")
            lines.append(
                f"  identity     {v['identity']} {v.get('identity_id') or v.get('principal_id') or ''}".rstrip()
            )
            lines.append(
                f"  key vault    {v['key_vault'] or '(not found)'}: soft delete {_yes(v['soft_delete'])}, "
                f"purge protection {_yes(v['purge_protection'])}"
            )
            lines.append(
                f"  grant        {v['grant'] or 'unknown'}"
                + (f" ({v['grant_detail']})" if v.get("grant_detail") else "")
            )
        else:
            lines.append("  key          none (platform-managed key)")
        for f in v.get("findings") or []:
            lines.append(f"  {f['severity']:<8} {f['code']}: {f['message']}")
    return "\n".join(lines)


def report_to_json(report: AuditReport) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "generated_at": report.generated_at,
        "cloud": report.cloud,
        "summary": {
            "vaults": len(report.vaults),
            "compliant": len(report.vaults) - len(report.non_compliant),
            "non_compliant": len(report.non_compliant),
            "unreadable": len(report.unreadable),
            "exit_code": report.exit_code,
        },
        "subscriptions": _subscriptions(report),
        "vaults": report.vaults,
        "unreadable": report.unreadable,
    }


def render_json(report: AuditReport) -> str:
    return json.dumps(report_to_json(report), indent=2, default=str)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: AuditReport) -> str:
    lines = [
        "## vaultform CMK audit",
        "",
        f"Target: {report.cloud}",
        "",
        f"**{headline(report)}**",
        "",
        "| Vault | Resource group | Subscription | Compliant | CMK | Key | Identity | Purge protection | Grant | Problems |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for v in report.vaults:
        problems = "; ".join(f"{f['code']}" for f in _errors(v)) or "-"
        lines.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    f"`{v['name']}`",
                    f"`{v['resource_group']}`",
                    f"`{v['subscription']}`" if v.get("subscription") else "-",
                    "✅" if v["compliant"] else "❌",
                    _yes(v["cmk"]),
                    f"{v['key_mode']}, {_key_state(v)}" if v["cmk"] else "-",
                    v["identity"] or "-",
                    _yes(v["purge_protection"]) if v["cmk"] else "-",
                    v["grant"] or "-",
                    problems,
                )
            )
            + " |"
        )
    if report.unreadable:
        lines += ["", "### Not audited", ""] + [f"- {_cell(line)}" for line in _not_read(report)]
    details = [(v, f) for v in report.vaults for f in v.get("findings") or [] if f["severity"] != "info"]
    if details:
        lines += ["", "### Findings", ""]
        lines += [
            f"- `{v['name']}` ({_where(v, bool(v.get('subscription')))}) {f['severity']} {f['code']}: "
            f"{_cell(f['message'])}"
            for v, f in details
        ]
    return "\n".join(lines) + "\n"

"""Drift reports for people (text), machines (JSON, see SCHEMA.md) and pull requests (markdown)."""

from __future__ import annotations

import json
from typing import Any

from reconciler.drift.model import FORMAT_VERSION, DriftRecord, DriftReport, Severity

_COLORS = {Severity.CRITICAL: "\x1b[1;31m", Severity.WARNING: "\x1b[1;33m", Severity.INFO: "\x1b[36m"}
_RESET = "\x1b[0m"
_ICON = {Severity.CRITICAL: "🔴", Severity.WARNING: "🟠", Severity.INFO: "🔵"}


def show_value(v: Any, limit: int = 80) -> str:
    if v is None:
        return "(none)"
    text = v if isinstance(v, str) and v.startswith("(") and v.endswith(")") else json.dumps(v, default=str)
    if len(text) <= limit:
        return text
    close = "}" if isinstance(v, dict) else "]" if isinstance(v, list) else ""
    return text[: limit - 3 - len(close)] + "..." + close  # a cut object or list still closes


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _recorded(r: DriftRecord, limit: int) -> str:
    """A whole object that was deleted shows as such; its attributes are in the JSON report."""
    return "(the object)" if not r.path and isinstance(r.recorded, dict) else show_value(r.recorded, limit)


def _what(r: DriftRecord) -> str:
    return r.path or "(whole object)"


def headline(report: DriftReport) -> str:
    c = report.counts()
    objects = len(report.by_object())
    if not report.has_drift:
        extra = f"; {len(report.failures)} could not be read" if report.failures else ""
        return f"No drift: {report.checked} managed object(s) match state and configuration{extra}."
    parts = [
        f"{objects} object(s) drifted, findings: {c['critical']} critical, {c['warning']} warning, "
        f"{c['info']} info"
    ]
    if report.unmanaged:
        parts.append(f"{len(report.unmanaged)} unmanaged object(s) in scope")
    if report.failures:
        parts.append(f"{len(report.failures)} could not be read")
    return "Drift: " + "; ".join(parts) + "."


# --------------------------------------------------------------------------- text


def render_text(report: DriftReport, *, color: bool = False) -> str:
    lines = [f"Target: {report.cloud}", "", headline(report)]
    for address, records in report.by_object().items():
        lines.append("")
        # a provider's finding is no-op (the plan doesn't fix it); the object's own records know the plan
        action = next((r.plan_action for r in records if r.plan_action != "no-op"), "no-op")
        lines.append(f"{address} (plan: {action})")
        for r in records:
            label = r.severity.value.upper()
            if color:
                label = f"{_COLORS[r.severity]}{label}{_RESET}"
            lines.append(f"  {label}  {_what(r)}: {r.kind.value}")
            lines.append(f"      recorded {_recorded(r, 160)}")
            lines.append(f"      actual   {show_value(r.actual, 160)}")
            lines.append(f"      desired  {show_value(r.desired, 160)}")
            lines.append(f"      why: {r.why}")
            lines.append(f"      fix: {r.fix.detail}")
    if report.unmanaged:
        lines += ["", "Unmanaged objects in scope (no state entry tracks them):"]
        for u in report.unmanaged:
            lines.append(f"  {u.type}  {u.name}  {u.id}" + (f"  ({u.detail})" if u.detail else ""))
    if report.failures:
        lines += ["", "Could not be read:"]
        for f in report.failures:
            lines.append(f"  {f.address}: {f.code}: {_one_line(f.message)}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- JSON


def report_to_json(report: DriftReport) -> dict[str, Any]:
    c = report.counts()
    return {
        "format_version": FORMAT_VERSION,
        "generated_at": report.generated_at,
        "cloud": report.cloud,
        "summary": {
            "drifted": report.has_drift,
            "objects_checked": report.checked,
            "objects_drifted": len(report.by_object()),
            "critical": c["critical"],
            "warning": c["warning"],
            "info": c["info"],
            "unmanaged": len(report.unmanaged),
            "unreadable": len(report.failures),
            "exit_code": report.exit_code,
        },
        "drift": [
            {
                "address": r.address,
                "type": r.type,
                "attribute": r.path,
                "change": r.kind.value,
                "severity": r.severity.value,
                "why": r.why,
                "recorded": _jsonable(r.recorded),
                "actual": _jsonable(r.actual),
                "desired": _jsonable(r.desired),
                "baseline": r.baseline.value,
                "plan_action": r.plan_action,
                "fix": {"kind": r.fix.kind.value, "detail": r.fix.detail},
            }
            for r in report.sorted_records()
        ],
        "unmanaged": [
            {"type": u.type, "id": u.id, "name": u.name, "scope": u.scope, "detail": u.detail}
            for u in report.unmanaged
        ],
        "unreadable": [{"address": f.address, "code": f.code, "message": f.message} for f in report.failures],
    }


def _jsonable(v: Any) -> Any:
    return json.loads(json.dumps(v, default=str))


def render_json(report: DriftReport) -> str:
    return json.dumps(report_to_json(report), indent=2, sort_keys=False)


# --------------------------------------------------------------------------- markdown


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: DriftReport) -> str:
    c = report.counts()
    lines = [
        "## vaultform drift",
        "",
        f"Target: {report.cloud}",
        "",
        f"**{headline(report)}**",
        "",
        "| Severity | Findings |",
        "|---|---:|",
    ]
    for s in Severity:
        lines.append(f"| {_ICON[s]} {s.value} | {c[s.value]} |")
    lines.append(f"| unmanaged objects | {len(report.unmanaged)} |")
    lines.append(f"| could not be read | {len(report.failures)} |")
    if report.records:
        lines += [
            "",
            "### Changes",
            "",
            "| Severity | Object | Attribute | Change | Recorded | Actual | Desired | Fix |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in report.sorted_records():
            lines.append(
                "| "
                + " | ".join(
                    _cell(x)
                    for x in (
                        f"{_ICON[r.severity]} {r.severity.value}",
                        f"`{r.address}`",
                        f"`{_what(r)}`",
                        r.kind.value,
                        _recorded(r, 40),
                        show_value(r.actual, 40),
                        show_value(r.desired, 40),
                        r.fix.detail,
                    )
                )
                + " |"
            )
        lines += ["", "<details><summary>Why it matters</summary>", ""]
        for r in report.sorted_records():
            lines.append(f"- `{r.address}` `{_what(r)}`: {_cell(r.why)}")
        lines += ["", "</details>"]
    if report.unmanaged:
        lines += ["", "### Unmanaged objects in scope", "", "| Type | Name | Scope |", "|---|---|---|"]
        for u in report.unmanaged:
            lines.append(f"| `{u.type}` | {_cell(u.name)} | {_cell(u.scope)} |")
    if report.failures:
        lines += ["", "### Could not be read", ""]
        for f in report.failures:
            lines.append(f"- `{f.address}`: {_cell(f.code)}: {_cell(_one_line(f.message))}")
    return "\n".join(lines) + "\n"

"""What a plan's refresh found changed outside vaultform, shown before the plan as terraform does.

Terraform prints "Objects have changed outside of Terraform" with each object whose refreshed
values differ from what state recorded. vaultform does the same, and asks the providers'
drift rules what each change breaks: a change that makes backups or restores fail (a disabled
key, a removed grant, a disabled identity) is also a warning with its fix, even when the
configuration doesn't mention the attribute and the plan has nothing to do.
"""

from __future__ import annotations

from itertools import groupby

from providers.drift_protocol import Baseline, ChangeKind, Severity
from reconciler.diagnostics import Diagnostic, warning
from reconciler.drift.detect import detect
from reconciler.drift.model import DriftRecord, FixKind
from reconciler.drift.render import show_value
from reconciler.drift.run import provider_rules, tracked_objects

CODE = "critical_drift"


def outside_changes(session, refreshed: dict[str, dict | None] | None, plan) -> list[DriftRecord]:
    """The differences between state and what the refresh read, judged by each provider's rules."""
    if not refreshed:
        return []
    # only an object the refresh read differently can have changed outside vaultform; the
    # rest are skipped before any judging, so a plan with nothing changed pays almost nothing
    if not any(
        refreshed.get(str(address), inst.attributes) != inst.attributes
        for address, _res, inst in session.state.instances()
    ):
        return []
    tracked = [t for t in tracked_objects(session) if t.address in refreshed]
    changed = [t for t in tracked if refreshed[t.address] != t.attributes]
    if not changed:
        return []
    rules = provider_rules(session, tracked, refreshed, plan)  # the whole estate: rules relate objects
    records = detect(changed, refreshed, plan, (), rules=rules)
    return [r for r in records if r.baseline is Baseline.RECORDED]


def critical_warnings(records: list[DriftRecord], *, refused: bool = False) -> list[Diagnostic]:
    """One warning per change that breaks backups or restores: what it breaks and the way back
    (``refused``: the plan showing them is refused, so it undoes nothing)."""
    out = []
    for r in records:
        if r.severity is not Severity.CRITICAL:
            continue
        what = f"{r.address}.{r.path}" if r.path else r.address
        if r.fix.kind is FixKind.PLAN:
            # the drift report's fix says to run plan and apply; here the reader is looking at the plan
            how = (
                "This plan would undo it, but it is refused: the errors below say why."
                if refused
                else "This plan undoes it."
            )
        elif r.fix.kind is FixKind.ACCEPT:
            how = "Undo the change where it was made."
        else:
            how = r.fix.detail if r.fix.detail.endswith((".", "!", "?")) else f"{r.fix.detail}."
        out.append(
            warning(
                CODE,
                f"{what} changed outside vaultform: {r.why}",
                f"{_change_text(r)}. {how}",
                address=r.address,
            )
        )
    return out


def _change_text(r: DriftRecord) -> str:
    if r.kind is ChangeKind.DELETED:
        return f"{r.address} was deleted"
    return f"{r.path or 'the object'} was {show_value(r.recorded)}, is now {show_value(r.actual)}"


def render_outside(records: list[DriftRecord], *, color: bool = False) -> str:
    """The note terraform prints before a plan, one block per object that changed."""
    if not records:
        return ""
    bold = (lambda s: f"\x1b[1m{s}\x1b[0m") if color else (lambda s: s)
    lines = [
        bold("Note: Objects have changed outside of vaultform"),
        "",
        "vaultform detected the following changes made outside of vaultform since the last",
        '"vaultform apply" which may have affected this plan:',
        "",
    ]
    for address, group in groupby(
        sorted(records, key=lambda r: (r.address, r.path)), key=lambda r: r.address
    ):
        items = list(group)
        if any(r.kind is ChangeKind.DELETED and not r.path for r in items):
            lines.append(f"  # {address} has been deleted")
            continue
        lines.append(f"  # {address} has changed")
        for r in items:
            mark = " [critical]" if r.severity is Severity.CRITICAL else ""
            lines.append(
                f"      ~ {r.path or '(object)'} = {show_value(r.recorded)} -> {show_value(r.actual)}{mark}"
            )
    lines += [
        "",
        "Unless you have made equivalent changes to your configuration, or ignored the relevant",
        "attributes using ignore_changes, the following plan may include actions to undo or",
        "respond to these changes.",
        "",
        "─" * 77,
    ]
    return "\n".join(lines)

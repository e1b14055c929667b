"""The plan as a pull-request comment (GitHub-flavoured markdown).

A title with the verdict (refused / changes / no changes) and the target cloud, a
summary table of the actions and one per resource type, the refusals (code, address,
summary, what to do), the warnings and advisories, and a collapsible ``<details>`` block
per changed resource holding its text diff in a ``diff`` fence. In the fence each line's
action symbol moves to the first column (``+`` added, ``-`` removed, ``!`` changed) so the
forge colours it; the rest of the line keeps the human plan's layout.

As in the human plan, "add" and "destroy" count a replacement once each; the "replace"
row counts replacements on their own.
"""

from __future__ import annotations

import html
import re

from reconciler.diagnostics import Diagnostic, Diagnostics, Severity
from reconciler.plan.model import Action, Plan
from reconciler.plan.render_text import (
    ChangeCounts,
    SchemaOf,
    counts_by_type,
    headline,
    render_change,
    render_outputs,
    schema_lookup,
    visible_changes,
    visible_outputs,
)

VERDICT_REFUSED = "refused"
VERDICT_CHANGES = "changes"
VERDICT_NO_CHANGES = "no changes"

# the symbol a diff line starts with, by the human plan's action symbol
_DIFF_MARK = {"+": "+", "-": "-", "~": "!", "-/+": "!", "+/-": "!", "<=": "+"}


def verdict(plan: Plan) -> str:
    if plan.errored:
        return VERDICT_REFUSED
    return VERDICT_CHANGES if plan.has_changes else VERDICT_NO_CHANGES


def cell(text: str) -> str:
    """Text safe inside a table cell: pipes escaped, line breaks as <br>."""
    lines = [ln.strip() for ln in text.strip().splitlines()]
    return "<br>".join(html.escape(ln, quote=False).replace("|", "\\|") for ln in lines if ln) or " "


def code(text: str) -> str:
    return f"`{text}`" if "`" not in text else f"``{text}``"


def to_diff(text: str) -> str:
    """The human plan's lines with each action symbol moved to the first column."""
    out = []
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        symbol = stripped.split(" ", 1)[0]
        if symbol not in _DIFF_MARK or not stripped.startswith(symbol + " "):
            out.append(line)
            continue
        moved = " " * (indent + len(symbol)) + line[indent + len(symbol) :]
        out.append(_DIFF_MARK[symbol] + moved[1:])
    return "\n".join(out)


def _title(plan: Plan) -> str:
    v = verdict(plan)
    words = {
        VERDICT_REFUSED: "refused",
        VERDICT_CHANGES: "changes to apply",
        VERDICT_NO_CHANGES: "no changes",
    }[v]
    target = f" - {plan.cloud}" if plan.cloud else ""
    return f"## vaultform plan: {words}{target}"


def _summary_table(counts: ChangeCounts) -> list[str]:
    rows = [
        ("add", counts.add),
        ("change", counts.change),
        ("destroy", counts.destroy),
        ("replace", counts.replace),
        ("read", counts.read),
    ]
    if counts.imports:
        rows.insert(0, ("import", counts.imports))
    if counts.forget:  # objects a removed block lets go of: out of state, left in the cloud
        rows.append(("forget", counts.forget))
    return ["| Action | Count |", "|---|---:|"] + [f"| {name} | {n} |" for name, n in rows]


def _type_table(plan: Plan) -> list[str]:
    by_type = counts_by_type(visible_changes(plan))
    if not by_type:
        return []
    forgets = any(c.forget for c in by_type.values())  # a column only when a removed block lets go
    head = "| Resource type | Add | Change | Destroy | Replace | Read |" + (" Forget |" if forgets else "")
    lines = [head, "|---|---:|---:|---:|---:|---:|" + ("---:|" if forgets else "")]
    for type_name, c in by_type.items():
        row = f"| {code(type_name)} | {c.add} | {c.change} | {c.destroy} | {c.replace} | {c.read} |"
        lines.append(row + (f" {c.forget} |" if forgets else ""))
    return lines


def _refusals(errors: list[Diagnostic]) -> list[str]:
    lines = [
        "### Refused",
        "",
        "Nothing will be applied. Each row says what to do instead.",
        "",
        "| Code | Address | Summary | What to do |",
        "|---|---|---|---|",
    ]
    for d in errors:
        where = code(d.address) if d.address else (f"{d.range.file}:{d.range.line}" if d.range else " ")
        lines.append(f"| {cell(d.code)} | {where} | {cell(d.summary)} | {cell(d.detail)} |")
    return lines


def _warnings(others: list[Diagnostic]) -> list[str]:
    lines = ["### Warnings and advisories", ""]
    for d in others:
        label = "warning" if d.severity is Severity.WARNING else "info"
        where = f" ({code(d.address)})" if d.address else ""
        text = f"- **{d.code}** {label}{where}: {d.summary}"
        if d.detail:
            text += " - " + " ".join(ln.strip() for ln in d.detail.splitlines() if ln.strip())
        lines.append(text)
    return lines


def fence_for(body: str) -> str:
    """A code fence longer than any run of backticks inside ``body``."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


def _details(summary: str, body: str) -> list[str]:
    diff = to_diff(body)
    fence = fence_for(diff)
    return ["<details>", f"<summary>{summary}</summary>", "", f"{fence}diff", diff, fence, "", "</details>"]


def render_markdown(plan: Plan, *, schema_of: SchemaOf | None = None) -> str:
    """The pull-request comment for a plan, ending in a newline."""
    schema_of = schema_lookup(schema_of)
    diags = Diagnostics(list(plan.diagnostics)).sorted()
    errors = [d for d in diags if d.is_error]
    others = [d for d in diags if not d.is_error]
    changes = visible_changes(plan)
    outputs = visible_outputs(plan)
    counts = ChangeCounts.of(changes)

    blocks: list[list[str]] = [[_title(plan)]]
    if errors:
        blocks.append(_refusals(errors))
    if changes or outputs or errors:
        summary = [
            f"**Plan:** {counts.sentence()}."
            if not errors
            else f"**Refused plan:** {counts.sentence()} (none of it will be applied)."
        ]
        blocks.append(summary + [""] + _summary_table(counts))
        types = _type_table(plan)
        if types:
            blocks.append(types)
    else:
        blocks.append(["No changes. Your infrastructure matches the configuration."])
    if others:
        blocks.append(_warnings(others))
    if changes:
        section = ["### Resource changes", ""]
        moved_from = {new: old for old, new in plan.moved}
        for c in changes:
            previous = moved_from.get(c.address)
            words = f"has moved from {previous}" if previous and c.action is Action.NO_OP else headline(c)
            title = f"<code>{html.escape(c.address)}</code> {html.escape(words)}"
            section += _details(title, render_change(c, schema_of=schema_of, moved_from=previous))
            section.append("")
        blocks.append(section[:-1])
    if outputs:
        blocks.append(_details("Changes to outputs", render_outputs(outputs).split("\n", 1)[1]))
    return "\n\n".join("\n".join(b) for b in blocks) + "\n"

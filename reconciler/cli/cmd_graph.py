"""`vaultform graph [DIR] [-format text|dot|mermaid]`: the order apply would follow.

Shows the apply graph of a plan made without refreshing: one node per operation (a
vault's key assignment is its own node), edges from references, depends_on and the CMK
ordering rules, each rule edge labelled with its code. Redundant edges are left out.
"""

from __future__ import annotations

import re

from reconciler import session as steps
from reconciler.apply.graph import build_apply_graph
from reconciler.cli.flags import flag
from reconciler.cli.output import Output
from reconciler.diagnostics import DiagnosticsError
from reconciler.plan.walk import PlanOptions
from state.model import State

FORMATS = ("text", "dot", "mermaid")


def setup(parser) -> None:
    parser.add_argument("dir", nargs="?", default=".", help="configuration directory (default: .)")
    flag(parser, "format", choices=FORMATS, default="text", help="text (default), dot or mermaid")
    flag(parser, "var", action="append", default=[], metavar="NAME=VALUE", help="set an input variable")
    flag(parser, "var-file", action="append", default=[], metavar="FILE", help="read variables from a file")
    flag(parser, "state", metavar="PATH", default=None, help="state file (default: DIR/vaultform.tfstate)")
    flag(parser, "no-color", action="store_true", help="no colour in the output")


def run(args, out: Output) -> int:
    session = steps.open_session(args.dir, cli_vars=args.var, var_files=args.var_file, state_path=args.state)
    try:
        session.state = State.new()  # the order of a first apply: every object and phase is shown
        plan = steps.plan(session, PlanOptions(), refreshed=None)
    finally:
        session.close()
    errors = [d for d in plan.diagnostics if d.is_error]
    if errors:
        raise DiagnosticsError(errors)
    applied = build_apply_graph(plan)
    rules = {(b, a): why.split(":")[0] for b, a, why in plan.edges}
    graph = applied.graph
    if not graph.cycles():
        graph = graph.without_redundant_edges()
        for before, after in rules:  # an edge a rule asked for stays visible, even if implied
            if before in graph and after in graph:
                graph.connect(before, after)
    nodes = applied.order() if not applied.graph.cycles() else sorted(graph.nodes())
    render = {"text": _text, "dot": _dot, "mermaid": _mermaid}[args.format]
    out.print(render(graph, nodes, applied.steps, rules))
    return 0


def _label(node: str, steps_by_id) -> str:
    step = steps_by_id.get(node)
    if step is None:
        return node
    verb = step.op.value if not step.phase else f"{step.phase} (key assignment)"
    return f"{node.split('#')[0] if step.phase else node} [{verb}]"


def _text(graph, nodes, steps_by_id, rules) -> str:
    lines = []
    for node in nodes:
        deps = graph.dependencies(node)
        lines.append(_label(node, steps_by_id))
        for dep in deps:
            rule = rules.get((dep, node))
            lines.append(f"    after {dep}" + (f"  ({rule})" if rule else ""))
    return "\n".join(lines)


def _quoted(text: str) -> str:
    """A DOT string: quotes and backslashes escaped, any character kept as itself."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot(graph, nodes, steps_by_id, rules) -> str:
    lines = ["digraph vaultform {", '  rankdir = "LR";', "  node [shape = box];"]
    for node in nodes:
        lines.append(f"  {_quoted(node)} [label = {_quoted(_label(node, steps_by_id))}];")
    for node in nodes:
        for dep in graph.dependencies(node):
            rule = rules.get((dep, node))
            attr = f" [label = {_quoted(rule)}]" if rule else ""
            lines.append(f"  {_quoted(dep)} -> {_quoted(node)}{attr};")
    lines.append("}")
    return "\n".join(lines)


def _mermaid_id(node: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", node)


def _mermaid(graph, nodes, steps_by_id, rules) -> str:
    lines = ["flowchart LR"]
    for node in nodes:
        label = _label(node, steps_by_id).replace('"', "#quot;")
        lines.append(f'  {_mermaid_id(node)}["{label}"]')
    for node in nodes:
        for dep in graph.dependencies(node):
            rule = rules.get((dep, node))
            arrow = f"-->|{rule}|" if rule else "-->"
            lines.append(f"  {_mermaid_id(dep)} {arrow} {_mermaid_id(node)}")
    return "\n".join(lines)

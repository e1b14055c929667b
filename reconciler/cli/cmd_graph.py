"""`vaultform graph [DIR] [-format text|dot|mermaid] [-type plan|apply]`: the order apply would follow.

Shows the apply graph of a plan made without refreshing: one node per operation (a
vault's key assignment is its own node), edges from references, depends_on and the CMK
ordering rules, each rule edge labelled with its code. Redundant edges are left out.
"""

from __future__ import annotations

import re

from reconciler import importing
from reconciler import session as steps
from reconciler.apply.graph import StepId, build_apply_graph
from reconciler.cli.common import add_variable_flags
from reconciler.cli.flags import flag
from reconciler.cli.output import Output
from reconciler.diagnostics import DiagnosticsError
from reconciler.plan.model import Action
from reconciler.plan.walk import PlanOptions
from state.model import State

FORMATS = ("text", "dot", "mermaid")
# terraform graph's -type values whose graph is the order of an apply that makes the configuration
TYPES = ("plan", "plan-refresh-only", "apply")


def setup(parser) -> None:
    parser.add_argument("dir", nargs="?", default=".", help="configuration directory (default: .)")
    flag(
        parser,
        "format",
        choices=FORMATS,
        default=None,
        help="text (default), dot or mermaid; dot when -type is given, as terraform graph prints",
    )
    flag(
        parser,
        "type",
        choices=TYPES,
        default=None,
        help="as terraform graph -type: accepted, the graph is the apply order either way (DOT unless "
        "-format says otherwise); a destroy's order is not drawn",
    )
    flag(
        parser, "draw-cycles", action="store_true", help="as terraform graph: accepted (a cycle is an error)"
    )
    add_variable_flags(parser)
    flag(parser, "state", metavar="PATH", default=None, help="state file (default: DIR/vaultform.tfstate)")
    flag(parser, "no-color", action="store_true", help="no colour in the output")


def run(args, out: Output) -> int:
    session = steps.open_session(args.dir, variables=args.variable_flags, state_path=args.state)
    try:
        try:
            planned = importing.plan_with_imports(session, PlanOptions(), refreshed=None)
        except DiagnosticsError:  # an import's object not there (yet): drawn as a create
            planned = steps.plan(session, PlanOptions(), refreshed=None)
        session.state = State.new()  # the order of a first apply: every object and phase is shown
        plan = steps.plan(session, PlanOptions(), refreshed=None)
    finally:
        session.close()
    # the errors are those of the plan with the state as it is: planned from an empty state, objects
    # that exist already are ones Azure holds "outside state" (a protected VM, a role assignment)
    # a cycle in the apply order is drawn, for the user to see it
    errors = [d for d in planned.diagnostics if d.is_error and d.code != "apply_cycle"]
    if errors:
        raise DiagnosticsError(errors)
    applied = build_apply_graph(plan)
    # the rules' edges of both plans: with the state as it is, an object it records has its id,
    # which a rule may need to match (a grant naming an imported key vault by its id: O2)
    rules = {(StepId.of(b), StepId.of(a)): why.split(":")[0] for b, a, why in [*planned.edges, *plan.edges]}
    graph = applied.graph
    if not graph.cycles():
        graph = graph.without_redundant_edges()
        for before, after in rules:  # an edge a rule asked for stays visible, even if implied
            if before in graph and after in graph:
                graph.connect(before, after)
    nodes = applied.order() if not applied.graph.cycles() else sorted(graph.nodes(), key=str)
    actions = {str(c.address): c.action for c in planned.changes}
    fmt = args.format or ("dot" if args.type else "text")  # `terraform graph -type=plan | dot` keeps working
    render = {"text": _text, "dot": _dot, "mermaid": _mermaid}[fmt]
    out.print(render(graph, nodes, _Labels(applied.steps, actions), rules))
    return 0


# how an object the state already records is labelled, by what the plan (with that state) does to it
EXISTING_LABELS = {
    Action.NO_OP: "no change",
    Action.UPDATE: "update",
    Action.DELETE_THEN_CREATE: "replace",
    Action.CREATE_THEN_DELETE: "replace",
    Action.READ: "read",
}


class _Labels:
    """Steps by id, with the planned action of each object (the graph itself is a first apply's)."""

    def __init__(self, steps_by_id, actions):
        self.steps_by_id = steps_by_id
        self.actions = actions


def _label(node: StepId, labels: _Labels) -> str:
    step = labels.steps_by_id.get(node)
    if step is None:
        return str(node)
    existing = EXISTING_LABELS.get(labels.actions.get(str(node.address)))
    if step.phase:
        verb = f"{step.phase} (key assignment" + (", no change)" if existing == "no change" else ")")
    else:
        verb = existing or step.op.value
    return f"{node.address if step.phase else node} [{verb}]"


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
        lines.append(f"  {_quoted(str(node))} [label = {_quoted(_label(node, steps_by_id))}];")
    for node in nodes:
        for dep in graph.dependencies(node):
            rule = rules.get((dep, node))
            attr = f" [label = {_quoted(rule)}]" if rule else ""
            lines.append(f"  {_quoted(str(dep))} -> {_quoted(str(node))}{attr};")
    lines.append("}")
    return "\n".join(lines)


def _mermaid_ids(nodes) -> dict:
    """A Mermaid id per node: its text with every other character as "_", numbered when two
    nodes would otherwise share one (instance keys "a.b" and "a#b")."""
    ids: dict = {}
    taken: set[str] = set()
    for node in sorted(nodes, key=str):
        base = "n_" + re.sub(r"[^A-Za-z0-9_]", "_", str(node))
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate)
        ids[node] = candidate
    return ids


def _mermaid(graph, nodes, steps_by_id, rules) -> str:
    ids = _mermaid_ids(graph.nodes())
    lines = ["flowchart LR"]
    for node in nodes:
        # Mermaid's entity codes: "#" first, since the others are written with it
        label = _label(node, steps_by_id).replace("#", "#35;").replace('"', "#quot;")
        lines.append(f'  {ids[node]}["{label}"]')
    for node in nodes:
        for dep in graph.dependencies(node):
            rule = rules.get((dep, node))
            arrow = f"-->|{rule}|" if rule else "-->"
            lines.append(f"  {ids[dep]} {arrow} {ids[node]}")
    return "\n".join(lines)

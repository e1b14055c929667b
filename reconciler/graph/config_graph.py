"""The configuration's dependency graph, one node per block (before count/for_each).

Built in small steps over every module of the tree (child modules are flattened under
``module.<name>.``): nodes for resources and their phases, locals, variables, outputs
and module calls; edges from references and ``depends_on``. A resource whose schema
marks a nested block as a phase (a Recovery Services vault's ``encryption``: the key
assignment) becomes two nodes, so a grant that refers to the vault's identity and the
key assignment that needs the grant form no cycle (DOMAIN.md O5).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from providers.schema import BlockSchema
from reconciler.checks.sites import module_sites, phase_node, phase_of
from reconciler.config import ast
from reconciler.config.model import Module
from reconciler.config.references import Reference, references
from reconciler.diagnostics import Diagnostic, error
from reconciler.graph.dag import Graph

log = logging.getLogger(__name__)


@dataclass
class ModuleInfo:
    """One module instance of the tree as the graph needs it."""

    module: Module
    prefix: str  # "" for the root, "module.a." for a child
    schemas: dict[str, BlockSchema | None]  # resource address -> block schema
    children: dict[str, ModuleInfo] = field(default_factory=dict)


@dataclass
class ConfigGraph:
    graph: Graph
    positions: dict[str, ast.Pos]


def build_config_graph(root: ModuleInfo) -> ConfigGraph:
    """The graph of ``root``'s tree. Built once per ModuleInfo: validation and the plan of one run
    ask for the same tree's graph, and at 10,000 resources building it is about a second.
    Readers must not change it."""
    built = root.__dict__.get("_config_graph")
    if isinstance(built, ConfigGraph):
        return built
    parts = _Parts(log.isEnabledFor(logging.DEBUG))
    positions: dict[str, ast.Pos] = {}
    _add_module(parts, positions, root)
    g = Graph()
    g.g.add_nodes_from(parts.nodes.items())  # in bulk: one networkx call per node was most of the build
    g.g.add_edges_from(parts.edges)
    built = ConfigGraph(g, positions)
    root.__dict__["_config_graph"] = built
    return built


class _Parts:
    """The graph's nodes (with their data, in the order they first appear) and edges, gathered
    before the graph is made from them; the same answers as ``Graph.add`` / ``Graph.connect``."""

    def __init__(self, debug: bool) -> None:
        self.nodes: dict[str, dict] = {}
        self.edges: dict[tuple[str, str], None] = {}
        self.debug = debug

    def __contains__(self, node: str) -> bool:
        return node in self.nodes

    def data(self, node: str) -> dict:
        return self.nodes[node]

    def add(self, node: str, **data: str) -> None:
        known = self.nodes.get(node)
        if known is None:
            self.nodes[node] = data
        else:
            known.update(data)

    def connect(self, before: str, after: str) -> None:
        for node in (before, after):
            if node not in self.nodes:
                self.nodes[node] = {}
        self.edges[(before, after)] = None


def _add_module(g: _Parts, positions: dict[str, ast.Pos], info: ModuleInfo) -> None:
    p, m = info.prefix, info.module
    # step 1: nodes
    for r in m.resources.values():
        g.add(p + r.address, kind="resource", prefix=p, name=r.address)
        positions[p + r.address] = r.pos
        for phase in _phases(r, info.schemas.get(r.address)):
            node = phase_node(p + r.address, phase)
            g.add(node, kind="phase", prefix=p, name=r.address, phase=phase)
            positions[node] = r.pos
            g.connect(p + r.address, node)  # the object before its later phase
    for name, local in m.locals.items():
        g.add(f"{p}local.{name}", kind="local", prefix=p, name=name)
        positions[f"{p}local.{name}"] = local.pos
    for name, var in m.variables.items():
        g.add(f"{p}var.{name}", kind="variable", prefix=p, name=name)
        positions[f"{p}var.{name}"] = var.pos
    for name, out in m.outputs.items():
        g.add(f"{p}output.{name}", kind="output", prefix=p, name=name)
        positions[f"{p}output.{name}"] = out.pos
    for name, check in m.checks.items():
        g.add(f"{p}check.{name}", kind="check", prefix=p, name=name)
        positions[f"{p}check.{name}"] = check.pos
    for name, call in m.module_calls.items():
        g.add(f"{p}module.{name}", kind="module", prefix=p, name=name)
        g.add(f"{p}module.{name}.outputs", kind="module_outputs", prefix=p, name=name)
        positions[f"{p}module.{name}"] = call.pos
        positions[f"{p}module.{name}.outputs"] = call.pos
        for arg_name, attr in call.arguments.items():
            positions[f"{p}module.{name}.var.{arg_name}"] = attr.pos
    # step 2: child modules, wired to their call
    for name, child in info.children.items():
        _add_module(g, positions, child)
        call_node = f"{p}module.{name}"
        # the call (its count/for_each and depends_on) comes before everything in the module:
        # its instances are known first, and what the module waits for, all of it waits for
        for node in _own_nodes(child):
            g.connect(call_node, node)
        g.connect(call_node, f"{p}module.{name}.outputs")
        for out_name in child.module.outputs:
            g.connect(f"{child.prefix}output.{out_name}", f"{p}module.{name}.outputs")
    # step 3: reference and depends_on edges
    for site in module_sites(m, info.schemas):
        target_node = p + site.node
        if target_node not in g:
            g.add(target_node, kind="argument", prefix=p, name=site.node)
        for ref in references(site.expr):
            if ref.root in site.bound:
                continue
            for source in _targets(ref, info, depends_on=site.kind == "depends_on"):
                if source == target_node and g.data(source).get("kind") == "variable":
                    continue  # a variable's validation reads the variable itself
                if source in g:
                    if g.debug:
                        log.debug("graph edge: %s -> %s (%s reference)", source, target_node, site.kind)
                    g.connect(source, target_node)


def _phases(resource, schema: BlockSchema | None) -> list[str]:
    names = {b.labels[0] if b.type == "dynamic" and b.labels else b.type for b in resource.body.blocks}
    return sorted({phase_of(schema, n) for n in names} - {""})


def _targets(ref: Reference, info: ModuleInfo, *, depends_on: bool) -> list[str]:
    p, m = info.prefix, info.module
    root = ref.root
    if root in ("var", "local") and len(ref.subject) > 1:
        return [f"{p}{root}.{ref.subject[1]}"]
    if root == "module" and len(ref.subject) > 1:
        name = ref.subject[1]
        if depends_on and name in info.children:
            return list(_resource_nodes(info.children[name]))  # every object of the module, nested too
        # a module's outputs reach its caller as one value (module.<name>), gathered after all of them
        return [f"{p}module.{name}.outputs"]
    if root in ("count", "each", "path", "terraform", "self"):
        return []
    if root == "data":
        if len(ref.subject) < 3:
            return []
        address = f"data.{ref.subject[1]}.{ref.subject[2]}"
    else:
        if len(ref.subject) < 2:
            return []
        address = f"{ref.subject[0]}.{ref.subject[1]}"
    resource = m.resources.get(address)
    if resource is None:
        return []
    schema = info.schemas.get(address)
    phases = _phases(resource, schema)
    if depends_on:
        return [p + address] + [phase_node(p + address, ph) for ph in phases]
    steps = list(ref.remaining)
    if steps and (resource.count is not None or resource.for_each is not None):
        steps = steps[1:]
    if steps and isinstance(steps[0], str):
        phase = phase_of(schema, steps[0])
        if phase:
            return [phase_node(p + address, phase)]
    return [p + address]


def _own_nodes(info: ModuleInfo) -> Iterator[str]:
    """The nodes of one module itself (not of the modules it calls)."""
    p, m = info.prefix, info.module
    for address, resource in m.resources.items():
        yield p + address
        for phase in _phases(resource, info.schemas.get(address)):
            yield phase_node(p + address, phase)
    yield from (f"{p}local.{name}" for name in m.locals)
    yield from (f"{p}var.{name}" for name in m.variables)
    yield from (f"{p}output.{name}" for name in m.outputs)
    for name in m.module_calls:
        yield from (f"{p}module.{name}", f"{p}module.{name}.outputs")


def _resource_nodes(info: ModuleInfo) -> Iterator[str]:
    for address, resource in info.module.resources.items():
        yield info.prefix + address
        for phase in _phases(resource, info.schemas.get(address)):
            yield phase_node(info.prefix + address, phase)
    for child in info.children.values():
        yield from _resource_nodes(child)


def cycle_diagnostics(cg: ConfigGraph) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for members in cg.graph.cycles():
        shown = [m for m in members if cg.graph.data(m).get("kind") != "module_outputs"] or members
        lines = []
        for m in shown:
            pos = cg.positions.get(m)
            where = f"{_shown(pos.file)}:{pos.line}" if pos else "(no position)"
            lines.append(f"  {m}  ({where})")
        first = cg.positions.get(shown[0])
        out.append(
            error(
                "cycle",
                "Cycle: " + ", ".join(shown),
                "These blocks refer to each other, so none of them can be evaluated first:\n"
                + "\n".join(lines)
                + "\nBreak the cycle by removing one of the references or depends_on entries "
                "(for example, pass a value through a variable or a local that does not depend on the others).",
                range=first.range() if first else None,
            )
        )
    return out


def _shown(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel

"""Make a plan: walk the configuration graph in order, evaluating and planning as it goes.

Pure apart from data-source reads (through the ``read_data`` callback, which may be
None: the read is then deferred to apply). For each node of the configuration graph
(``reconciler.graph.config_graph``) in dependency order:

* variables, locals, outputs and module outputs are evaluated into the module's
  ``Namespace``;
* a resource expands into instances (count/for_each); each instance's body is
  evaluated, checked against its schema with the real values, and planned
  (``reconciler.plan.diff.decide``). A resource with phases (a vault's key assignment)
  is evaluated without its phase blocks first, so grants can refer to the vault's
  identity, and planned whole at its phase node;
* data sources are read now when their configuration is known, else at apply.

Sensitive values travel as marks (``reconciler.values.Sensitive``): sensitive variables
are marked when they enter the namespace, a resource's value is marked at its sensitive
paths (``reconciler.plan.sensitivity``) when it is registered, and changes and outputs
leave the walk as plain values with the paths that were marked.

What is left in state but not in the configuration is planned for deletion. The
provider's domain rules then judge the whole plan and add their ordering edges.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from providers import validation
from providers.base import Clock, PlannedInstance, PlanRulesRequest
from providers.schema import Attribute, BlockSchema, ResourceSchema
from reconciler import providers_registry as registry
from reconciler.addresses import (
    IndexKey,
    InstanceAddress,
    Mode,
    ModulePath,
    ModuleStep,
    Node,
    ResourceAddress,
    format_module,
    parse_address,
)
from reconciler.checks.sites import phase_node
from reconciler.config import ast
from reconciler.config.evaluator import EvalError, MapScope, evaluate
from reconciler.config.expand import EvaluatedBody, evaluate_body
from reconciler.config.expression_values import expression_values
from reconciler.config.functions_time import set_plan_timestamp
from reconciler.config.model import Module, Resource, Validation
from reconciler.config.references import references
from reconciler.config.type_exprs import parse_type
from reconciler.config.types import ConversionError, convert
from reconciler.config.variables import check_validation, declaration_range, tests_only_variables
from reconciler.diagnostic_places import placed
from reconciler.diagnostics import Diagnostic, Severity, SourceRange, error, warning
from reconciler.graph.config_graph import ModuleInfo, build_config_graph
from reconciler.moves_check import Declared, check_moves
from reconciler.plan.assemble import (
    config_digest,
    dedupe,
    expression_references,
    only_targets,
    path_of,
    planned_instance,
    references_of,
    references_through_keys,
    rule_edges,
    split_private,
    targets_address,
    with_rule_dependencies,
)
from reconciler.plan.diff import InstanceRequest, decide, proposed_after
from reconciler.plan.expansion import Instance, collect, expand
from reconciler.plan.forgotten import forgotten_addresses, forgotten_warning, is_forgotten
from reconciler.plan.model import Action, OutputChange, Plan, Reason, ResourceChange
from reconciler.plan.module_instances import ModuleInstances, parent_and_name, static_prefix
from reconciler.plan.phases import apply_phases, block_name, phases_in, with_prior_phases, without_blocks
from reconciler.plan.scope import Namespace, PlanScope
from reconciler.plan.sensitivity import hide_in, object_paths, output_sensitivity
from reconciler.plan.targeting import targeted_nodes, targeting_warning
from reconciler.plan.triggers import instance_triggers
from reconciler.reference_shapes import resolver
from reconciler.value_shapes import Resolve
from reconciler.values import (
    UNKNOWN,
    is_wholly_known,
    mark_if,
    mark_paths,
    redact,
    unmark_deep,
    unmark_paths,
)
from state.model import InstanceState, ResourceState, terraform_attributes

if TYPE_CHECKING:  # the module tree's loader imports the planner's helpers
    from reconciler.config.modules import ModuleTree

log = logging.getLogger(__name__)

ReadData = Callable[[str, dict[str, Any], str], dict[str, Any]]  # (type, config, instance address)


@dataclass(frozen=True)
class PlanOptions:
    destroy: bool = False
    refresh_only: bool = False
    targets: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()


@dataclass
class PlanRequest:
    root_dir: Path
    tree: Any  # reconciler.config.modules.ModuleTree
    info: ModuleInfo
    variables: dict[str, Any]
    state: Any  # state.model.State
    refreshed: dict[str, dict[str, Any] | None] | None  # None: refresh disabled
    read_data: ReadData | None = None
    plan_rules: Callable[[PlanRulesRequest], Any] | None = None
    # the providers plan_rules asks (None: all): only their instances are handed to it, so a plan of
    # providers without rules builds no PlannedInstance for them
    plan_rule_providers: frozenset[str] | None = None
    options: PlanOptions = field(default_factory=PlanOptions)
    cloud: str = ""
    sensitive_variables: frozenset[str] = frozenset()
    variable_ranges: dict[str, SourceRange] = field(default_factory=dict)  # set in a .tfvars file
    clock: Clock = field(default_factory=Clock)  # the plan is judged at clock.now(), read once


CHECK_FAILED = "check_failed"  # a check block's assertion, false: a warning, never a refusal


def instance_address(path: ModulePath, res: Resource, key: Any) -> str:
    """The text of one instance of ``res`` in the module instance ``path``."""
    return str(InstanceAddress(ResourceAddress(res.mode, res.type, res.name, path), key))


def _instance_of(path: ModulePath, res: Resource, key: Any) -> InstanceAddress:
    """One instance of ``res`` in the module instance ``path``, as an address object (its text
    is ``str()`` of it): the walk hands it on so the text is never parsed back."""
    return InstanceAddress(ResourceAddress(res.mode, res.type, res.name, path), key)


# ``var.NAME`` / ``local.NAME``, and ``module.CALL[KEY].OUTPUT`` (KEY a number or a quoted string)
_NAMED_VALUE = re.compile(r"(var|local)\.([A-Za-z_][\w-]*)")
_MODULE_OUTPUT = re.compile(r'module\.([A-Za-z_][\w-]*)(?:\[(\d+|"(?:[^"\\]|\\.)*")\])?\.([A-Za-z_][\w-]*)')


def _key_bindings(count: ast.Expr | None, for_each: ast.Expr | None, key: Any) -> dict[str, Any]:
    """What ``each.key`` / ``count.index`` are in the instance ``key`` of a block."""
    if for_each is not None:
        return {"each.key": key}
    return {"count.index": key} if count is not None else {}


_TRANSFORMS: dict[int, tuple[BlockSchema, tuple[bool, bool]]] = {}  # id(block) -> (block, flags)


def _transforms(block: BlockSchema) -> tuple[bool, bool]:
    """Whether ``normalize_block`` and ``apply_defaults`` can change a body of ``block`` (an enum
    written in any case, an optional attribute with a default, here or in a nested block),
    looked up once per schema: most have neither, and each planned object would be copied
    twice more for nothing."""
    cached = _TRANSFORMS.get(id(block))
    if cached is None or cached[0] is not block:
        attrs = list(_all_attributes(block))
        folds = any(a.enum is not None and a.case_insensitive for a in attrs)
        defaults = any(a.default is not None and not a.required for a in attrs)
        cached = _TRANSFORMS[id(block)] = (block, (folds, defaults))
    return cached[1]


def _all_attributes(block: BlockSchema) -> Iterator[Attribute]:
    yield from block.attributes
    for nested in block.blocks:
        yield from _all_attributes(nested.block)


def module_text(path: ModulePath) -> str:
    """``module.a["x"]`` for a module instance, ``""`` for the root."""
    return format_module(path)


def _text_prefix(path: ModulePath) -> str:
    """A module instance's address followed by a dot (``""`` for the root), to put before a reference."""
    return f"{format_module(path)}." if path else ""


def resource_text(address: str) -> str:
    """The resource an instance address belongs to, as text (the address without its key)."""
    return str(parse_address(address).resource)


class Walker:
    def __init__(self, req: PlanRequest):
        self.req = req
        self.cg = build_config_graph(req.info)
        self.infos: dict[str, ModuleInfo] = {}  # static prefix ("module.a.") -> the module as written
        self.trees: dict[str, Any] = {}
        self.modules = ModuleInstances()
        self.reach: ModulePath = ()  # evaluate only module instances under this one (see _paths)
        self.ns: dict[ModulePath, Namespace] = {}  # module instance -> its names
        self._index(req.info, req.tree)
        self.diags: list[Diagnostic] = []
        self.changes: dict[str, ResourceChange] = {}
        self.by_base: dict[str, list[str]] = {}  # resource address -> instance addresses
        self.by_config: dict[str, list[str]] = {}  # configuration node of a resource -> instance addresses
        self._parsed: dict[str, InstanceAddress] = {}  # instance address text -> the address (of changes)
        self._ancestors: dict[str, set[str]] = {}
        self._deps_of: dict[tuple[str, str], tuple[Node, ...]] = {}  # (config node, own resource) -> deps
        self._nodes_of: dict[str, list[Node]] = {}  # config node -> the graph nodes of its instances
        # address -> its instance in the prior state (the state is not changed during a walk, and each
        # instance is looked up several times)
        self._prior_insts: dict[str, InstanceState | None] = {}
        self._prior_ress: dict[str, ResourceState | None] = {}  # address -> its resource there
        self._declared: dict[str, set[str]] = {}
        self._resolvers: dict[Any, Resolve] = {}  # module instance / static prefix -> its references
        self._forced_cbd: set[tuple[str, str]] | None = None  # see create_before_destroy()
        self.instances: dict[tuple[ModulePath, str], list[Instance]] = {}  # (module, address) -> instances
        # configuration nodes not evaluated: a module input its validation refused, and what depends
        # on it (terraform evaluates nothing downstream of an error, so no error follows from it)
        self._halted: set[str] = set()
        # (module instance, resource) whose instances are not known: count / for_each failed, or not
        # evaluated; what state holds of them is not an orphan to destroy
        self._unexpanded: set[tuple[ModulePath, str]] = set()
        # what the nodes a targeted plan leaves out said while they were planned (see run)
        self._outside: list[Diagnostic] = []
        self.pending_phase: dict[tuple[ModulePath, str], dict[Any, tuple[EvaluatedBody, PlanScope]]] = {}
        self.outputs: dict[ModulePath, dict[str, Any]] = {}  # module instance -> name -> value
        self.data_values: dict[str, dict[str, Any]] = {}
        self.data_paths: dict[str, tuple[tuple[Any, ...], ...]] = {}
        self.now = datetime.fromtimestamp(req.clock.now(), UTC)
        # plantimestamp() is this plan's time, the one its JSON form records
        set_plan_timestamp(self.now.strftime("%Y-%m-%dT%H:%M:%SZ"))

    def _index(self, info: ModuleInfo, tree: ModuleTree) -> None:
        self.infos[info.prefix] = info
        self.trees[info.prefix] = tree
        for name, child in info.children.items():
            self._index(child, tree.children[name])

    def _shapes(self, path: ModulePath) -> Resolve:
        """What the references written in a module instance are (lists, sets, maps), for for_each's
        check (asked once per resource block: kept per instance, made once per module)."""
        found = self._resolvers.get(path)
        if found is None:
            prefix = static_prefix(path)
            info = self.infos[prefix]
            found = self._resolvers.get(prefix) or resolver(
                info.module, root=not prefix, children=info.children
            )
            self._resolvers[path] = self._resolvers[prefix] = found
        return found

    def create_before_destroy(self, prefix: str, res: Resource) -> bool:
        """Whether a replacement of ``res`` (in the module at ``prefix``) creates the new object
        first: its own lifecycle says so, or a resource that depends on it, directly or through
        others, has create_before_destroy - as terraform forces it on such dependencies (its
        ForcedCBDTransformer: the other order would be a cycle in the apply)."""
        if res.lifecycle.create_before_destroy:
            return True
        if self._forced_cbd is None:
            g = self.cg.graph
            forced: set[tuple[str, str]] = set()
            for node in g.nodes():
                data = g.data(node)
                if data.get("kind") != "resource":
                    continue
                declared = self.infos[data["prefix"]].module.resources.get(data["name"])
                if declared is None or not declared.lifecycle.create_before_destroy:
                    continue
                for above in g.ancestors(node):
                    upper = g.data(above)
                    if upper.get("kind") in ("resource", "phase"):
                        forced.add((upper["prefix"], upper["name"]))
            self._forced_cbd = forced
        return (prefix, res.address) in self._forced_cbd

    def _paths(self, prefix: str) -> list[ModulePath]:
        """The instances of the module at ``prefix`` to evaluate now: all of them while planning;
        at apply, those inside ``reach`` (the module instance a step is in, as far as it goes)."""
        reach = self.reach
        return [p for p in self.modules.of(prefix) if p[: len(reach)] == reach]

    def namespace(self, path: ModulePath) -> Namespace:
        """The names of one module instance, made on first use."""
        ns = self.ns.get(path)
        if ns is None:
            tree = self.trees[static_prefix(path)]
            ns = self.ns[path] = Namespace(
                _text_prefix(path), tree.source_dir, self.req.root_dir, shapes=self._shapes(path)
            )
        return ns

    # ------------------------------------------------------------------ driver

    def run(self) -> Plan:
        handlers = {
            "variable": self._variable,
            "local": self._local,
            "resource": self._resource,
            "phase": self._phase,
            "output": self._output,
            "module_outputs": self._module_outputs,
            "module": self._module_call,
            "check": self._check,
        }
        graph = self.cg.graph
        opts = self.req.options
        needed = targeted_nodes(graph, opts.targets) if opts.targets and not opts.destroy else None
        for node in graph.order():
            data = graph.data(node)
            if self._halted and any(above in self._halted for above in graph.g.predecessors(node)):
                self._halt(node, data)
                continue
            handler = handlers.get(str(data.get("kind")))
            if handler is None:
                continue
            if needed is None or node in needed or data.get("kind") == "variable":
                handler(node, data)
                continue
            # outside the targets: terraform 1.11 doesn't evaluate it, so nothing it would say (an
            # unknown count, a failing reference) is this plan's. It is still planned, so the ordering
            # rules can pull in what a target needs; its objects are then left as they are.
            said = len(self.diags)
            handler(node, data)
            self._outside.extend(self.diags[said:])
            del self.diags[said:]
        self._orphans()
        self._attach_dependencies()
        return self._finish()

    def _halt(self, node: str, data: dict[str, Any]) -> None:
        """Leave ``node`` unevaluated; a resource's objects in state stay as they are."""
        self._halted.add(node)
        if data.get("kind") == "resource":
            self._unexpanded.update((path, data["name"]) for path in self._paths(data["prefix"]))

    def _scope(self, path: ModulePath, bindings: dict[str, Any] | None = None) -> PlanScope:
        prefix = static_prefix(path)
        declared = self._declared.get(prefix)
        if declared is None:
            info = self.infos[prefix]
            declared = {r.type for r in info.module.resources.values() if r.mode is Mode.MANAGED}
            self._declared[prefix] = declared
        return PlanScope(self.namespace(path), bindings, declared)

    def _eval(self, expr: ast.Expr, scope: PlanScope) -> Any:
        try:
            return evaluate(expr, scope)
        except EvalError as exc:
            self.diags.extend(exc.diagnostics)
            return UNKNOWN

    # ------------------------------------------------------------------ values

    def _variable(self, node: str, data: dict[str, Any]) -> None:
        prefix, name = data["prefix"], data["name"]
        if prefix == "":
            value = self.req.variables.get(name, UNKNOWN)
            self.namespace(()).vars[name] = mark_if(value, name in self.req.sensitive_variables)
            declared = self.infos[""].module.variables[name]
            for rule in declared.validations:
                if not tests_only_variables(rule):  # the others were checked as variables were read
                    where = self.req.variable_ranges.get(name) or declaration_range(declared.pos, name)
                    secret = self.req.sensitive_variables
                    problem = check_validation(rule, self._scope(()), name, secret, where=where)
                    if problem is not None:
                        self.diags.append(problem)
                        self._halted.add(node)
            return
        for path in self._paths(prefix):
            self._module_variable(prefix, path, name)

    def _module_variable(self, prefix: str, path: ModulePath, name: str) -> None:
        """One input of one module instance: the call's argument (with that instance's each/count)."""
        ns = self.namespace(path)
        parent_prefix, call_name = parent_and_name(prefix)
        call = self.infos[parent_prefix].module.module_calls[call_name]
        var = self.infos[prefix].module.variables[name]
        arg = call.arguments.get(name)
        if arg is not None:
            value = self._eval(arg.expr, self._scope(path[:-1], self.modules.bindings.get(path)))
        elif var.default_expr is not None:
            value = self._eval(var.default_expr, self._scope(path))
        else:
            value = None
        plain, marked = unmark_paths(value)
        if var.type_expr is not None and plain is not UNKNOWN:
            type_, tdiags = parse_type(var.type_expr)
            self.diags.extend(tdiags)
            if type_ is not None:
                try:
                    value = mark_paths(convert(plain, type_), marked)
                except ConversionError as exc:
                    self.diags.append(
                        error(
                            "variables",
                            f'Invalid value for module variable "{name}"',
                            redact(str(exc), value),
                            range=(arg.pos if arg else var.pos).range(),
                        )
                    )
                    value = UNKNOWN
        ns.vars[name] = mark_if(value, var.sensitive)
        if var.validations and not self._check_module_input(prefix, path, name, call_name, arg):
            self._halted.add(f"{prefix}var.{name}")

    def _check_module_input(
        self, prefix: str, path: ModulePath, name: str, call_name: str, arg: Any | None
    ) -> bool:
        """The module's validation rules for one input, against the value this instance's call
        gives it (terraform checks them per module instance, pointing at the call's argument). A
        rule naming an input not known yet waits, as an unknown result does. False when one refuses it."""
        declared = self.infos[prefix].module.variables
        known = dict(self.namespace(path).vars)  # marked: an error while checking prints no secret
        secret = frozenset(n for n, v in declared.items() if v.sensitive)
        where = arg.pos.range() if arg is not None else None
        for rule in declared[name].validations:
            named = {
                r.subject[1] for r in references(rule.condition) if r.subject[0] == "var" and r.subject[1:]
            }
            if not named <= set(known):
                continue
            # a rule that refers to more than the inputs reads them as this module instance has them
            scope = MapScope({"var": known}) if tests_only_variables(rule) else self._scope(path)
            problem = check_validation(rule, scope, name, secret, where=where)
            if problem is not None:
                # placed as terraform places it: in the module block that gave the value
                self.diags.append(
                    replace(problem, address=f'module "{call_name}"' if arg is not None else "")
                )
                return False
        return True

    def _local(self, node: str, data: dict[str, Any]) -> None:
        prefix, name = data["prefix"], data["name"]
        local = self.infos[prefix].module.locals[name]
        for path in self._paths(prefix):
            self.namespace(path).locals[name] = self._eval(local.expr, self._scope(path))

    def _output(self, node: str, data: dict[str, Any]) -> None:
        prefix, name = data["prefix"], data["name"]
        output = self.infos[prefix].module.outputs[name]
        if self.req.options.destroy:
            return
        for path in self._paths(prefix):
            scope = self._scope(path)
            self._conditions(output.preconditions, scope, "", "Module output value precondition", path)
            value = self._eval(output.value, scope)
            self.outputs.setdefault(path, {})[name] = mark_if(value, output.sensitive)

    def _module_call(self, node: str, data: dict[str, Any]) -> None:
        """Work out a call's instances (count/for_each) in each instance of the calling module."""
        prefix, name = data["prefix"], data["name"]
        child = f"{prefix}module.{name}."
        if child not in self.infos or self.req.options.destroy:
            return  # the module did not load (its error is reported), or everything in state goes
        call = self.infos[prefix].module.module_calls[name]
        self.modules.paths.setdefault(child, [])
        for caller in self._paths(prefix):
            instances, diags = expand(call.count, call.for_each, self._scope(caller), self._shapes(caller))
            self.diags.extend(diags)
            self.modules.add(child, caller, name, None if diags else instances)

    def _module_outputs(self, node: str, data: dict[str, Any]) -> None:
        prefix, name = data["prefix"], data["name"]
        call = self.infos[prefix].module.module_calls[name]
        for caller in self._paths(prefix):
            self.namespace(caller).modules[name] = self.modules.outputs_value(call, caller, self.outputs)

    # ------------------------------------------------------------------ resources

    def _resource(self, node: str, data: dict[str, Any]) -> None:
        prefix, address = data["prefix"], data["name"]
        res = self.infos[prefix].module.resources[address]
        if self.req.options.destroy:
            if res.mode is Mode.DATA:
                # not read for a destroy: a local made of it is unknown, as a managed object's is
                for path in self._paths(prefix):
                    self.namespace(path).set_resource(res.type, res.name, UNKNOWN, data=True)
            return
        rs = registry.resource_schema(res.mode, res.type)
        if rs is None:
            return  # validate reported it
        for path in self._paths(prefix):
            self._resource_in(path, res, rs)

    def _resource_in(self, path: ModulePath, res: Resource, rs: ResourceSchema) -> None:
        """Expand and plan one resource block in one module instance."""
        scope = self._scope(path)
        instances, diags = expand(res.count, res.for_each, scope, self._shapes(path))
        self.diags.extend(diags)
        if any(d.is_error for d in diags):
            self._unexpanded.add((path, res.address))
        self.instances[(path, res.address)] = instances
        phases = phases_in(res, rs)
        values: dict[Any, Any] = {}
        for inst in instances:
            iscope = scope.child(inst.bindings)
            body = without_blocks(res.body, phases) if phases else res.body
            ev = evaluate_body(body, rs.block, iscope)
            self.diags.extend(ev.diagnostics)
            if res.mode is Mode.DATA:
                values[inst.key] = self._data_instance(path, res, rs, inst, ev)
            elif phases:
                self.pending_phase.setdefault((path, res.address), {})[inst.key] = (ev, iscope)
                values[inst.key] = self._before_phases(path, res, rs, inst, ev, phases)
            else:
                values[inst.key] = self._plan_instance(path, res, rs, inst, ev)
        self._register(path, res, instances, values)

    def _phase(self, node: str, data: dict[str, Any]) -> None:
        prefix, address = data["prefix"], data["name"]
        res = self.infos[prefix].module.resources[address]
        if self.req.options.destroy:
            return
        rs = registry.resource_schema(res.mode, res.type)
        if rs is None:  # a phase node comes from a schema that marks one
            return
        for path in self._paths(prefix):
            self._phase_in(path, res, rs)

    def _phase_in(self, path: ModulePath, res: Resource, rs: ResourceSchema) -> None:
        pending = self.pending_phase.get((path, res.address))
        if not pending:
            return
        phases = phases_in(res, rs)
        phase_body = ast.Body((), tuple(b for b in res.body.blocks if block_name(b) in phases), res.body.pos)
        values: dict[Any, Any] = {}
        instances = self.instances.get((path, res.address), [])
        for inst in instances:
            if inst.key not in pending:
                continue
            ev, iscope = pending[inst.key]
            phase_ev = evaluate_body(phase_body, rs.block, iscope)
            self.diags.extend(phase_ev.diagnostics)
            merged = EvaluatedBody(
                {**ev.value, **phase_ev.value},
                {**ev.positions, **phase_ev.positions},
                [],
                ev.samples + phase_ev.samples,
                ev.sensitive_paths + phase_ev.sensitive_paths,
            )
            values[inst.key] = self._plan_instance(path, res, rs, inst, merged)
        self._register(path, res, instances, values)
        del self.pending_phase[(path, res.address)]

    def _add(self, change: ResourceChange, parsed: InstanceAddress | None = None) -> None:
        if change.address not in self.changes:
            if parsed is None:
                parsed = parse_address(change.address)
            self._parsed[change.address] = parsed
            resource = parsed.resource
            self.by_base.setdefault(str(resource), []).append(change.address)
            self.by_config.setdefault(_config_node(resource), []).append(change.address)
        self.changes[change.address] = change

    def _register(
        self, path: ModulePath, res: Resource, instances: list[Instance], values: dict[str, Any]
    ) -> None:
        if self.req.options.refresh_only and res.mode is Mode.MANAGED:
            instances, values = self._as_refreshed(path, res)
        value = collect(instances, values, counted=res.count is not None, each=res.for_each is not None)
        self.namespace(path).set_resource(res.type, res.name, value, data=res.mode is Mode.DATA)

    def _as_refreshed(self, path: ModulePath, res: Resource) -> tuple[list[Instance], dict[Any, Any]]:
        """A resource as a refresh-only plan shows it to what refers to it (outputs, say): the
        instances state holds, as refreshed - nothing is planned, so nothing new or changed (an
        index missing in between is unknown: ``collect``)."""
        recorded = self.req.state.resource(_text_prefix(path) + res.address)
        instances: list[Instance] = []
        values: dict[Any, Any] = {}
        for inst in recorded.instances if recorded is not None else ():
            address = instance_address(path, res, inst.index_key)
            read = self._prior(address)
            if read is None:
                continue
            value = terraform_attributes(read)  # the provider's own facts stay its
            instances.append(Instance(inst.index_key, {}))
            paths = self._prior_paths(address)
            values[inst.index_key] = mark_paths(value, paths) if paths else value
        return instances, values

    def _prior_instance(self, address: str, parsed: InstanceAddress | None = None) -> InstanceState | None:
        """The instance at ``address`` in the prior state (``parsed``: the same address as an
        object, when the caller has it, so the text needn't be parsed)."""
        try:
            return self._prior_insts[address]
        except KeyError:
            # State.instance, keeping the resource too (a request asks for it next)
            iaddr = parsed if parsed is not None else parse_address(address)
            res: ResourceState | None = self.req.state.resource(iaddr.resource)
            inst = None if res is None else res.instance(iaddr.key)
            self._prior_insts[address] = inst
            self._prior_ress[address] = res
            return inst

    def _prior(self, address: str) -> dict[str, Any] | None:
        if self.req.refreshed is not None and address in self.req.refreshed:
            return self.req.refreshed[address]
        inst = self._prior_instance(address)
        if inst is None or (inst.pending is not None and not inst.attributes):
            return None  # only an intent was recorded: nothing is known to exist
        return {**inst.attributes, **inst.private} if inst.private else dict(inst.attributes)

    def _config_value(self, rs: ResourceSchema, ev: EvaluatedBody, address: str) -> dict[str, Any]:
        value = validation.coerce_block(rs.block, ev.value)
        folds, defaults = _transforms(rs.block)
        if folds:
            value = validation.normalize_block(rs.block, value)
        found = [
            d.with_address(address)
            for d in validation.check_block(rs.block, value, where=ev.where, address=address)
            if d.is_error and d.code != validation.Code.UNRECONCILED_ARGUMENT.value
        ]
        self.diags.extend(hide_in(found, value, object_paths(rs.block, value, ev.sensitive_paths)))
        # coerce_block's result is already a copy of the evaluated body: a schema without
        # defaults leaves it as it is
        defaulted: dict[str, Any] = validation.apply_defaults(rs.block, value) if defaults else value
        return defaulted

    def _prior_paths(self, address: str) -> tuple[Any, ...]:
        inst = self._prior_instance(address)
        return tuple(tuple(p) for p in inst.sensitive_paths) if inst is not None else ()

    def _before_phases(
        self,
        path: ModulePath,
        res: Resource,
        rs: ResourceSchema,
        inst: Instance,
        ev: EvaluatedBody,
        phases: set[str],
    ) -> Any:
        """What others see of an object before its later phases are planned (grants read a vault's
        identity): planned with the phases as they are now, so a replacement shows its new
        identity as unknown and the grant that names it is planned again."""
        address = instance_address(path, res, inst.key)
        prior = self._prior(address)
        config = validation.apply_defaults(
            rs.block,
            validation.normalize_block(
                rs.block, validation.coerce_block(rs.block, with_prior_phases(ev.value, prior, phases))
            ),
        )
        decision = decide(self._request(path, res, rs, inst, address, config))
        if decision.after is None:
            return UNKNOWN
        return mark_paths(decision.after, object_paths(rs.block, decision.after, ev.sensitive_paths))

    def _request(
        self,
        path: ModulePath,
        res: Resource,
        rs: ResourceSchema,
        inst: Instance,
        address: str,
        config: dict[str, Any],
        parsed: InstanceAddress | None = None,
        cbd: bool | None = None,
    ) -> InstanceRequest:
        prior_inst = self._prior_instance(address, parsed)
        prior_res = self._prior_ress[address] if prior_inst is not None else None
        lc = res.lifecycle
        return InstanceRequest(
            schema=rs,
            address=address,
            config=config,
            prior=self._prior(address),
            tainted=bool(prior_inst and prior_inst.tainted),
            replace_requested=address in self.req.options.replace,
            replace_triggered=self._triggered(path, res, inst),
            create_before_destroy=self.create_before_destroy(static_prefix(path), res)
            if cbd is None
            else cbd,
            ignore_changes=tuple(p for p in (path_of(e) for e in lc.ignore_changes) if p)
            if lc.ignore_changes
            else (),
            ignore_all_changes=lc.ignore_all_changes,
            prevent_destroy=lc.prevent_destroy or bool(prior_res and prior_res.prevent_destroy),
        )

    def _conditions(
        self,
        conditions: Iterable[Validation],
        scope: PlanScope,
        address: str,
        what: str,
        path: ModulePath,
        severity: Severity = Severity.ERROR,
    ) -> None:
        """A condition known to be false is an error (or a warning, at ``severity``) with its own
        message; unknown waits for apply."""
        for v in conditions:
            value, _ = unmark_deep(self._eval(v.condition, scope))
            if value is False:
                message, marked = unmark_deep(self._eval(v.error_message, scope))
                if marked:  # Terraform refuses to print an error message built from secrets
                    message = "The error message refers to sensitive values, so it is not shown."
                failed = error(
                    "condition_failed",
                    f"{what} failed for {address}" if address else f"{what} failed",
                    message if isinstance(message, str) else "The condition is false.",
                    address=address or None,
                    range=v.condition.pos.range(),
                )
                values = expression_values(v.condition, partial(evaluate, scope=scope), self._shapes(path))
                self.diags.append(replace(failed, values=values, severity=severity))

    def _check(self, node: str, data: dict[str, Any]) -> None:
        """A check block's assertions in each instance of its module: one known to be false is a
        warning (terraform's "Check block assertion failed"), one known only after apply waits."""
        prefix, name = data["prefix"], data["name"]
        check = self.infos[prefix].module.checks[name]
        for path in self._paths(prefix):
            scope = self._scope(path)
            for v in check.asserts:
                try:
                    value, _ = unmark_deep(evaluate(v.condition, scope))
                    if value is not False:
                        continue
                    message, marked = unmark_deep(evaluate(v.error_message, scope))
                except EvalError as exc:
                    self.diags.append(replace(exc.diagnostic, severity=Severity.WARNING))
                    continue
                if marked:
                    message = "The error message refers to sensitive values, so it is not shown."
                failed = warning(
                    CHECK_FAILED,
                    "Check block assertion failed",
                    message if isinstance(message, str) else "The condition is false.",
                    address=f'check "{name}"',
                    range=v.condition.pos.range(),
                )
                values = expression_values(v.condition, partial(evaluate, scope=scope), self._shapes(path))
                self.diags.append(replace(failed, values=values))

    def _plan_instance(
        self, path: ModulePath, res: Resource, rs: ResourceSchema, inst: Instance, ev: EvaluatedBody
    ) -> Any:
        parsed = _instance_of(path, res, inst.key)
        address = str(parsed)
        if res.lifecycle.preconditions:
            self._conditions(
                res.lifecycle.preconditions,
                self._scope(path, inst.bindings),
                address,
                "Resource precondition",
                path,
                self._condition_severity(),
            )
        config = self._config_value(rs, ev, address)
        lc = res.lifecycle
        cbd = self.create_before_destroy(static_prefix(path), res)
        request = self._request(path, res, rs, inst, address, config, parsed, cbd)
        decision = decide(request)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "plan: %s %s (%s; changed %s)",
                address,
                decision.action.value,
                decision.reason.name,
                decision.changed,
            )
        after_paths = object_paths(rs.block, decision.after, ev.sensitive_paths)
        # the request's copy of the prior object (planning reads it, never changes it)
        before, private = split_private(request.prior, rs)
        before_paths = object_paths(rs.block, before, self._prior_paths(address))
        found = [d.with_address(address).with_range(res.pos.range()) for d in decision.diagnostics]
        self.diags.extend(hide_in(hide_in(found, decision.after, after_paths), before, before_paths))
        self._add(
            ResourceChange(
                address=address,
                mode=Mode.MANAGED,
                type=res.type,
                name=res.name,
                index=inst.key,
                module=module_text(path),
                provider=res.provider_name,
                action=decision.action,
                before=before,
                after=decision.after,
                replace_paths=decision.replace_paths,
                reason=decision.reason,
                sensitive_paths=after_paths,
                before_sensitive_paths=before_paths,
                phases=apply_phases(res, rs, decision, before),
                prevent_destroy=lc.prevent_destroy,
                create_before_destroy=cbd,
                changed_attributes=tuple(sorted({str(p[0]) for p in decision.changed})),
                config=config,
                references=references_of(res, _text_prefix(path)),
                rule_references=self._rule_references(res, path, inst.key),
                private=private,
            ),
            parsed,
        )
        if lc.postconditions:
            if self.req.options.refresh_only:  # nothing is planned: self is the object as read
                self._postconditions(path, res, inst, address, before, before_paths)
            else:
                self._postconditions(path, res, inst, address, decision.after, after_paths)
        if decision.after is None:
            return UNKNOWN
        return mark_paths(decision.after, after_paths)

    def _postconditions(
        self,
        path: ModulePath,
        res: Resource,
        inst: Instance,
        address: str,
        value: dict[str, Any] | None,
        paths: tuple[Any, ...],
    ) -> None:
        """The resource's postconditions against its planned object (``self``), as terraform 1.11
        checks them while planning: one known to be false fails the plan - an unchanged object
        that no longer satisfies them included - and one that reads a value known only after
        apply waits for the apply. A refresh-only plan only warns, as terraform's does."""
        if value is None:
            return
        bindings = {**inst.bindings, "self": mark_paths(value, paths) if paths else value}
        conditions = res.lifecycle.postconditions
        scope = self._scope(path, bindings)
        self._conditions(
            conditions, scope, address, "Resource postcondition", path, self._condition_severity()
        )

    def _condition_severity(self) -> Severity:
        """A resource's pre- or postcondition that fails in a refresh-only plan only warns, as
        terraform 1.11's does: nothing is planned to change, the objects are only read."""
        return Severity.WARNING if self.req.options.refresh_only else Severity.ERROR

    def _rule_references(
        self, res: Resource, path: ModulePath, key: Any = None
    ) -> dict[str, tuple[str, ...]]:
        """References through computed keys, for an object whose provider has plan rules."""
        wanted = self.req.plan_rule_providers
        if wanted is not None and registry.provider_name_for_type(res.type) not in wanted:
            return {}
        found = references_through_keys(res, _text_prefix(path), _key_bindings(res.count, res.for_each, key))
        return {name: self._through_names(refs, path, frozenset()) for name, refs in found.items()}

    def _through_names(
        self, refs: tuple[str, ...], path: ModulePath, seen: frozenset[tuple[ModulePath, str]]
    ) -> tuple[str, ...]:
        """Each reference to an input variable, a local value or a module's output replaced by the
        references of what it is written from (the module call's argument, the local's expression,
        the output's value), so the rules see a key handed into a module (``key_id = var.key_id``)
        or an identity handed out of one (``module.team.principal_id``) as the object it is - and a
        plan that creates them in the same run is checked as a flat configuration is."""
        prefix = _text_prefix(path)
        out: list[str] = []
        for text in refs:
            source = self._named_source(path, text[len(prefix) :]) if text.startswith(prefix) else None
            if source is None:
                out.append(text)
                continue
            expr, at, name, bound = source
            if (at, name) in seen:
                continue  # a cycle is the configuration's error, reported where it is evaluated
            found = expression_references(expr, _text_prefix(at), bound)
            out += self._through_names(found, at, seen | {(at, name)})
        return tuple(dict.fromkeys(out))

    def _named_source(
        self, path: ModulePath, text: str
    ) -> tuple[ast.Expr, ModulePath, str, dict[str, Any]] | None:
        """What ``var.NAME``, ``local.NAME`` or ``module.CALL[KEY].OUTPUT`` (``text``, in module
        instance ``path``) is written from, the module instance it is written in, the name's own
        text, and what ``each.key`` / ``count.index`` are there (a module call's argument is
        written for one instance of the call); None for anything else, a root variable (the user
        sets it) and a module instance the text can't name (a computed key)."""
        module = self.infos[static_prefix(path)].module
        named = _NAMED_VALUE.match(text)
        if named is not None:
            root, name = named.group(1), named.group(2)
            if root == "local":
                local = module.locals.get(name)
                return (local.expr, path, f"local.{name}", {}) if local is not None else None
            if not path:
                return None
            parent_prefix, call_name = parent_and_name(static_prefix(path))
            call = self.infos[parent_prefix].module.module_calls.get(call_name)
            arg = call.arguments.get(name) if call is not None else None
            if call is None or arg is None:
                return None
            return arg.expr, path[:-1], f"var.{name}", _key_bindings(call.count, call.for_each, path[-1].key)
        output = _MODULE_OUTPUT.match(text)
        if output is None:
            return None
        call_name, raw_key, out_name = output.group(1), output.group(2), output.group(3)
        call = module.module_calls.get(call_name)
        if call is None or (raw_key is None) != (call.count is None and call.for_each is None):
            return None  # no such call, or which of its instances is meant is not written
        key = None if raw_key is None else (int(raw_key) if raw_key.isdigit() else json.loads(raw_key))
        child = (*path, ModuleStep(call_name, key))
        decl = self.infos[static_prefix(child)].module.outputs.get(out_name)
        return (decl.value, child, f"output.{out_name}", {}) if decl is not None else None

    def _triggered(self, path: ModulePath, res: Resource, inst: Instance) -> bool:
        prefix = _text_prefix(path)
        if not res.lifecycle.replace_triggered_by:
            return False
        scope = self._scope(path, inst.bindings)
        for ref in instance_triggers(res.lifecycle.replace_triggered_by, scope):
            if len(ref.subject) < 2:
                continue
            target = prefix + ".".join(ref.subject[:3] if ref.root == "data" else ref.subject[:2])
            # terraform_data.t[0] names an instance; what follows (.output) an attribute, whose
            # change alone triggers the replacement (terraform: a planned value unlike the prior)
            keyed = bool(ref.remaining) and ref.is_index(0)
            key = ref.remaining[0] if keyed else None
            attribute = tuple(ref.remaining[1:] if keyed else ref.remaining)
            for addr in self.by_base.get(target, ()):
                change = self.changes[addr]
                if keyed and parse_address(addr).key != key:
                    continue
                if not (change.action in (Action.UPDATE, Action.CREATE) or change.action.is_replace):
                    continue
                if not attribute or _value_changes(change.before, change.after, attribute):
                    return True
        return False

    def _data_instance(
        self, path: ModulePath, res: Resource, rs: ResourceSchema, inst: Instance, ev: EvaluatedBody
    ) -> Any:
        address = instance_address(path, res, inst.key)
        if res.lifecycle.preconditions:
            scope = self._scope(path, inst.bindings)
            what, severity = "Resource precondition", self._condition_severity()
            self._conditions(res.lifecycle.preconditions, scope, address, what, path, severity)
        config = self._config_value(rs, ev, address)
        if (
            self.req.read_data is not None
            and is_wholly_known(config)
            and not self._waits_on_changes(path, res)
        ):
            try:
                value = self.req.read_data(res.type, config, address)
            except Exception as exc:  # a provider error is a diagnostic, never a traceback
                failed = (warning if res.check else error)(  # scoped to a check: it only warns
                    getattr(exc, "code", "") or "data_source",
                    f"Reading {address} failed",
                    getattr(exc, "message", str(exc)),
                    address=address,
                    range=res.pos.range(),
                )
                # the message may quote an argument the lookup used: one built from a sensitive value
                # is hidden
                self.diags.extend(
                    hide_in([failed], config, object_paths(rs.block, config, ev.sensitive_paths))
                )
                return UNKNOWN
            self.data_values[address] = value
            paths = object_paths(rs.block, value, ev.sensitive_paths)
            if paths:
                self.data_paths[address] = paths
            if res.lifecycle.postconditions:  # judged on what was read, as a resource's on its plan
                self._postconditions(path, res, inst, address, value, paths)
            return mark_paths(value, paths)
        after = proposed_after(rs.block, config, None)
        after_paths = object_paths(rs.block, after, ev.sensitive_paths)
        self._add(
            ResourceChange(
                address=address,
                mode=Mode.DATA,
                type=res.type,
                name=res.name,
                index=inst.key,
                module=module_text(path),
                provider=res.provider_name,
                action=Action.READ,
                before=None,
                after=after,
                reason=Reason.READ_BECAUSE_CONFIG_UNKNOWN,
                config=config,
                references=references_of(res, _text_prefix(path)),
                rule_references=self._rule_references(res, path, inst.key),
                sensitive_paths=after_paths,
            )
        )
        return mark_paths(after, after_paths)

    def _waits_on_changes(self, path: ModulePath, res: Resource) -> bool:
        for dep in self._resource_ancestors(static_prefix(path) + res.address):
            for addr in self.by_config.get(self._config_resource(dep), ()):
                if self.changes[addr].action is not Action.NO_OP and _within_reach(
                    path, parse_address(addr).resource.module
                ):
                    return True
        return False

    # ------------------------------------------------------------------ orphans and ordering

    def _orphans(self) -> None:
        destroy = self.req.options.destroy
        # -destroy destroys them, as terraform's does; -refresh-only changes nothing in state but reads
        forgotten = () if destroy or self.req.options.refresh_only else forgotten_addresses(self.req.tree)
        for iaddr, rstate, istate in self.req.state.instances():
            address = str(iaddr)
            if rstate.mode.value != "managed" or address in self.changes:
                continue
            if (iaddr.resource.module, f"{rstate.type}.{rstate.name}") in self._unexpanded:
                continue  # its count / for_each failed: which instances it has is not known
            if forgotten and is_forgotten(iaddr.resource, forgotten):
                # out of state, left in the cloud: no provider call, and prevent_destroy doesn't apply
                self._orphan(iaddr, rstate, istate, Action.FORGET, Reason.DELETE_BECAUSE_NO_RESOURCE_CONFIG)
                continue
            prefix = static_prefix(iaddr.resource.module)
            base = f"{rstate.type}.{rstate.name}"
            res = self.infos[prefix].module.resources.get(base) if prefix in self.infos else None
            if destroy:
                reason = Reason.DELETE_BY_DESTROY
            elif res is not None and not self.modules.exists(iaddr.resource.module):
                reason = Reason.DELETE_BECAUSE_NO_MODULE
            elif res is None:
                reason = Reason.DELETE_BECAUSE_NO_RESOURCE_CONFIG
            elif _wrong_repetition(iaddr.key, res):
                reason = Reason.DELETE_BECAUSE_WRONG_REPETITION
            elif res.count is not None:
                reason = Reason.DELETE_BECAUSE_COUNT_INDEX
            else:
                reason = Reason.DELETE_BECAUSE_EACH_KEY
            rs = registry.resource_schema(Mode.MANAGED, rstate.type)
            protected = rstate.prevent_destroy or bool(res and res.lifecycle.prevent_destroy)
            if rs is not None:
                d = decide(
                    InstanceRequest(rs, address, None, self._prior(address), prevent_destroy=protected)
                )
                self.diags.extend(x.with_range(res.pos.range() if res else None) for x in d.diagnostics)
            self._orphan(iaddr, rstate, istate, Action.DELETE, reason, protected)

    def _orphan(
        self,
        iaddr: InstanceAddress,
        rstate: ResourceState,
        istate: InstanceState,
        action: Action,
        reason: Reason,
        protected: bool = False,
    ) -> None:
        """The change of an object in state that the configuration no longer declares: ``action``
        (deleted or forgotten), or nothing when the object is already gone."""
        address = str(iaddr)
        rs = registry.resource_schema(Mode.MANAGED, rstate.type)
        before, private = split_private(self._prior(address), rs)
        self._add(
            ResourceChange(
                address=address,
                mode=Mode.MANAGED,
                type=rstate.type,
                name=rstate.name,
                index=istate.index_key,
                module=rstate.module,
                provider=rstate.provider,
                action=action if before is not None else Action.NO_OP,
                before=before,
                after=None,
                reason=reason,
                prevent_destroy=protected,
                depends_on=tuple(Node(d) for d in istate.dependencies),
                private=private,
                before_sensitive_paths=object_paths(
                    rs.block if rs else None, before, self._prior_paths(address)
                ),
            ),
            iaddr,
        )

    def _resource_ancestors(self, node: str) -> set[str]:
        """The nearest resource and phase nodes ``node`` depends on, through any values between."""
        cached = self._ancestors.get(node)
        if cached is not None:
            return cached
        g = self.cg.graph.g
        if node not in g:
            return set()
        out: set[str] = set()
        stack = list(g.predecessors(node))
        seen: set[str] = set()
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            if g.nodes[n].get("kind") in ("resource", "phase"):
                out.add(n)
            else:
                stack.extend(g.predecessors(n))
        self._ancestors[node] = out
        return out

    def _config_resource(self, node: str) -> str:
        """The resource (prefix + address) a configuration graph node of a resource or phase is of."""
        data = self.cg.graph.data(node)
        return str(data["prefix"]) + str(data["name"])

    def _instance_nodes(self, node: str) -> list[Node]:
        """The graph nodes of every instance of a configuration graph node (a resource or a phase),
        worked out once per node as ``_instance_deps`` is (a node many others refer to, the root
        of a fan-out, is asked for by each of them)."""
        found = self._nodes_of.get(node)
        if found is None:
            phase = self.cg.graph.data(node).get("phase", "")
            parsed = self._parsed
            found = [Node(parsed[a], phase) for a in self.by_config.get(self._config_resource(node), ())]
            self._nodes_of[node] = found
        return found

    def _attach_dependencies(self) -> None:
        phases_by_type: dict[str, list[str]] = {}
        for address, change in list(self.changes.items()):
            if change.before is not None and change.after is None:
                continue  # orphans keep the dependencies recorded in state
            resource = self._parsed[address].resource
            path = resource.module
            config_base = _config_node(resource)
            deps = _reachable(path, self._instance_deps(config_base, config_base))
            phases = phases_by_type.get(change.type)
            if phases is None:
                phases = phases_by_type[change.type] = [p for p in self._phases_of(change) if p]
            phase_deps = {
                phase: _reachable(path, self._instance_deps(phase_node(config_base, phase), config_base))
                for phase in phases
            }
            if deps == change.depends_on and phase_deps == change.phase_depends_on:
                continue  # nothing to attach (a resource that refers to no other)
            self.changes[address] = _with_dependencies(change, deps, phase_deps)

    def _instance_deps(self, node: str, own: str) -> tuple[Node, ...]:
        """The instance nodes a configuration node waits for; every instance of a resource waits
        for the same ones, so they are worked out once per configuration node."""
        cached = self._deps_of.get((node, own))
        if cached is None:
            nodes = self._resource_ancestors(node)
            deps = {d for n in nodes if self._config_resource(n) != own for d in self._instance_nodes(n)}
            cached = self._deps_of[(node, own)] = tuple(sorted(deps, key=str))
        return cached

    def _phases_of(self, change: ResourceChange) -> list[str]:
        rs = registry.resource_schema(Mode.MANAGED, change.type)
        return [nb.name for nb in rs.block.blocks if nb.phase] if rs else []

    # ------------------------------------------------------------------ the plan

    def _configured_dependency(self, dependent: str, dependency: str) -> bool | None:
        """Whether the configuration makes ``dependent`` depend on ``dependency`` (references and
        depends_on, through values, phases and other objects alike); None when either isn't in it."""
        mine, theirs = (_config_node(self._parsed_address(a).resource) for a in (dependent, dependency))
        g = self.cg.graph.g
        if mine not in g or theirs not in g:
            return None
        seen: set[str] = set()
        stack = [mine]
        while stack:
            for n in self._resource_ancestors(stack.pop()):
                data = g.nodes[n]
                if n == theirs or (data.get("kind") == "phase" and data["prefix"] + data["name"] == theirs):
                    return True
                if n not in seen:
                    seen.add(n)
                    stack.append(n)
        return False

    def _finish(self) -> Plan:
        opts = self.req.options
        changes = [self.changes[a] for a in sorted(self.changes)]
        if opts.refresh_only:
            changes = [
                replace(c, action=Action.NO_OP, after=c.before, sensitive_paths=c.before_sensitive_paths)
                for c in changes
                if c.mode is Mode.MANAGED
            ]
        if opts.targets:
            if self.req.plan_rules is not None and not opts.refresh_only:
                # what a target needs includes what the ordering rules put before it (a vault's
                # key assignment needs its grant), so the rules' edges count when choosing
                whole = self.req.plan_rules(PlanRulesRequest(self._rule_instances(changes), now=self.now))
                changes = with_rule_dependencies(changes, rule_edges(changes, whole.edges, reasons=False))
            changes = only_targets(
                changes, opts.targets, destroy=opts.destroy, declared=self._configured_dependency
            )
            for target in opts.targets:
                if not any(targets_address(target, c.address) for c in changes):
                    self.diags.append(
                        warning(
                            "target_not_found",
                            f"-target {target} matches nothing",
                            "No resource or instance in the configuration or state has that address; check "
                            "the spelling (vaultform state list shows what state holds).",
                        )
                    )
            self.diags.append(targeting_warning())
        gone = [c.address for c in changes if c.action is Action.FORGET]
        if gone:
            self.diags.append(forgotten_warning(gone))
        plan = Plan(
            changes=changes,
            diagnostics=[],
            destroy=opts.destroy,
            refresh_only=opts.refresh_only,
            cloud=self.req.cloud,
            state_lineage=self.req.state.lineage,
            state_serial=self.req.state.serial,
            config_digest=config_digest(self.req.tree),
            variables={k: v for k, v in self.req.variables.items()},
            sensitive_variables=frozenset(self.req.sensitive_variables),
            timestamp=self.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            refreshed=dict(self.req.refreshed or {}),
            read_real_objects=self.req.refreshed is not None,
            data_values=dict(self.data_values),
            data_sensitive_paths=dict(self.data_paths),
        )
        # a targeted destroy leaves every root output as state holds it: terraform 1.11 plans no
        # change to them (the objects behind most still exist; the others wait for a full apply)
        plan.outputs = [] if opts.destroy and opts.targets else self._output_changes(opts)
        if opts.targets:  # as terraform's: only outputs made of targeted objects are planned
            targeted = {
                _config_node(self._parsed_address(c.address).resource) for c in changes if not c.untargeted
            }
            plan.outputs = [o for o in plan.outputs if self._made_of(f"output.{o.name}", targeted)]
        configured = Declared(
            {prefix: tree.module for prefix, tree in self.trees.items()},
            {prefix: self.modules.of(prefix) for prefix in self.trees},
            {(path, name): [inst.key for inst in insts] for (path, name), insts in self.instances.items()},
        )
        self.diags.extend(check_moves(configured))
        diags = list(self.diags)
        if opts.targets:  # what was judged of an object left out is not this plan's to say
            kept = {c.address for c in changes if not c.untargeted}
            diags = [
                d for d in diags if d.address is None or d.address in kept or d.address not in self.changes
            ]
            diags.extend(d for d in self._outside if d.address in kept)
        if self.req.plan_rules is not None and not opts.refresh_only:
            response = self.req.plan_rules(PlanRulesRequest(self._rule_instances(changes), now=self.now))
            # a refusal the schema itself declared (same code, same object) is not repeated
            declared = {(d.code, d.address) for d in diags if d.is_error}
            diags.extend(
                _placed(d, self)
                for d in response.diagnostics
                if not (d.is_error and (d.code, d.address) in declared)
            )
            plan.edges = rule_edges(plan.changes, response.edges)
            plan.changes = with_rule_dependencies(plan.changes, plan.edges)
        plan.diagnostics = dedupe(diags)
        return plan

    def _rule_instances(self, changes: list[ResourceChange]) -> tuple[PlannedInstance, ...]:
        """What the providers' plan rules are shown: the changes of the providers that have rules, and
        the data sources read during this plan (an existing key vault's protections, a VM's region):
        those are no changes, but the rules judge the objects against them."""
        wanted = self.req.plan_rule_providers
        shown = [
            planned_instance(c)
            for c in changes
            if wanted is None or registry.provider_name_for_type(c.type) in wanted
        ]
        for address in sorted(self.data_values):  # read now; a read deferred to apply is a change
            parsed = parse_address(address)
            if wanted is not None and registry.provider_name_for_type(parsed.resource.type) not in wanted:
                continue
            value = self.data_values[address]
            shown.append(PlannedInstance(parsed, parsed.resource.type, "read", None, value, value))
        return tuple(shown)

    def _parsed_address(self, address: str) -> InstanceAddress:
        return self._parsed.get(address) or parse_address(address)

    def _made_of(self, node: str, targeted: set[str]) -> bool:
        """Whether the objects a root output's value comes from (through locals, variables and
        module outputs) are all among ``targeted`` - and there is one at least, as terraform keeps
        an output in a targeted plan."""
        g = self.cg.graph
        found: set[str] = set()
        stack, seen = [node], {node}
        while stack:
            for above in g.dependencies(stack.pop()):
                if above in seen:
                    continue
                seen.add(above)
                kind = g.data(above).get("kind")
                if kind in ("resource", "phase"):
                    data = g.data(above)
                    found.add(data["prefix"] + data["name"])
                else:
                    stack.append(above)
        return bool(found) and found <= targeted

    def _output_changes(self, opts: PlanOptions) -> list[OutputChange]:
        # an output whose value is null does not exist, as in terraform: state keeps none, and a plan
        # shows one becoming null as removed
        before = {k: o for k, o in self.req.state.outputs.items() if o.value is not None}
        after = {} if opts.destroy else dict(self.outputs.get((), {}))
        out: list[OutputChange] = []
        for name in sorted(set(before) | set(after)):
            decl = self.infos[""].module.outputs.get(name)
            old = before[name].value if name in before else None
            if name in after:
                after[name], marked = unmark_deep(after[name])
                sensitive, diag = output_sensitivity(name, decl, marked)
                if diag is not None:
                    self.diags.append(diag)
                if after[name] is None:
                    del after[name]
            else:
                sensitive = bool(decl.sensitive) if decl else bool(before[name].sensitive)
            if name not in after and name not in before:
                if decl is not None:  # null, and null before: unchanged (terraform plans it so)
                    out.append(OutputChange(name, Action.NO_OP, None, None, sensitive))
                continue
            if name not in after:
                out.append(OutputChange(name, Action.DELETE, old, None, sensitive))
            elif name not in before:
                out.append(OutputChange(name, Action.CREATE, None, after[name], sensitive))
            elif is_wholly_known(after[name]) and old == after[name]:
                out.append(OutputChange(name, Action.NO_OP, old, after[name], sensitive))
            else:
                out.append(OutputChange(name, Action.UPDATE, old, after[name], sensitive))
        return out


# --------------------------------------------------------------------------- helpers


def _config_node(resource: ResourceAddress) -> str:
    """The configuration graph's node of a resource in any instance of its module."""
    local = f"{resource.type}.{resource.name}"
    return static_prefix(resource.module) + ("data." + local if resource.mode is Mode.DATA else local)


def _within_reach(path: ModulePath, other: ModulePath) -> bool:
    """False when ``other`` is another instance of a module ``path`` is also in: the
    instances of one module call never see each other's objects."""
    for mine, theirs in zip(path, other, strict=False):
        if mine.name != theirs.name:
            return True  # the paths part here: a call made from a module instance both are in
        if mine.key != theirs.key:
            return False
    return True


def _reachable(path: ModulePath, deps: tuple[Node, ...]) -> tuple[Node, ...]:
    if not path:
        return deps  # the root module instance is within reach of everything
    return tuple(d for d in deps if _within_reach(path, d.address.module))


def _with_dependencies(
    change: ResourceChange, deps: tuple[Node, ...], phase_deps: dict[str, tuple[Node, ...]]
) -> ResourceChange:
    """``replace(change, depends_on=deps, phase_depends_on=phase_deps)`` without going through
    ``__init__`` again: a plan attaches dependencies to every change it made, and ``replace``
    of a 22-field frozen dataclass was most of that. The copy is shallow, as ``replace``'s is,
    and ``__post_init__`` has nothing to redo (the change's mode is already a ``Mode``)."""
    new: ResourceChange = object.__new__(ResourceChange)
    new.__dict__.update(change.__dict__, depends_on=deps, phase_depends_on=phase_deps)
    return new


def _placed(diag: Diagnostic, walker: Walker) -> Diagnostic:
    def module_of(prefix: str) -> Module | None:
        info = walker.infos.get(prefix)
        return info.module if info is not None else None

    return placed(diag, module_of)


def make_plan(req: PlanRequest) -> Plan:
    return Walker(req).run()


def _value_changes(before: Any, after: Any, path: tuple[Any, ...]) -> bool:
    """Whether the value at ``path`` is planned to change: unlike before, or not known yet."""
    for step in path:
        if after is UNKNOWN:
            return True
        before = _step(before, step)
        after = _step(after, step)
    if after is UNKNOWN or not is_wholly_known(after):
        return True
    return bool(unmark_deep(before)[0] != unmark_deep(after)[0])


def _step(value: Any, step: Any) -> Any:
    if isinstance(value, dict):
        return value.get(step)
    if isinstance(value, (list, tuple)) and isinstance(step, int) and -len(value) <= step < len(value):
        return value[step]
    return None


def _wrong_repetition(key: IndexKey, res: Resource) -> bool:
    """Whether an instance key is of another kind than the resource's repetition makes (terraform
    1.11's "wrong repetition": no key under count or for_each, a number without count, a string
    without for_each)."""
    if key is None:
        return res.count is not None or res.for_each is not None
    if isinstance(key, int):
        return res.count is None
    return res.for_each is None

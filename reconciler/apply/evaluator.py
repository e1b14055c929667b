"""Final configuration values at apply time.

A plan knows some values only "after apply" (a vault's principal id, a key's id).
When a step runs, everything it depends on has been applied, so its configuration
is evaluated again with the real values. ``ApplyEvaluator`` reuses the planning walker
lazily: variables, locals and module outputs are evaluated the first time a step
needs them (by then their resource ancestors are final, because the step's
dependencies were computed through them), and resource values are set by the executor
as each step completes.

Sensitive values keep their marks here as while planning: a stored value is marked at
its change's sensitive paths, a step's configuration remembers where it was marked
(``sensitive_paths``: what state records and what others see marked), and the outputs
come back plain with the names of those that carried a mark (``marked_outputs``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from providers.schema import Kind, ResourceSchema, folded, zero_value
from reconciler import providers_registry as registry
from reconciler.addresses import AddressError, Mode, ModulePath, format_module, parse_address
from reconciler.checks.sites import phase_node
from reconciler.config.expand import evaluate_body
from reconciler.config.model import Resource
from reconciler.diagnostics import Diagnostic, DiagnosticsError, error
from reconciler.plan.expansion import Instance, collect, expand
from reconciler.plan.model import Action, Plan, ResourceChange
from reconciler.plan.module_instances import static_prefix
from reconciler.plan.phases import phases_in, without_blocks
from reconciler.plan.scope import PlanScope
from reconciler.plan.sensitivity import object_paths
from reconciler.plan.walk import PlanRequest, Walker
from reconciler.reference_shapes import dynamic_shapes
from reconciler.value_shapes import type_json
from reconciler.values import UNKNOWN, is_wholly_known, mark_paths, redact, unmark_deep

VALUE_KINDS = ("variable", "local", "output", "module_outputs")


class ApplyEvaluator(Walker):
    def __init__(self, req: PlanRequest, plan: Plan):
        super().__init__(req)
        self.plan = plan
        self._lock = threading.RLock()
        self._evaluated: set[tuple[str, ModulePath]] = set()  # (node, module instances reached)
        self._instance_values: dict[str, dict[Any, Any]] = {}  # prefix+address -> key -> value
        self._keys: dict[str, list] = {}
        self._config_marks: dict[str, list[tuple]] = {}  # instance address -> marked config paths
        self._final_configs: dict[str, Any] = {}  # instance address -> its final configuration, marked
        self._schemas: dict[str, Any] = {}  # instance address -> schema block
        self.marked_outputs: set[str] = set()
        for change in plan.changes:
            if change.mode is Mode.DATA and change.address in plan.data_values:
                value = plan.data_values[change.address]
                self._store(change, value, plan.data_sensitive_paths.get(change.address, ()))
                continue
            if change.after is None and change.mode is Mode.MANAGED:
                # an instance the apply destroys or forgets is no longer among its resource's (as in
                # the plan's walk): an output over the resource leaves it out
                continue
            self._store(change, change.after if change.after is not None else change.before)
        for address, value in plan.data_values.items():
            read = data_source_change(address)
            if read is not None:
                self._store(read, value, plan.data_sensitive_paths.get(address, ()))

    # ------------------------------------------------------------------ values in

    def _store(self, change: ResourceChange, value: Any, paths=None) -> None:
        base = _resource_text(change)
        if paths is None:
            paths = change.sensitive_paths if change.after is not None else change.before_sensitive_paths
        if paths and value is not None:
            value = mark_paths(value, paths)
        self._instance_values.setdefault(base, {})[change.index] = value

    def sensitive_paths(self, change: ResourceChange, value: dict) -> tuple[tuple, ...]:
        """The paths of ``value`` (what the provider returned for ``change``) that are sensitive:
        the schema's, those its final configuration marked, and their echoes."""
        with self._lock:
            rs = registry.resource_schema(change.mode, change.type)
            marked = self._config_marks.get(change.address, ())
            return object_paths(rs.block if rs else None, value, marked)

    def dynamic_types(self, change: ResourceChange, value: dict) -> dict[str, Any]:
        """The types state records for the attributes of any type in ``value`` (what the provider
        returned for ``change``) whose value alone doesn't tell them: terraform_data's
        ``input = toset([...])`` is a set of strings, not a tuple (terraform 1.11 writes
        ``["set", "string"]``)."""
        with self._lock:
            rs = registry.resource_schema(change.mode, change.type)
            path, res = self._configured(change)
            if rs is None or res is None:
                return {}
            shapes = dynamic_shapes(res.body, rs.block, self._shapes(path))
        found = {}
        for name, shape in shapes.items():
            if value.get(name) is not None:
                typed = type_json(value[name], shape)
                if typed != type_json(value[name]):
                    found[name] = typed
        return found

    def hide(self, change: ResourceChange, text: str) -> str:
        """``text`` (a provider's error, say) with every sensitive value of ``change`` - planned,
        prior, or in its final configuration - replaced by ``(sensitive value)``."""
        with self._lock:
            config = self._final_configs.get(change.address)
        return redact(
            text,
            mark_paths(change.after, change.hidden_paths) if change.after is not None else None,
            mark_paths(change.before, change.hidden_paths) if change.before is not None else None,
            config,
        )

    def set_value(self, change: ResourceChange, value: Any) -> None:
        with self._lock:
            self._store(
                change, value, self.sensitive_paths(change, value) if isinstance(value, dict) else None
            )
            self._publish(change)

    def unsettled(self, changes: Iterable[ResourceChange]) -> None:
        """Objects whose step failed or never ran: what is evaluated after (the root outputs) sees
        them as unknown, so an output made of one keeps the value state records, as terraform's
        does - it doesn't evaluate what depends on a failed object. An object the apply destroys
        or forgets is no longer among its resource's and stays out."""
        with self._lock:
            for change in changes:
                values = self._instance_values.get(_resource_text(change))
                if values is not None and change.index in values:
                    values[change.index] = UNKNOWN
                    self._publish(change)

    def _publish(self, change: ResourceChange) -> None:
        path, res = self._configured(change)
        if res is None:
            return
        values = self._instance_values.get(_resource_text(change), {})
        keys = sorted(values, key=lambda k: (k is None, k if not isinstance(k, str) else 0, str(k)))
        instances = [Instance(k, {}) for k in keys]
        value = collect(instances, values, counted=res.count is not None, each=res.for_each is not None)
        self.namespace(path).set_resource(res.type, res.name, value, data=res.mode is Mode.DATA)

    def _configured(self, change: ResourceChange) -> tuple[ModulePath, Resource | None]:
        """The module instance a change is in, and its resource block (None when not configured)."""
        resource = parse_address(change.address).resource
        info = self.infos.get(static_prefix(resource.module))
        local = f"{resource.type}.{resource.name}"
        if resource.mode is Mode.DATA:
            local = "data." + local
        return resource.module, info.module.resources.get(local) if info else None

    def publish_all(self) -> None:
        with self._lock:
            for change in self.plan.changes:
                self._publish(change)
            for address in self.plan.data_values:
                read = data_source_change(address)
                if read is not None:
                    self._publish(read)

    # ------------------------------------------------------------------ lazy values

    def _ensure(self, node: str, path: ModulePath = ()) -> None:
        """Evaluate the values ``node`` needs, in the module instances a step at ``path`` sees:
        the instances of one call never wait for each other's objects, so a value is evaluated
        per instance when its own objects are applied, not when a sibling's are."""
        g = self.cg.graph.g
        if node not in g:
            return
        stack = [(node, False)]
        while stack:
            current, expanded = stack.pop()
            data = g.nodes[current]
            reach = _reach(str(data.get("prefix", "")), path)
            if (current, reach) in self._evaluated or (
                current != node and data.get("kind") in ("resource", "phase")
            ):
                continue
            if expanded:
                self._evaluated.add((current, reach))
                handler = {
                    "variable": self._variable,
                    "local": self._local,
                    "output": self._output,
                    "module_outputs": self._module_outputs,
                    "module": self._module_call,
                }.get(data.get("kind"))
                if handler is not None and current != node:
                    self.reach = reach
                    try:
                        handler(current, data)
                    finally:
                        self.reach = ()
                continue
            stack.append((current, True))
            for pred in g.predecessors(current):
                stack.append((pred, False))

    def outputs_final(self, only: set[str] | None = None) -> tuple[dict[str, Any], list[Diagnostic]]:
        """The root outputs' values and what evaluating them found; ``only``: these outputs alone
        (a targeted apply leaves the others out, unevaluated: they may read objects it didn't plan)."""
        with self._lock:
            self.diags = []
            for name in self.infos[""].module.outputs:
                if only is not None and name not in only:
                    continue
                node = f"output.{name}"
                self._ensure(node)
                self._output(node, self.cg.graph.data(node))
            values = {}
            self.marked_outputs = set()
            for name, value in self.outputs.get((), {}).items():
                values[name], marked = unmark_deep(value)
                if marked:
                    self.marked_outputs.add(name)
            return values, list(self.diags)

    def root_scope(self) -> PlanScope:
        """The root module's names as the apply left them (what its outputs are read in)."""
        with self._lock:
            return self._scope(())

    def checks_final(self) -> list[Diagnostic]:
        """The check blocks' assertions against what the apply left (terraform checks them again
        after apply, and says so before "Apply complete!")."""
        with self._lock:
            self.diags = []
            for prefix, info in self.infos.items():
                for name in info.module.checks:
                    node = f"{prefix}check.{name}"
                    self._ensure(node)
                    self._check(node, self.cg.graph.data(node))
            return list(self.diags)

    # ------------------------------------------------------------------ postconditions

    def has_postconditions(self, change: ResourceChange) -> bool:
        with self._lock:
            _path, res = self._configured(change)
            return res is not None and bool(res.lifecycle.postconditions)

    def postconditions(self, change: ResourceChange, state: dict) -> None:
        """Check the resource's postconditions against the object Azure returned (``self``)."""
        with self._lock:
            path, res = self._configured(change)
            if res is None or not res.lifecycle.postconditions:
                return
            bindings: dict[str, Any] = {"self": mark_paths(state, self.sensitive_paths(change, state))}
            if res.count is not None:
                bindings["count"] = {"index": change.index}
            if res.for_each is not None:
                each = self._for_each_value(res, path, change.index)
                bindings["each"] = {"key": change.index, "value": each}
            self.diags = []
            self._conditions(
                res.lifecycle.postconditions,
                self._scope(path, bindings),
                change.address,
                "Resource postcondition",
                path,
            )
            failed = [d for d in self.diags if d.is_error]
            if failed:
                raise DiagnosticsError(failed)

    def _for_each_value(self, res: Resource, path: ModulePath, key: Any) -> Any:
        instances, _ = expand(res.count, res.for_each, self._scope(path), self._shapes(path))
        inst = next((i for i in instances if i.key == key), None)
        return inst.bindings.get("each", {}).get("value") if inst else None

    # ------------------------------------------------------------------ configuration of one step

    def config_for(self, change: ResourceChange, phase: str | None) -> tuple[dict, ResourceSchema]:
        """The step's configuration with final values; phase None = the object without later phases."""
        with self._lock:
            self.diags = []
            path, configured = self._configured(change)
            if configured is None:
                raise DiagnosticsError(
                    error(
                        "apply_inconsistent",
                        f"{change.address} is no longer in the configuration",
                        "The configuration changed since the plan was made; plan again.",
                        address=change.address,
                    )
                )
            res = configured
            prefix = static_prefix(path)
            address = res.address
            rs = registry.resource_schema(res.mode, res.type)
            if rs is None:  # validate refused unknown types before any plan was made
                raise DiagnosticsError(
                    error("unknown_type", f"No schema for {res.type}", "", address=change.address)
                )
            self._ensure(prefix + address, path)  # a phase step evaluates the whole body: the
            if phase:  # object's values and the phase's
                self._ensure(phase_node(prefix + address, phase), path)
            if not self.modules.exists(path):
                raise DiagnosticsError(
                    error(
                        "apply_inconsistent",
                        f"{format_module(path)} is no longer in the configuration's module instances",
                        "count or for_each of a module call gave other instances at apply time than at "
                        "plan time; plan again.",
                        address=change.address,
                    )
                )
            scope = self._scope(path)
            instances, diags = expand(res.count, res.for_each, scope, self._shapes(path))
            self.diags.extend(diags)
            inst = next((i for i in instances if i.key == change.index), None)
            if inst is None:
                raise DiagnosticsError(
                    diags
                    or [
                        error(
                            "apply_inconsistent",
                            f"{change.address} is no longer in the configuration's instances",
                            "count or for_each gave other instances at apply time than at plan time; plan again.",
                            address=change.address,
                        )
                    ]
                )
            iscope = scope.child(inst.bindings)
            phases = phases_in(res, rs)
            if phase is None and phases:
                body = without_blocks(res.body, phases)
            else:
                body = res.body
            ev = evaluate_body(body, rs.block, iscope)
            self.diags.extend(ev.diagnostics)
            config = self._config_value(rs, ev, change.address)
            self._config_marks[change.address] = list(ev.sensitive_paths)
            if ev.sensitive_paths:
                self._final_configs[change.address] = mark_paths(config, ev.sensitive_paths)
            errors = [d for d in self.diags if d.is_error]
            if errors:
                raise DiagnosticsError(errors)
            if phase is None and phases:
                for name in phases:
                    config[name] = []
            return config, rs


def _reach(prefix: str, path: ModulePath) -> ModulePath:
    """The part of ``path`` (a step's module instance) that the module at static ``prefix`` is
    inside of: its instances under it are the ones that step can see."""
    names = prefix[:-1].split(".")[1::2] if prefix else []
    shared = 0
    for name, step in zip(names, path, strict=False):
        if name != step.name:
            break
        shared += 1
    return path[:shared]


def _resource_text(change: ResourceChange) -> str:
    """The resource an instance change belongs to, as text (its address without the key)."""
    return str(parse_address(change.address).resource)


def data_source_change(address: str) -> ResourceChange | None:
    try:
        inst = parse_address(address)
    except AddressError:
        return None
    module = ".".join(str(m) for m in inst.resource.module)
    return ResourceChange(
        address=address,
        mode=Mode.DATA,
        type=inst.type,
        name=inst.name,
        index=inst.key,
        module=module,
        provider="",
        action=Action.NO_OP,
        before=None,
        after=None,
    )


def known_differences(schema_block, planned: Any, actual: Any, path: tuple = ()) -> list[tuple]:
    """Paths where a value known in the plan differs from what came back (configured attributes only)."""
    out: list[tuple] = []
    if planned is UNKNOWN or planned is None:
        return out
    if isinstance(planned, dict) and isinstance(actual, dict) and schema_block is not None:
        for name, value in planned.items():
            attr = schema_block.attribute_map.get(name)
            nb = schema_block.block_map.get(name)
            if attr is not None:
                if attr.computed or not attr.reconciled or value is None or value is UNKNOWN:
                    continue
                if not _same(attr, value, actual.get(name)):
                    out.append(path + (name,))
            elif nb is not None and isinstance(value, list) and isinstance(got := actual.get(name), list):
                if nb.computed:
                    continue
                if len(value) != len(got):
                    out.append(path + (name,))
                    continue
                for i, (p, a) in enumerate(zip(value, got)):
                    out.extend(known_differences(nb.block, p, a, path + (name, i)))
    return out


def _same(attr, planned: Any, actual: Any) -> bool:
    if not is_wholly_known(planned):
        return True
    zero = zero_value(attr.type)
    if (planned is None or planned == zero) and (actual is None or actual == zero):
        return True  # unset and zero are one value to Azure
    if attr.type.kind is Kind.SET and isinstance(planned, list) and isinstance(actual, list):
        return sorted(map(repr, planned)) == sorted(map(repr, actual))
    if attr.fold and folded(attr, planned) == folded(attr, actual):
        return True
    if attr.case_insensitive and isinstance(planned, str) and isinstance(actual, str):
        return planned.lower() == actual.lower()
    if attr.case_insensitive and isinstance(planned, list) and isinstance(actual, list):
        return sorted(str(x).lower() for x in planned) == sorted(str(x).lower() for x in actual)
    return planned == actual

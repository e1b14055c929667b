"""The machine plan: Terraform's JSON plan representation (format_version 1.2).

Policy tools that read ``terraform show -json`` output (conftest/OPA, checkov...) read
this too: ``variables``, ``planned_values``, ``resource_changes`` (with ``change.actions``
such as ``["delete", "create"]``, ``before``/``after``, ``after_unknown``,
``before_sensitive``/``after_sensitive``, ``replace_paths`` and ``action_reason``),
``output_changes``, ``prior_state``, ``configuration`` (made from the configuration as written
when the plan was made: ``reconciler.plan.config_json``), ``timestamp``,
``applyable``, ``complete`` and ``errored``. Unknown values are null in ``after`` and
``true`` at the same path of ``after_unknown``; the ``*_unknown`` and ``*_sensitive``
shapes mirror the value as Terraform's do (objects keep only keys that are or contain
true, lists keep one entry per element). ``resource_drift`` and ``relevant_attributes``
are left out: a plan holds the refreshed objects but not the stored ones they were
compared with (``vaultform drift`` reports drift), and Terraform treats both as optional.

One deliberate difference from Terraform: Terraform prints sensitive values in plain text
in the JSON plan and only flags them in ``before_sensitive``/``after_sensitive``.
vaultform promises that secrets never appear in its output, so a value at a sensitive path
(a sensitive schema attribute, a path the planner marked, a sensitive output) is replaced
by null in ``before``/``after``, in ``planned_values``, ``prior_state`` and in
``configuration`` constants, and flagged ``true`` in the matching ``*_sensitive`` shape.

vaultform's own facts (diagnostics, target cloud, state lineage and serial, ordering
edges, apply phases) live under the single top-level key ``vaultform``, which tools that
only know Terraform's keys ignore.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from reconciler import __version__
from reconciler import providers_registry as registry
from reconciler.addresses import Mode, ModulePath, address_order, format_module, parse_address, parse_module
from reconciler.diagnostics import Diagnostics
from reconciler.plan.model import Action, OutputChange, Plan, Reason, ResourceChange
from reconciler.plan.render_body import Sensitivity
from reconciler.plan.render_text import SchemaOf, change_schema, schema_lookup
from reconciler.values import UNKNOWN, is_wholly_known

FORMAT_VERSION = "1.2"
STATE_FORMAT_VERSION = "1.0"
TERRAFORM_VERSION = f"vaultform {__version__}"


def provider_address(local_name: str) -> str:
    return registry.provider_address(local_name)


# --------------------------------------------------------------------------- values


def json_value(
    value: Any,
    hidden: Callable[[tuple[Any, ...]], bool] = lambda p: False,
    path: tuple[Any, ...] = (),
    *,
    drop_unknown_keys: bool = False,
) -> Any:
    """A plain JSON value: unknowns and values at hidden (sensitive) paths become null.

    With ``drop_unknown_keys``, object keys whose value is unknown are left out instead
    (Terraform's ``planned_values``, where unknown is indistinguishable from absent).
    """
    if value is UNKNOWN or (path and hidden(path)):
        return None
    if isinstance(value, dict):
        return {
            str(k): json_value(v, hidden, path + (k,), drop_unknown_keys=drop_unknown_keys)
            for k, v in value.items()
            if not (drop_unknown_keys and v is UNKNOWN)
        }
    if isinstance(value, (list, tuple)):
        return [
            json_value(v, hidden, path + (i,), drop_unknown_keys=drop_unknown_keys)
            for i, v in enumerate(value)
        ]
    if isinstance(value, Decimal):
        return int(value) if value == int(value) else float(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def bool_shape(value: Any, marked: Callable[[Any, tuple[Any, ...]], bool], path: tuple[Any, ...] = ()) -> Any:
    """Terraform's mirrored marker shape: true where marked, objects keep only non-false
    entries, lists keep one entry per element, anything else unmarked is false."""
    if marked(value, path):
        return True
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            shape = bool_shape(v, marked, path + (k,))
            if shape is not False:
                out[str(k)] = shape
        return out
    if isinstance(value, (list, tuple)):
        return [bool_shape(v, marked, path + (i,)) for i, v in enumerate(value)]
    return False


def unknown_shape(value: Any) -> Any:
    return bool_shape(value, lambda v, p: v is UNKNOWN)


def sensitive_shape(value: Any, sensitive: Callable[[tuple[Any, ...]], bool]) -> Any:
    if value is None:
        return False
    return bool_shape(value, lambda v, p: bool(p) and v is not None and sensitive(p))


# --------------------------------------------------------------------------- resources


def _full_address(change: ResourceChange) -> str:
    if change.module and not change.address.startswith(change.module + "."):
        return f"{change.module}.{change.address}"
    return change.address


def _identity(change: ResourceChange) -> dict[str, Any]:
    out: dict[str, Any] = {"address": _full_address(change)}
    if change.module:
        out["module_address"] = change.module
    out.update({"mode": change.mode.value, "type": change.type, "name": change.name})
    if change.index is not None:
        out["index"] = change.index
    out["provider_name"] = provider_address(change.provider)
    return out


class _Context:
    """Schemas and sensitivity per change, looked up once."""

    def __init__(self, schema_of: SchemaOf):
        self.schema_of = schema_of
        self._cache: dict[str, tuple[Any, ...]] = {}

    def of(self, change: ResourceChange) -> tuple[Any, ...]:
        """The schema, and which paths to hide: sensitive on either side of the change."""
        if change.address not in self._cache:
            schema = change_schema(change, self.schema_of)
            self._cache[change.address] = (schema, Sensitivity.of(change.hidden_paths, schema))
        return self._cache[change.address]

    def sides(self, change: ResourceChange) -> tuple[Sensitivity, Sensitivity]:
        """What is sensitive in ``before`` and in ``after``, each on its own (Terraform's
        ``before_sensitive`` and ``after_sensitive``)."""
        schema = self.of(change)[0]
        return (
            Sensitivity.of(change.before_sensitive_paths, schema),
            Sensitivity.of(change.sensitive_paths, schema),
        )


def _values_entry(change: ResourceChange, value: dict[str, Any], ctx: _Context) -> dict[str, Any]:
    schema, sensitive = ctx.of(change)
    entry = _identity(change)
    entry.pop("module_address", None)
    entry["schema_version"] = schema.version if schema else 0
    entry["values"] = json_value(value, sensitive, drop_unknown_keys=True)
    entry["sensitive_values"] = sensitive_shape(value, sensitive) or {}
    return entry


def _module_tree(entries: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Terraform's module nesting: root resources, then child_modules by address."""
    root: dict[str, Any] = {}
    children: dict[ModulePath, dict[str, Any]] = {}

    def module_node(path: ModulePath) -> dict[str, Any]:
        if not path:
            return root
        if path not in children:
            node = {"address": format_module(path)}
            children[path] = node
            module_node(path[:-1]).setdefault("child_modules", []).append(node)
        return children[path]

    for module, entry in entries:
        module_node(parse_module(module)).setdefault("resources", []).append(entry)
    for node in (root, *children.values()):  # as Terraform: child modules by their address's text
        node.get("child_modules", []).sort(key=lambda child: child["address"])
    return root


def _changes_sorted(plan: Plan) -> list[ResourceChange]:
    """In Terraform's order of addresses: shallower modules first, then by name and key."""
    return sorted(plan.changes, key=lambda c: address_order(parse_address(_full_address(c))))


def _with_previous_addresses(
    entries: list[dict[str, Any]], moved: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """As Terraform: an instance a moved block renamed says where it was (``previous_address``)."""
    previous = {new: old for old, new in moved}
    for entry in entries:
        if entry["address"] in previous:
            entry["previous_address"] = previous[entry["address"]]
    return entries


def _resource_change(change: ResourceChange, ctx: _Context) -> dict[str, Any]:
    _, sensitive = ctx.of(change)
    before = change.before if change.action is not Action.CREATE else None
    after = change.after if change.action is not Action.DELETE else None
    body = {
        "actions": change.action.json_actions,
        "before": json_value(before, sensitive),
        "after": json_value(
            after, sensitive, drop_unknown_keys=True
        ),  # as terraform: unknown only in after_unknown
        # as terraform 1.11: an empty object unless something is unknown (a delete's null after too)
        "after_unknown": unknown_shape(after) if after is not None and not is_wholly_known(after) else {},
        "before_sensitive": sensitive_shape(before, ctx.sides(change)[0]),
        "after_sensitive": sensitive_shape(after, ctx.sides(change)[1]),
    }
    if change.replace_paths:
        body["replace_paths"] = [list(p) for p in change.replace_paths]
    if change.importing:
        body["importing"] = {"id": change.importing}
    if change.generated_config:
        body["generated_config"] = change.generated_config
    out = _identity(change)
    out["change"] = body
    if change.reason not in (Reason.NONE, Reason.DELETE_BY_DESTROY):  # terraform gives no reason there
        out["action_reason"] = change.reason.value
    return out


def _output_change(o: OutputChange) -> dict[str, Any]:
    hidden = (lambda p: True) if o.sensitive else (lambda p: False)
    before = None if o.action is Action.CREATE else o.before
    after = None if o.action is Action.DELETE else o.after
    body = {
        "actions": o.action.json_actions,
        "before": None if o.sensitive else json_value(before, hidden),
        # as Terraform: an unknown member of an object or map is left out, of a list is null
        "after": None if o.sensitive else json_value(after, hidden, drop_unknown_keys=True),
        "after_unknown": unknown_shape(after) if after is not None and not is_wholly_known(after) else False,
        # as Terraform: a sensitive output is flagged on both sides, even the null one
        "before_sensitive": o.sensitive,
        "after_sensitive": o.sensitive,
    }
    if after is UNKNOWN:
        del body["after"]  # as terraform: a wholly unknown value shows only in after_unknown
    return body


def _output_value(value: Any, sensitive: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"sensitive": sensitive}
    if is_wholly_known(value):  # as Terraform: a value known only in part is left out
        out["value"] = None if sensitive else json_value(value)
    return out


# --------------------------------------------------------------------------- configuration


def _expressions(change: ResourceChange, sensitive: Sensitivity) -> dict[str, Any]:
    exprs: dict[str, Any] = {}
    config = change.config or {}
    for name in sorted(set(config) | set(change.references), key=str):
        refs = change.references.get(name)
        if refs:
            exprs[name] = {"references": list(refs)}
            continue
        value = config.get(name)
        if value is None or value is UNKNOWN:
            continue
        exprs[name] = {"constant_value": json_value(value, sensitive, (name,))}
    return exprs


def _configuration(plan: Plan, ctx: _Context) -> dict[str, Any]:
    """For a plan that carries no configuration (one saved by an older vaultform): what its changes
    say of the resources' configuration."""
    providers: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    entries: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    for change in _changes_sorted(plan):
        providers.setdefault(
            change.provider, {"name": change.provider, "full_name": provider_address(change.provider)}
        )
        if change.config is None and not change.references:
            continue
        resource_address = (
            f"data.{change.type}.{change.name}"
            if change.mode is Mode.DATA
            else f"{change.type}.{change.name}"
        )
        calls = tuple(step.name for step in parse_module(change.module))  # the module as written
        key = f"{'.'.join(calls)}:{resource_address}"
        if key in seen:
            continue
        seen.add(key)
        schema, sensitive = ctx.of(change)
        entries.append(
            (
                calls,
                {
                    "address": resource_address,
                    "mode": change.mode.value,
                    "type": change.type,
                    "name": change.name,
                    "provider_config_key": change.provider,
                    "expressions": _expressions(change, sensitive),
                    "schema_version": schema.version if schema else 0,
                },
            )
        )
    root: dict[str, Any] = {"resources": [e for m, e in entries if not m]}
    for calls, entry in entries:
        if not calls:
            continue
        node = root
        for name in calls:
            call = node.setdefault("module_calls", {}).setdefault(name, {"module": {"resources": []}})
            node = call["module"]
        node["resources"].append(entry)
    return {"provider_config": dict(sorted(providers.items())), "root_module": root}


# --------------------------------------------------------------------------- the plan


def plan_to_json(plan: Plan, *, schema_of: SchemaOf | None = None) -> dict[str, Any]:
    """The plan as Terraform's JSON plan representation (a dict ready for ``json.dumps``)."""
    ctx = _Context(schema_lookup(schema_of))
    changes = _changes_sorted(plan)
    planned = [
        (c.module, _values_entry(c, c.after, ctx))
        for c in changes
        if c.after is not None and c.action is not Action.DELETE
    ]
    prior = [
        (c.module, _values_entry(c, c.before, ctx))
        for c in changes
        if c.before is not None and c.mode is Mode.MANAGED
    ]
    outputs = sorted(plan.outputs, key=lambda o: o.name)
    doc: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "variables": {
            k: (
                {"value": None, "sensitive": True}
                if k in plan.sensitive_variables
                else {"value": json_value(v)}
            )
            for k, v in sorted(plan.variables.items())
        },
        "planned_values": {
            "outputs": {
                o.name: _output_value(o.after, o.sensitive) for o in outputs if o.action is not Action.DELETE
            },
            "root_module": _module_tree(planned),
        },
        # what -target left out is not a change at all to terraform: it is not listed; nor is any
        # object of a refresh-only plan, which changes state only (terraform 1.11 lists none)
        "resource_changes": _with_previous_addresses(
            [_resource_change(c, ctx) for c in changes if not c.untargeted and not plan.refresh_only],
            plan.moved,
        ),
        "output_changes": {o.name: _output_change(o) for o in outputs},
        "prior_state": {
            "format_version": STATE_FORMAT_VERSION,
            "terraform_version": TERRAFORM_VERSION,
            "values": {
                "outputs": {
                    o.name: _output_value(o.before, o.sensitive)
                    for o in outputs
                    if o.before is not None and o.action is not Action.CREATE
                },
                "root_module": _module_tree(prior),
            },
        },
        "configuration": plan.configuration if plan.configuration is not None else _configuration(plan, ctx),
        "timestamp": plan.timestamp,
        "applyable": plan.applicable and plan.has_changes,
        "complete": True,
        "errored": plan.errored,
        "vaultform": _vaultform_section(plan),
    }
    for key in OMITTED_WHEN_EMPTY:  # as terraform's JSON plan leaves them out
        if not doc[key]:
            del doc[key]
    return doc


OMITTED_WHEN_EMPTY = ("variables", "resource_changes", "output_changes")


def _vaultform_section(plan: Plan) -> dict[str, Any]:
    return {
        "version": __version__,
        "cloud": plan.cloud,
        "state": {"lineage": plan.state_lineage, "serial": plan.state_serial},
        "config_digest": plan.config_digest,
        "destroy": plan.destroy,
        "refresh_only": plan.refresh_only,
        "diagnostics": Diagnostics(list(plan.diagnostics)).to_json(),
        "ordering": [{"before": a, "after": b, "why": why} for a, b, why in plan.edges],
        "phases": {c.address: list(c.phases) for c in _changes_sorted(plan) if any(c.phases)},
    }

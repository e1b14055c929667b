"""The ``configuration`` of the JSON plan: Terraform's JSON configuration representation.

It is made from the configuration as written (``reconciler.config.modules.ModuleTree``), not
from evaluated values, when the plan is saved, and is kept in the saved plan (it shows the
configuration it was made from; only a saved plan's JSON carries it). Its shape is terraform 1.11's ``jsonconfig``:

* ``provider_config``: one entry per provider configuration a module declares or implies, keyed
  ``NAME`` in the root and ``module.a.module.b:NAME`` in a module; a module's implied one that only
  inherits its parent's is left out, and its resources name the parent's key instead.
* ``root_module``: ``outputs``, ``resources``, ``module_calls`` (``source``, argument
  ``expressions``, ``count_expression`` / ``for_each_expression``, the called ``module``,
  ``version_constraint``, ``depends_on``) and ``variables`` (``default`` after type conversion,
  ``description``, ``sensitive``).

An expression is ``{"constant_value": V}`` when it has a value without any context (no
references, no function calls), and ``{"references": [...]}`` lists what it refers to as its
module writes it (``var.name`` in a module, not ``module.one.var.name``), each traversal followed
by its shorter forms down to the object (``module.one.out``, ``module.one``).

As everywhere in vaultform's output, a secret is never shown: a sensitive variable's default, a
sensitive output's constant, a constant argument of a sensitive schema attribute or given to a
module's sensitive variable is null (terraform prints them in the clear).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from providers.schema import BlockSchema, Mode, Nesting
from reconciler import providers_registry as registry
from reconciler.config import ast
from reconciler.config.evaluator import MapScope, evaluate
from reconciler.config.evaluator_scope import EvalError
from reconciler.config.model import Module, ModuleCall, Output, Resource, Variable
from reconciler.config.references import Reference, references, walk_expressions
from reconciler.config.type_exprs import parse_type
from reconciler.config.types import ConversionError, convert
from reconciler.plan.render_json import json_value
from reconciler.values import UNKNOWN, is_wholly_known

if TYPE_CHECKING:  # the module tree's loader imports the planner's helpers
    from reconciler.config.modules import ModuleTree

BUILTIN_PROVIDER = "terraform.io/builtin/terraform"
DEFAULT_REGISTRY = "registry.terraform.io"

_SINGLE_NAME_ROOTS = frozenset({"var", "local", "count", "each", "path", "terraform"})


# --------------------------------------------------------------------------- expressions


def reference_texts(ref: Reference) -> list[str]:
    """What terraform lists for one reference: the whole traversal, each shorter one down to the
    referenced object, then the object without its instance key (``terraform_data.c[0].output``,
    ``terraform_data.c[0]``, ``terraform_data.c``) or the module call of a module output."""
    parts = _parts(ref)
    if parts is None:
        return []
    subject, rest, extra = parts
    out = ["".join([subject, *rest[:n]]) for n in range(len(rest), 0, -1)]
    return [*out, subject, *extra]


def _parts(ref: Reference) -> tuple[str, list[str], list[str]] | None:
    """Terraform's reading of a traversal: its subject (the object referred to), the steps after
    it, and what terraform lists after the subject; None for what is no reference to terraform."""
    steps = [_step_text(ref, i) for i in range(len(ref.remaining))]
    root = ref.root
    if root == "self":  # terraform's subject is ``self`` alone
        return "self", [f".{name}" for name in ref.subject[1:]] + steps, []
    if root in _SINGLE_NAME_ROOTS:
        return (".".join(ref.subject), steps, []) if len(ref.subject) == 2 else None
    if root == "module":
        return _module_parts(ref, steps)
    if len(ref.subject) != (3 if root == "data" else 2):
        return None
    subject = ".".join(ref.subject)
    if steps and ref.is_index(0):  # an instance: the resource without its key comes last
        return subject + steps[0], steps[1:], [subject]
    return subject, steps, []


def _module_parts(ref: Reference, steps: list[str]) -> tuple[str, list[str], list[str]] | None:
    """A ``module.`` traversal: the call, one instance of it, or one output of an instance (then
    followed by the instance, as terraform lists the call of an output)."""
    if len(ref.subject) < 2:
        return None
    call = f"module.{ref.subject[1]}"
    if len(ref.subject) == 3:  # ``module.one.out``: an output of the unkeyed instance
        return f"{call}.{ref.subject[2]}", steps, [call]
    if not steps:
        return call, [], []
    if not ref.is_index(0):
        return None
    instance = call + steps[0]
    if len(steps) == 1:
        return instance, [], [call]
    if ref.is_index(1):
        return None  # terraform refuses an index right after an instance key
    return instance + steps[1], steps[2:], [instance]


def _step_text(ref: Reference, i: int) -> str:
    step = ref.remaining[i]
    if not ref.is_index(i):
        return f".{step}"
    if isinstance(step, int):
        return f"[{step}]"
    return "[" + json.dumps(step, ensure_ascii=False) + "]"


def _has_call(expr: ast.Expr) -> bool:
    for node in walk_expressions(expr):
        if isinstance(node, ast.Call):
            return True
        if isinstance(node, ast.Template) and _template_has_call(node.parts):
            return True
    return False


def _template_has_call(parts: tuple[ast.TemplatePart, ...]) -> bool:
    for part in parts:
        if isinstance(part, ast.TemplateInterp) and _has_call(part.expr):
            return True
        if isinstance(part, ast.TemplateIf) and (
            _has_call(part.cond) or _template_has_call(part.then) or _template_has_call(part.else_)
        ):
            return True
        if isinstance(part, ast.TemplateFor) and (
            _has_call(part.collection) or _template_has_call(part.body)
        ):
            return True
    return False


_NO_VALUE = object()


def constant_value(expr: ast.Expr) -> Any:
    """The value ``expr`` has without any context (terraform's ``Value(nil)``), or ``_NO_VALUE``."""
    if references(expr) or _has_call(expr):
        return _NO_VALUE
    try:
        value = evaluate(expr, MapScope({}))
    except (EvalError, ConversionError):
        return _NO_VALUE
    if value is UNKNOWN or not is_wholly_known(value):
        return _NO_VALUE
    return value


def expression(expr: ast.Expr, *, hidden: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    value = constant_value(expr)
    if value is not _NO_VALUE:
        out["constant_value"] = None if hidden else json_value(value)
    refs = [text for ref in references(expr) for text in reference_texts(ref)]
    if refs:
        out["references"] = refs
    return out


def _sorted(mapping: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(mapping.items()))


def body_expressions(body: ast.Body, schema: BlockSchema | None) -> dict[str, Any]:
    """Each argument of ``body`` that ``schema`` declares (every one without a schema), and each
    nested block by its nesting (a list of bodies, or one body); ``dynamic`` blocks are left out."""
    out: dict[str, Any] = {}
    for attr in body.attributes:
        declared = schema.attribute_map.get(attr.name) if schema is not None else None
        if schema is not None and declared is None:
            continue
        out[attr.name] = expression(attr.expr, hidden=bool(declared and declared.sensitive))
    for block in body.blocks:
        nested = schema.block_map.get(block.type) if schema is not None else None
        if nested is None:
            continue
        inner = body_expressions(block.body, nested.block)
        if nested.nesting is Nesting.SINGLE:
            out[block.type] = inner
        else:
            out.setdefault(block.type, []).append(inner)
    return _sorted(out)


def _depends_on(exprs: tuple[ast.Expr, ...]) -> list[str]:
    """``depends_on`` as terraform prints it: the object each entry refers to."""
    out: list[str] = []
    for expr in exprs:
        for ref in references(expr)[:1]:
            parts = _parts(ref)
            if parts is not None:
                out.append(parts[0])
    return out


# --------------------------------------------------------------------------- modules


class _Providers:
    """Terraform's provider configuration keys: ``NAME`` in the root, ``module.a:NAME`` in a module;
    a module's entry that only inherits its parent's points at it (``parent``)."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        self.parents: dict[str, str] = {}

    def source_key(self, start: str, full_name: str) -> str:
        found, key = "", start
        while key:
            entry = self.entries.get(key)
            if entry is None or entry["full_name"] != full_name:
                break
            found, key = key, self.parents.get(key, "")
        return found

    def resolved(self, key: str) -> str:
        parent = self.parents.get(key, "")
        return parent if parent in self.entries else key

    def kept(self) -> dict[str, dict[str, Any]]:
        return _sorted({k: v for k, v in self.entries.items() if not self.parents.get(k)})


def _key(name: str, module_address: str) -> str:
    return f"{module_address}:{name}" if module_address else name


def _full_name(module: Module, local_name: str) -> str:
    declared = module.terraform.provider(local_name) if module.terraform else None
    source = declared.source if declared is not None else None
    if not source:
        if local_name == "terraform":
            return BUILTIN_PROVIDER
        return registry.provider_address(local_name)
    return source if source.count("/") == 2 else f"{DEFAULT_REGISTRY}/{source}"


def _local_name(res: Resource) -> str:
    return res.provider.name if res.provider is not None else registry.provider_name_for_type(res.type)


def _provider_config_text(res: Resource) -> str:
    return str(res.provider) if res.provider is not None else registry.provider_name_for_type(res.type)


def _requirements(module: Module) -> dict[str, str]:
    """Full provider address -> local name, for what this module alone requires: its
    required_providers, provider blocks and resources (terraform's shallow requirements)."""
    out: dict[str, str] = {}
    if module.terraform:
        for rp in module.terraform.required_providers:
            out.setdefault(_full_name(module, rp.name), rp.name)
    for config in module.providers:
        out.setdefault(_full_name(module, config.name), config.name)
    for res in module.resources.values():
        name = _local_name(res)
        out.setdefault(_full_name(module, name), name)
    for block in module.imports:
        if block.provider is not None:
            out.setdefault(_full_name(module, block.provider.name), block.provider.name)
    return out


def _versions(module: Module) -> dict[str, str]:
    if not module.terraform:
        return {}
    return {rp.name: rp.version for rp in module.terraform.required_providers if rp.version}


def _provider_configs(tree: ModuleTree, parent: ModuleTree | None, providers: _Providers) -> None:
    module, address = tree.module, tree.address
    versions = _versions(module)

    def entry(name: str, full_name: str, **more: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"name": name, "full_name": full_name}
        if more.get("alias"):
            out["alias"] = more["alias"]
        if versions.get(name.split(".")[0]):
            out["version_constraint"] = versions[name.split(".")[0]]
        if address:
            out["module_address"] = address
        if more.get("expressions"):
            out["expressions"] = more["expressions"]
        return out

    def inherited(key: str, name: str, full_name: str) -> None:
        if parent is not None:
            providers.parents[key] = providers.source_key(_key(name, parent.address), full_name)

    for config in module.providers:
        full_name = _full_name(module, config.name)
        schema = registry.schema_for(config.name)
        exprs = body_expressions(config.body, schema.provider_config if schema else None)
        providers.entries[_key(config.key, address)] = entry(
            config.name, full_name, alias=config.alias, expressions=exprs
        )
    if module.terraform:
        for rp in module.terraform.required_providers:
            key = _key(rp.name, address)
            if key in providers.entries:
                continue
            full_name = _full_name(module, rp.name)
            providers.entries[key] = entry(rp.name, full_name)
            inherited(key, rp.name, full_name)
    for full_name in _requirements(module):
        type_name = full_name.rsplit("/", 1)[-1]  # only a default (unaliased, same-named) one is implied
        key = _key(type_name, address)
        if key in providers.entries:
            continue
        providers.entries[key] = entry(type_name, full_name)
        inherited(key, type_name, full_name)
    for name, call in module.module_calls.items():
        child = tree.children.get(name)
        if child is None:
            continue
        for in_child, in_parent in _passed_providers(call):
            full_name = _full_name(child.module, in_child.split(".")[0])
            key = _key(in_child, child.address)
            if key in providers.entries:
                continue
            providers.entries[key] = {
                "name": in_child,
                "full_name": full_name,
                "module_address": child.address,
            }
            providers.parents[key] = providers.source_key(_key(in_parent, address), full_name)
        _provider_configs(child, tree, providers)


def _passed_providers(call: ModuleCall) -> list[tuple[str, str]]:
    """The ``providers = { child = parent }`` pairs of a module call, as ``name[.alias]`` text."""
    if not isinstance(call.providers, ast.ObjectCons):
        return []
    pairs: list[tuple[str, str]] = []
    for key, value in call.providers.items:
        names = [_provider_text(key), _provider_text(value)]
        if names[0] and names[1]:
            pairs.append((names[0], names[1]))
    return pairs


def _provider_text(expr: ast.Expr) -> str:
    if isinstance(expr, ast.Variable):
        return expr.name
    if isinstance(expr, ast.GetAttr) and isinstance(expr.obj, ast.Variable):
        return f"{expr.obj.name}.{expr.name}"
    if isinstance(expr, ast.Literal) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.Template) and all(isinstance(p, str) for p in expr.parts):
        return "".join(p for p in expr.parts if isinstance(p, str))
    return ""


def _variable(var: Variable) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if var.default_expr is not None:
        value = constant_value(var.default_expr)
        if value is not _NO_VALUE and var.type_expr is not None and value is not None:
            type_, _ = parse_type(var.type_expr)
            if type_ is not None:
                try:
                    value = convert(value, type_)
                except ConversionError:
                    value = _NO_VALUE
        if value is not _NO_VALUE:
            out["default"] = None if var.sensitive else json_value(value)
    if var.description:
        out["description"] = var.description
    if var.sensitive:
        out["sensitive"] = True
    return out


def _output(output: Output) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if output.sensitive:
        out["sensitive"] = True
    out["expression"] = expression(output.value, hidden=output.sensitive)
    depends_on = _depends_on(output.depends_on)
    if depends_on:
        out["depends_on"] = depends_on
    if output.description:
        out["description"] = output.description
    return out


def _repetition(out: dict[str, Any], count: ast.Expr | None, for_each: ast.Expr | None) -> None:
    """``count_expression``, or else ``for_each_expression``, when it says anything."""
    counted = expression(count) if count is not None else {}
    if counted:
        out["count_expression"] = counted
        return
    each = expression(for_each) if for_each is not None else {}
    if each:
        out["for_each_expression"] = each


def _resource(res: Resource, address: str, provider_key: Callable[[str], str]) -> dict[str, Any]:
    schema = registry.resource_schema(res.mode, res.type)
    address_text = f"data.{res.type}.{res.name}" if res.mode is Mode.DATA else f"{res.type}.{res.name}"
    out: dict[str, Any] = {
        "address": address_text,
        "mode": res.mode.value,
        "type": res.type,
        "name": res.name,
        "provider_config_key": provider_key(_key(_provider_config_text(res), address)),
        "expressions": body_expressions(res.body, schema.block if schema else None),
        "schema_version": schema.version if schema else 0,
    }
    if not out["expressions"]:
        del out["expressions"]
    _repetition(out, res.count, res.for_each)
    depends_on = _depends_on(res.depends_on)
    if depends_on:
        out["depends_on"] = depends_on
    return out


def _module_call(call: ModuleCall, child: ModuleTree | None, providers: _Providers) -> dict[str, Any]:
    if child is None:  # as terraform: a call whose module is not there says nothing
        return {}
    out: dict[str, Any] = {"source": call.source}
    variables = child.module.variables
    exprs = {
        name: expression(arg.expr, hidden=variables[name].sensitive)
        for name, arg in call.arguments.items()
        if name in variables
    }
    if exprs:
        out["expressions"] = _sorted(exprs)
    _repetition(out, call.count, call.for_each)
    out["module"] = _module(child, providers)
    if call.version:
        out["version_constraint"] = call.version
    depends_on = _depends_on(call.depends_on)
    if depends_on:
        out["depends_on"] = depends_on
    return out


def _module(tree: ModuleTree, providers: _Providers) -> dict[str, Any]:
    module = tree.module
    out: dict[str, Any] = {}
    if module.outputs:
        out["outputs"] = _sorted({name: _output(o) for name, o in module.outputs.items()})
    resources = [_resource(res, tree.address, providers.resolved) for res in module.resources.values()]
    if resources:
        out["resources"] = sorted(resources, key=lambda r: r["address"])
    if module.module_calls:
        out["module_calls"] = _sorted(
            {
                name: _module_call(call, tree.children.get(name), providers)
                for name, call in module.module_calls.items()
            }
        )
    if module.variables:
        out["variables"] = _sorted({name: _variable(v) for name, v in module.variables.items()})
    return out


def configuration_json(tree: ModuleTree) -> dict[str, Any]:
    """The configuration as terraform's JSON plan's ``configuration`` (a dict ready for json)."""
    providers = _Providers()
    _provider_configs(tree, None, providers)
    root = _module(tree, providers)
    out: dict[str, Any] = {}
    kept = providers.kept()
    if kept:
        out["provider_config"] = kept
    out["root_module"] = root
    return out

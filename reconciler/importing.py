"""Bringing existing objects under management: ``vaultform import ADDR ID`` and ``import`` blocks.

Both read the object through its provider (``import_``) and record it in state with the same
attributes a create would have recorded, so the next plan compares it with its configuration
like any other object.

``import`` blocks are resolved before planning (``plan_with_imports``): each target that is
not yet in state is read now (reading changes nothing in the cloud) and handed to the planner
as if a refresh had returned it, so the plan holds no create for that address - a no-op, or
the update that makes the object match its configuration - and the change carries the id it
is imported from (``ResourceChange.importing``). ``plan`` shows these as "will be imported";
``apply`` (and ``apply FILE``) records them in state (``record_imports``) before the first
operation runs, after the plan was approved. A target already in state makes its block a
no-op, as in Terraform, so the blocks can stay in the configuration.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from providers import validation
from providers.base import ImportRequest, NotFoundError, ProviderError
from reconciler import genconfig
from reconciler import providers_registry as registry
from reconciler.addresses import Mode as SchemaMode
from reconciler.backend_select import current_workspace
from reconciler.config import ast
from reconciler.config.evaluator import EvalError, MapScope, evaluate
from reconciler.config.model import Import, Resource
from reconciler.config.overrides import is_override_file
from reconciler.config.paths import path_object
from reconciler.diagnostics import Diagnostic, DiagnosticsError, SourceRange, error
from reconciler.plan.assemble import targets_address
from reconciler.values import UNKNOWN, unmark_deep
from state.errors import AddressError
from state.model import InstanceAddress, InstanceState, format_key, parse_address


@dataclass(frozen=True)
class ImportTarget:
    address: str  # instance address in state
    id: str  # the object's id in the cloud
    resource: Resource  # its configuration block
    range: SourceRange | None  # the import block (or None for the command)


# --------------------------------------------------------------------------- the configuration


def find_resource(tree, address: InstanceAddress, *, at: SourceRange | None = None) -> Resource:
    """The resource block ``address`` belongs to; a diagnostic with help when there is none."""
    ra = address.resource
    if ra.mode.value != "managed":
        raise DiagnosticsError(
            error(
                "import_address",
                f"Cannot import into {address}",
                "Only managed resources are imported; data sources are read.",
                range=at,
            )
        )
    module = tree
    for step in ra.module:
        child = module.children.get(step.name)
        if child is None:
            raise DiagnosticsError(
                error(
                    "import_no_module",
                    f"There is no module.{step.name} in the configuration",
                    f"{address} names module calls that the configuration does not have. Add the module "
                    "block, or import into an address of the root module.",
                    range=at,
                )
            )
        module = child
    local = f"{ra.type}.{ra.name}"
    res = module.module.resources.get(local)
    if res is None:
        raise DiagnosticsError(_missing_block(module, ra, local, at))
    _check_key(res, address, at)
    return res


def _missing_block(module, ra, local: str, at: SourceRange | None) -> Diagnostic:
    where = module.address or "the root module"
    same_type = [r for r in module.module.managed_resources if r.type == ra.type]
    # an override file only changes blocks written elsewhere: never the place to suggest
    files = sorted(f for f in module.module.files if not is_override_file(os.path.basename(f)))
    lines = [
        f"Before importing, write its resource block in {where}, for example in "
        f"{_shown(files[0]) if files else 'main.tf'}:",
        "",
        f'  resource "{ra.type}" "{ra.name}" {{',
        "    # the object's arguments",
        "  }",
        "",
    ]
    if same_type:
        lines.append(
            "Resource blocks of this type in that module: "
            + ", ".join(f"{r.address} ({_shown(r.pos.file)}:{r.pos.line})" for r in same_type)
            + "."
        )
    lines.append("Then run the import again.")
    if at is not None:  # an import block: plan can write the block from the object
        lines.append(
            "Or let plan write it from the object as it is: vaultform plan -generate-config-out=generated.tf"
        )
    return error(
        "import_no_config", f"{local} is not in the configuration", "\n".join(lines), address=local, range=at
    )


def _shown(path: str) -> str:
    """A file as messages show it: relative to the working directory when below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def _check_key(res: Resource, address: InstanceAddress, at: SourceRange | None) -> None:
    key = address.key
    if res.count is not None and not isinstance(key, int):
        want = "an index such as [0] (the resource uses count)"
    elif res.for_each is not None and not isinstance(key, str):
        want = 'a key such as ["name"] (the resource uses for_each)'
    elif res.count is None and res.for_each is None and key is not None:
        want = "no instance key (the resource has neither count nor for_each)"
    else:
        return
    raise DiagnosticsError(
        error(
            "import_address",
            f"{address} does not match its resource block",
            f"The address needs {want}; the block is at {_shown(res.pos.file)}:{res.pos.line}.",
            address=str(address),
            range=at or res.pos.range(),
        )
    )


# --------------------------------------------------------------------------- count and for_each


def check_instance_exists(
    session, address: InstanceAddress, res: Resource, *, at: SourceRange | None = None
) -> None:
    """Refuse an address that count/for_each of its blocks (module calls included) does not produce.

    An import into an instance the configuration doesn't have would be planned for destroy at
    the next apply - destroying the real object. The expansions are evaluated with the run's
    variables and the modules' locals; one that depends on other objects can't be known here,
    and that is said rather than guessed.
    """
    node = session.validated.tree
    scope = _root_scope(session)
    path = ""
    for step in address.resource.module:
        call = node.module.module_calls[step.name]
        path += f"{'.' if path else ''}module.{step.name}"
        bindings = _expansion_bindings(
            path, call.count, call.for_each, step.key, scope, str(address), call.pos, at
        )
        node = node.children[step.name]
        scope = _child_scope(session, node, call, MapScope({**scope.values, **bindings}))
    _expansion_bindings(
        str(address.resource), res.count, res.for_each, address.key, scope, str(address), res.pos, at
    )


def _expansion_bindings(
    what: str, count, for_each, key, scope: MapScope, address: str, pos, at: SourceRange | None
) -> dict:
    """The count/each bindings of instance ``key`` of a block; a diagnostic when there is none."""
    from reconciler.plan.expansion import expand

    if count is None and for_each is None:
        if key is not None:
            raise DiagnosticsError(
                _no_target(
                    address,
                    f"{what} has neither count nor for_each, so it has "
                    f"one instance, without a key: write {what}.",
                    pos,
                    at,
                )
            )
        return {}
    instances, diags = expand(count, for_each, scope)
    if diags:
        argument = "count" if count is not None else "for_each"
        raise DiagnosticsError(
            error(
                "import_unknown_instances",
                f"Cannot tell whether {address} exists in the configuration",
                f"The {argument} of {what} ({_shown(pos.file)}:{pos.line}) depends on more than the "
                f"variables and locals, so import can't work out its instances ({diags[0].summary}"
                + (f": {diags[0].detail}" if diags[0].detail else "")
                + ").\nSet the variables it needs "
                "with -var or -var-file, or write an import block "
                "(`import { to = ... id = ... }`): plan checks its target against the full expansion.",
                address=address,
                range=at or pos.range(),
            )
        )
    for inst in instances:
        if inst.key == key:
            return inst.bindings
    argument = "count" if count is not None else "for_each"
    if key is None:
        detail = f"{what} uses {argument}: name one of its instances"
    else:
        detail = f"{argument} of {what} gives no instance {format_key(key)}"
    keys = ", ".join(f"{what}{format_key(i.key)}" for i in instances[:10]) or "none"
    more = f" (and {len(instances) - 10} more)" if len(instances) > 10 else ""
    raise DiagnosticsError(
        _no_target(
            address,
            f"{detail}. Its instances with the current variables: {keys}{more}. Import into one of "
            f"them, or change {argument} so that it includes this key first.",
            pos,
            at,
        )
    )


def _no_target(address: str, detail: str, pos, at: SourceRange | None) -> Diagnostic:
    return error(
        "import_no_target",
        "Configuration for import target does not exist",
        f"{detail} The block is at {_shown(pos.file)}:{pos.line}. An object imported where the "
        "configuration has no instance would be destroyed by the next apply.",
        address=address,
        range=at or pos.range(),
    )


def _child_scope(session, node, call, parent: MapScope) -> MapScope:
    """A module's scope: its call's arguments (evaluated in the caller) over its variables' defaults."""
    variables: dict[str, Any] = {}
    for name, var in node.module.variables.items():
        attr = call.arguments.get(name)
        expr = attr.expr if attr is not None else var.default_expr
        if expr is None:
            continue
        try:
            value = evaluate(expr, parent if attr is not None else MapScope({}))
        except (EvalError, TypeError):
            continue
        variables[name] = value
    root = str(session.root)
    base = {
        "var": variables,
        "path": path_object(node.source_dir, root),
        "terraform": {"workspace": current_workspace(root)},
    }
    return _with_locals(node.module, base)


# --------------------------------------------------------------------------- import blocks


def _root_scope(session, refreshed: dict[str, dict | None] | None = None) -> MapScope:
    module = session.validated.tree.module
    root = str(session.root)
    base = {
        "var": dict(session.variables),
        "path": path_object(session.validated.tree.source_dir, root),
        "terraform": {"workspace": current_workspace(root)},
        **_known_objects(session, refreshed),
    }
    return _with_locals(module, base)


def _known_objects(session, refreshed: dict[str, dict | None] | None) -> dict[str, Any]:
    """The root module's resources and data sources as an import block's id may refer to them, as
    terraform's do: what this run's refresh read, else what state recorded. One the configuration
    declares that doesn't exist yet is unknown, so an id built from it is refused as unknown."""
    namespaces: dict[str, Any] = {}
    for address, res in session.validated.tree.module.resources.items():
        space = namespaces.setdefault("data", {}) if address.startswith("data.") else namespaces
        space.setdefault(res.type, {})[res.name] = UNKNOWN
    by_resource: dict[tuple[str, str, str], list[tuple[Any, Any]]] = {}
    for addr, resource, inst in session.state.instances():
        if resource.module or not inst.attributes:
            continue
        text = str(addr)
        attributes = (
            (refreshed or {}).get(text, inst.attributes) if refreshed is not None else inst.attributes
        )
        if attributes is None:
            continue  # gone since state recorded it
        by_resource.setdefault((resource.mode.value, resource.type, resource.name), []).append(
            (inst.index_key, dict(attributes))
        )
    for (mode, type_, name), found in by_resource.items():
        keys = [k for k, _ in found]
        if keys == [None]:
            value: Any = found[0][1]
        elif all(isinstance(k, int) for k in keys):
            value = [v for _, v in sorted(found, key=lambda kv: kv[0])]
        else:
            value = {str(k): v for k, v in found}
        space = namespaces.setdefault("data", {}) if mode == "data" else namespaces
        space.setdefault(type_, {})[name] = value
    return namespaces


def _with_locals(module, base: dict) -> MapScope:
    locals_: dict[str, Any] = {}
    for _ in range(len(module.locals)):  # locals that use locals: a few passes settle them
        before = len(locals_)
        for name, local in module.locals.items():
            if name in locals_:
                continue
            try:
                locals_[name] = evaluate(local.expr, MapScope({**base, "local": locals_}))
            except (EvalError, TypeError):
                continue
        if len(locals_) == before:
            break
    return MapScope({**base, "local": locals_})


def _each_items(block: Import, scope: MapScope) -> list[dict | None]:
    if block.for_each is None:
        return [None]
    value = evaluate(block.for_each, scope)
    if isinstance(value, dict):
        return [{"key": k, "value": v} for k, v in value.items()]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return [{"key": v, "value": v} for v in value]
    raise DiagnosticsError(
        error(
            "import_for_each",
            "An import block's for_each must be a map or a set of strings",
            "Give for_each a map (each.key, each.value) or a set of strings known when planning.",
            range=block.for_each.pos.range(),
        )
    )


def _target_address(expr: ast.Expr, scope) -> str:
    steps: list[str] = []
    node = expr
    while True:
        if isinstance(node, ast.Variable):
            steps.append(node.name)
            break
        if isinstance(node, ast.GetAttr):
            steps.append("." + node.name)
            node = node.obj
        elif isinstance(node, ast.Index):
            key = evaluate(node.key, scope)
            if isinstance(key, bool) or not isinstance(key, (int, str)):
                raise DiagnosticsError(
                    error(
                        "import_address",
                        "An import block's instance key is not a number or a string",
                        "Use each.key, a number or a string.",
                        range=node.key.pos.range(),
                    )
                )
            steps.append(format_key(key))
            node = node.obj
        else:
            raise DiagnosticsError(
                error(
                    "import_address",
                    'import "to" is not a resource address',
                    "Write a bare address such as terraform_data.example.",
                    range=expr.pos.range(),
                )
            )
    return "".join(reversed(steps))


@dataclass(frozen=True)
class UnconfiguredTarget:
    """An import block whose target has no resource block, for -generate-config-out to write."""

    address: InstanceAddress
    id: str
    range: SourceRange
    provider: str | None  # the import block's provider argument, as written


def resolve_import_blocks(
    session,
    unconfigured: list[UnconfiguredTarget] | None = None,
    refreshed: dict[str, dict | None] | None = None,
) -> list[ImportTarget]:
    """Every import block of the configuration as (address, id) pairs; diagnostics for mistakes.

    With ``unconfigured`` (plan -generate-config-out), a target without a resource block is
    collected there instead of being an error, when terraform could generate it: in the root
    module, no instance key, no for_each on the import block."""
    tree = session.validated.tree
    diags: list[Diagnostic] = []
    for child in list(tree.walk())[1:]:
        for block in child.module.imports:
            diags.append(
                error(
                    "import_in_module",
                    "Import blocks belong in the root module",
                    f"Move this block to the root module and write the address with its module "
                    f"prefix: to = {child.address}.{block.to_address}.",
                    range=block.pos.range(),
                )
            )
    if not tree.module.imports:
        if diags:
            raise DiagnosticsError(diags)
        return []
    scope = _root_scope(session, refreshed)
    out: dict[str, ImportTarget] = {}
    for block in tree.module.imports:
        try:
            for each in _each_items(block, scope):
                s = MapScope({**scope.values, "each": each}) if each is not None else scope
                text = _target_address(block.to, s)
                ident = evaluate(block.id, s)
                if not isinstance(ident, str) or not ident:
                    how = (
                        "It refers to an object this plan creates, whose id is known only after apply. "
                        "An import block takes over an object that exists: if the object is gone, remove "
                        "the block and let the plan create it; otherwise refer to what exists already."
                        if unmark_deep(ident)[0] is UNKNOWN
                        else "Write the object's id, e.g. its ARM resource id, or an expression of variables "
                        "and of objects that exist already."
                    )
                    raise DiagnosticsError(
                        error(
                            "import_id",
                            "An import block's id must be a non-empty string known when planning",
                            how,
                            range=block.id.pos.range(),
                        )
                    )
                address = parse_address(text)
                try:
                    res = find_resource(tree, address, at=block.pos.range())
                except DiagnosticsError as exc:
                    codes = {d.code for d in exc.diagnostics}
                    if unconfigured is None or not codes & {"import_no_config", "import_no_module"}:
                        raise
                    unconfigured.append(_unconfigured(block, address, ident))
                    continue
                if text in out and out[text].id != ident:
                    raise DiagnosticsError(
                        error(
                            "import_duplicate",
                            f"Two import blocks import into {text}",
                            f"One object per address: remove one of them (the other is at "
                            f"{out[text].range}).",
                            range=block.pos.range(),
                        )
                    )
                out[text] = ImportTarget(text, ident, res, block.pos.range())
        except AddressError as exc:
            diags.append(error("import_address", "Invalid import address", str(exc), range=block.pos.range()))
        except DiagnosticsError as exc:
            diags.extend(exc.diagnostics)
    if diags:
        raise DiagnosticsError(diags)
    return list(out.values())


def _unconfigured(block: Import, address: InstanceAddress, ident: str) -> UnconfiguredTarget:
    """The target of ``block`` if terraform can generate its configuration; its refusal if not
    (internal/terraform/node_resource_validate.go, validateConfigGen)."""
    at = block.to.pos.range()
    if address.resource.module:
        raise DiagnosticsError(
            error(
                "import_generate_module",
                "Configuration for import target does not exist",
                f"Resource {address} not found. Only resources within the root module are eligible "
                "for config generation.",
                address=str(address),
                range=at,
            )
        )
    if address.key is not None or block.for_each is not None:
        raise DiagnosticsError(
            error(
                "import_generate_expanded",
                "Configuration for import target does not exist",
                "The given import block is not compatible with config generation. The "
                "-generate-config-out option cannot be used with import blocks which use for_each, "
                "or resources which use for_each or count.",
                address=str(address),
                range=at,
            )
        )
    provider = str(block.provider) if block.provider is not None else None
    return UnconfiguredTarget(address, ident, block.pos.range(), provider)


def generate_config(session) -> list[tuple[str, str, str]]:
    """(address, import id, resource block) for each import block that has no resource block.

    Each object is read through its provider, as the import itself will read it; a read that
    fails is an error before anything is written, so a failed run leaves no file behind."""
    unconfigured: list[UnconfiguredTarget] = []
    resolve_import_blocks(session, unconfigured)
    out: list[tuple[str, str, str]] = []
    diags: list[Diagnostic] = []
    for t in unconfigured:
        ra = t.address.resource
        if session.state.instance(str(t.address)) is not None:
            # in state but not configured: terraform would plan its destroy, not import it
            continue
        rs = registry.resource_schema(SchemaMode.MANAGED, ra.type)
        if rs is None:
            hint = registry.explain_unknown_type(SchemaMode.MANAGED, ra.type)
            diags.append(
                error(
                    "import_generate_type",
                    f"Cannot generate configuration for {t.address}",
                    hint or f"No provider of vaultform has the resource type {ra.type}.",
                    address=str(t.address),
                    range=t.range,
                )
            )
            continue
        provider_name = t.provider.split(".")[0] if t.provider else registry.provider_name_for_type(ra.type)
        try:
            state = read_object(session.providers, provider_name, ra.type, t.id, str(t.address), t.range)
        except DiagnosticsError as exc:
            diags.extend(exc.diagnostics)
            continue
        text = genconfig.resource_block(ra.type, ra.name, rs.block, state, provider=t.provider)
        out.append((str(t.address), t.id, text))
    if diags:
        raise DiagnosticsError(diags)
    return out


# --------------------------------------------------------------------------- reading the object


def import_object(providers: dict, target: ImportTarget) -> InstanceState:
    """Read the object through its provider: the instance a create would have recorded."""
    res = target.resource
    state = read_object(providers, res.provider_name, res.type, target.id, target.address, target.range)
    rs = registry.resource_schema(SchemaMode.MANAGED, res.type)
    paths = validation.sensitive_value_paths(rs.block, state) if rs is not None else set()
    return InstanceState(attributes=dict(state), sensitive_paths=tuple(paths))


def read_object(
    providers: dict, provider_name: str, type_name: str, ident: str, address: str, at: SourceRange | None
) -> dict[str, Any]:
    """The object with id ``ident`` as its provider's import reads it; a diagnostic when it can't."""
    provider = providers.get(provider_name)
    if provider is None:
        raise DiagnosticsError(
            error(
                "provider_missing",
                f'No provider "{provider_name}"',
                f"{address} needs the {provider_name} provider.",
                address=address,
                range=at,
            )
        )
    try:
        state = provider.import_(ImportRequest(type_name, ident)).state
    except NotFoundError:
        state = None
    except ProviderError as exc:
        raise DiagnosticsError(
            error(
                exc.code or "import_failed",
                f"Importing {address} failed",
                exc.message,
                address=address,
                range=at,
            )
        ) from None
    if state is None:
        raise DiagnosticsError(
            error(
                "import_not_found",
                "Cannot import an object that does not exist",
                f"No {type_name} with id {ident!r} exists in the cloud. Check the id: it is the "
                "object's full resource id, as `vaultform cloud` or the Azure portal shows it.",
                address=address,
                range=at,
            )
        )
    return dict(state)


def plan_with_imports(session, options, refreshed):
    """Plan with the configuration's import blocks resolved (see the module docstring)."""
    from reconciler import session as steps

    if options.destroy or options.refresh_only:
        return steps.plan(session, options, refreshed)
    targets = [
        t
        for t in resolve_import_blocks(session, refreshed=refreshed)
        if session.state.instance(t.address) is None and _targeted(t.address, options.targets)
    ]
    if not targets:
        return steps.plan(session, options, refreshed)
    seen = dict(refreshed or {})
    report = session.import_reads
    for t in targets:
        if report is not None:
            report(t.address, t.id, False)
        seen[t.address] = dict(import_object(session.providers, t).attributes)
        if report is not None:
            report(t.address, t.id, True)
    plan = steps.plan(session, options, seen)
    ids = {t.address: t.id for t in targets}
    planned = {c.address for c in plan.changes}
    for t in targets:
        if t.address not in planned:
            plan.diagnostics.append(
                error(
                    "import_no_instance",
                    f"{t.address} is not an instance of its resource block",
                    f"count or for_each of {t.resource.address} ({_shown(t.resource.pos.file)}:{t.resource.pos.line}) "
                    "gives no such instance; import into one of its instances.",
                    address=t.address,
                    range=t.range,
                )
            )
    plan.changes = [replace(c, importing=ids[c.address]) if c.address in ids else c for c in plan.changes]
    return plan


def _targeted(address: str, targets: tuple[str, ...]) -> bool:
    """With -target, only the named objects (or their resources) are imported."""
    return not targets or any(targets_address(t, address) for t in targets)


def record_imports(recorder, plan, report: Callable[[str, str, bool], None] | None = None) -> int:
    """Record the plan's imported objects in state before any operation runs; how many.
    ``report(address, id, done)`` hears of each as it starts and as it is recorded."""
    count = 0
    for change in plan.changes:
        if not change.importing or change.before is None or recorder.state.instance(change.address):
            continue
        if report is not None:
            report(change.address, change.importing, False)
        rs = registry.resource_schema(SchemaMode.MANAGED, change.type)
        paths = validation.sensitive_value_paths(rs.block, change.before) if rs is not None else set()
        recorder.created(change, change.before, paths)
        count += 1
        if report is not None:
            report(change.address, change.importing, True)
    return count

"""`vaultform validate`: load, check schemas and references, find cycles - all at once.

Values that depend on variables, resources or data sources are unknown here (as in
`terraform validate`); constants and locals made of constants are checked for real.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import validate_cache
from reconciler.addresses import Mode
from reconciler.backend_select import ARGUMENTS as BACKEND_ARGUMENTS
from reconciler.backend_select import current_workspace
from reconciler.checks.provider_configs import provider_configuration_problems
from reconciler.checks.references import ReferenceChecker
from reconciler.checks.resources import (
    UnreconciledWarnings,
    blocks_written_as_arguments,
    check_resource,
    lifecycle_problems,
    schema_for,
)
from reconciler.checks.sites import Site, module_sites
from reconciler.checks.value_kinds import check_value_kinds
from reconciler.config import ast
from reconciler.config.evaluator import EvalError, evaluate
from reconciler.config.expand import evaluate_body
from reconciler.config.functions_spec import outside_reads
from reconciler.config.model import Module
from reconciler.config.modules import ModuleTree, load_module_tree
from reconciler.config.paths import path_object
from reconciler.config.references import references
from reconciler.config.removed import removed_still_declared
from reconciler.config.type_exprs import parse_type
from reconciler.config.variables import VariableSpec, default_problems
from reconciler.diagnostics import Diagnostic, Diagnostics, DiagnosticsError, error, warning
from reconciler.encryption_config import check_encryption
from reconciler.graph.config_graph import ModuleInfo, build_config_graph, cycle_diagnostics
from reconciler.graph.dag import Graph
from reconciler.plan.expansion import sensitive_for_each
from reconciler.values import UNKNOWN, mark_if


@dataclass
class Validated:
    tree: ModuleTree | None
    info: ModuleInfo | None
    diagnostics: Diagnostics

    @property
    def module_tree(self) -> ModuleTree:
        """The loaded tree; asking for it when loading failed raises the diagnostics that say why."""
        if self.tree is None:
            raise DiagnosticsError(self.diagnostics.sorted())
        return self.tree

    @property
    def module_info(self) -> ModuleInfo:
        if self.info is None:
            raise DiagnosticsError(self.diagnostics.sorted())
        return self.info


class ValidateScope:
    """Root names at validate time: constants and locals known, everything else unknown
    (a sensitive variable is an unknown marked sensitive, so what it reaches is known to be)."""

    def __init__(self, source_dir: str, root: Path, locals_: dict[str, Any], module: Module | None = None):
        self.values = {
            "path": path_object(source_dir, root),
            "terraform": {"workspace": current_workspace(root)},
            "local": locals_,
        }
        if module is not None:
            self.values["var"] = {n: mark_if(UNKNOWN, v.sensitive) for n, v in module.variables.items()}

    def lookup(self, name: str, pos: ast.Pos) -> Any:
        return self.values.get(name, UNKNOWN)


def module_info(tree: ModuleTree, prefix: str = "") -> ModuleInfo:
    schemas = {}
    for address, resource in tree.module.resources.items():
        rs = schema_for(resource)
        schemas[address] = rs.block if rs else None
    info = ModuleInfo(tree.module, prefix, schemas)
    for name, child in tree.children.items():
        info.children[name] = module_info(child, f"{prefix}module.{name}.")
    return info


def _evaluate_locals(module: Module, scope: ValidateScope) -> list[Diagnostic]:
    """Evaluate locals in dependency order; any local in a cycle or error stays unknown."""
    g = Graph()
    for name, local in module.locals.items():
        g.add(name)
        for ref in references(local.expr):
            if ref.root == "local" and len(ref.subject) > 1 and ref.subject[1] in module.locals:
                g.connect(ref.subject[1], name)
    values: dict[str, Any] = {name: UNKNOWN for name in module.locals}
    scope.values["local"] = values
    if g.cycles():
        return []
    diags: list[Diagnostic] = []
    for name in g.order():
        try:
            values[name] = evaluate(module.locals[name].expr, scope)
        except EvalError as exc:
            diags.extend(exc.diagnostics)
        except RecursionError:
            pass
    return diags


def _check_module(
    tree: ModuleTree, info: ModuleInfo, root_dir: Path, once: UnreconciledWarnings, diags: Diagnostics
) -> None:
    module = tree.module
    static = ReferenceChecker(
        module, {n: c.module for n, c in tree.children.items()}, lambda mode, t: _block_schema(mode, t)
    ).check(module_sites(module, info.schemas))
    diags.extend(static)
    taken = {(d.range.file, d.range.line) for d in static if d.range}

    def fresh(found: list[Diagnostic]) -> list[Diagnostic]:
        # an expression whose reference is already reported needn't fail again at evaluation
        return [
            d for d in found if not (d.code == "eval" and d.range and (d.range.file, d.range.line) in taken)
        ]

    scope = ValidateScope(tree.source_dir, root_dir, {}, module)
    diags.extend(fresh(_evaluate_locals(module, scope)))
    for resource in module.resources.values():
        wanted = module.terraform.provider(resource.provider_name) if module.terraform else None
        diags.extend(fresh(check_resource(resource, scope, once, wanted.version if wanted else None)))
        diags.extend(_sensitive_for_each(resource, scope))
        diags.extend(lifecycle_problems(resource))
        diags.extend(blocks_written_as_arguments(resource))
    diags.extend(fresh(_check_provider_blocks(module, scope)))
    diags.extend(provider_configuration_problems(module, root=not tree.path))
    _check_module_calls(tree, diags)
    _check_variable_types(module, diags)
    _check_required_providers(module, diags)
    _check_required_version(module, scope, diags)
    diags.extend(check_value_kinds(module))
    for name, child in tree.children.items():
        _check_module(child, info.children[name], root_dir, once, diags)


# A provider block's meta-argument besides alias (deprecated in terraform, still accepted).
PROVIDER_META = ("version",)


def _check_provider_blocks(module: Module, scope: ValidateScope) -> list[Diagnostic]:
    """Each provider block against its provider's configuration schema, as terraform checks it:
    a misspelt argument (a features switch such as purge_soft_delete_on_destroy) is an error,
    not silently ignored."""
    from providers import validation
    from reconciler import providers_registry as registry

    found: list[Diagnostic] = []
    for block in module.providers:
        schema = registry.schema_for(block.name)
        if schema is None:
            continue  # a provider vaultform doesn't carry is reported where it is required
        evaluated = evaluate_body(block.body, schema.provider_config, scope)
        found.extend(evaluated.diagnostics)
        value = {k: v for k, v in evaluated.value.items() if k not in PROVIDER_META}
        found.extend(
            validation.check_block(
                schema.provider_config, value, where=evaluated.where, address=f'provider["{block.key}"]'
            )
        )
    return found


def _sensitive_for_each(resource, scope: ValidateScope) -> list[Diagnostic]:
    if resource.for_each is None:
        return []
    try:
        value = evaluate(resource.for_each, scope)
    except (EvalError, RecursionError):
        return []  # reported where the expression is checked
    refused = sensitive_for_each(value, resource.for_each)
    return [refused.with_address(resource.address)] if refused else []


def reference_problems(tree: ModuleTree, expr: ast.Expr) -> list[Diagnostic]:
    """References in ``expr``, evaluated in ``tree``'s module outside any block (the console), to
    things the module doesn't declare. These are checked before evaluating, as terraform 1.11's
    console does, so ``try`` and ``can`` can't turn an undeclared name into their fallback."""
    children: dict[str, Module | None] = {name: child.module for name, child in tree.children.items()}
    return ReferenceChecker(tree.module, children, _block_schema).check([Site(expr, "console")])


def _block_schema(mode: Mode, type_name: str):
    from reconciler import providers_registry as registry

    rs = registry.resource_schema(mode, type_name)
    return rs.block if rs else None


def _check_variable_types(module: Module, diags: Diagnostics) -> None:
    for var in module.variables.values():
        if var.type_expr is None:
            continue
        type_, found = parse_type(var.type_expr)
        diags.extend(found)
        if not found and var.default_expr is not None:
            spec = VariableSpec(var.name, var.pos, type_, var.default_expr, var.nullable, var.sensitive)
            diags.extend(default_problems(spec))


def _check_backend(module: Module, diags: Diagnostics) -> None:
    backend = module.terraform.backend if module.terraform else None
    if backend is not None and backend.type not in BACKEND_ARGUMENTS:
        diags.add(
            warning(
                "backend_not_supported",
                f'vaultform has no "{backend.type}" backend',
                f'Use backend "local", "azurerm" or "pg" (supported: {", ".join(sorted(BACKEND_ARGUMENTS))}). '
                "Plan and apply refuse this configuration until its backend is one of those.",
                range=backend.pos.range(),
            )
        )


def _check_encryption(module: Module, diags: Diagnostics) -> None:
    """The encryption block (and TF_ENCRYPTION), checked as plan and apply check it when they set it up."""
    block = module.terraform.encryption if module.terraform else None
    variables = {name: v.sensitive for name, v in module.variables.items()}
    diags.extend(check_encryption(block, variables=variables))


def _check_required_version(module: Module, scope: ValidateScope, diags: Diagnostics) -> None:
    """``required_version`` holds for the Terraform language version vaultform implements (the one
    its state files name), as terraform checks it against its own: a configuration written for
    another version is stopped, not run with features it doesn't expect."""
    from reconciler.modinstall.versions import newest_matching
    from state.tfstate_v4 import WRITTEN_TERRAFORM_VERSION

    for expr in module.terraform.required_version if module.terraform else ():
        try:
            text = evaluate(expr, scope)
        except (EvalError, RecursionError):
            text = None
        try:
            holds = isinstance(text, str) and newest_matching([WRITTEN_TERRAFORM_VERSION], text) is not None
        except ValueError:
            holds, text = False, None
        if text is None or not isinstance(text, str):
            diags.add(
                error(
                    "required_version",
                    "Invalid version constraint",
                    'This string does not use correct version constraint syntax (e.g. ">= 1.5, < 2.0").',
                    range=expr.pos.range(),
                )
            )
        elif not holds:
            diags.add(
                error(
                    "required_version",
                    "Unsupported Terraform Core version",
                    f"This configuration does not support Terraform version {WRITTEN_TERRAFORM_VERSION}, the "
                    f"version of the Terraform language vaultform implements. To proceed, update this version "
                    f"constraint if the configuration works with it. Version constraints are normally set for "
                    f"good reason, so updating the constraint may lead to other errors or unexpected behavior.",
                    range=expr.pos.range(),
                )
            )


def _check_required_providers(module: Module, diags: Diagnostics) -> None:
    """A provider the configuration asks for that vaultform doesn't carry is named, not ignored."""
    from reconciler import providers_registry as registry
    from reconciler.diagnostics import error

    known = registry.known_provider_names()
    for wanted in module.terraform.required_providers if module.terraform else ():
        if wanted.name in known:
            continue
        source = f" ({wanted.source})" if wanted.source else ""
        diags.add(
            error(
                "unsupported_provider",
                f'vaultform has no provider "{wanted.name}"{source}',
                f"vaultform carries the providers {', '.join(known)}. Remove {wanted.name} from "
                "required_providers along with its resources, or manage those with another tool.",
                range=wanted.pos.range(),
            )
        )


def _check_module_calls(tree: ModuleTree, diags: Diagnostics) -> None:
    from reconciler.diagnostics import error

    for name, call in tree.module.module_calls.items():
        child = tree.children.get(name)
        if child is None:
            continue
        declared = child.module.variables
        for arg, attr in call.arguments.items():
            if arg not in declared:
                diags.add(
                    error(
                        "unsupported_argument",
                        "Unsupported argument",
                        f'Module "{name}" has no input variable named "{arg}". '
                        f"Its variables are: {', '.join(sorted(declared)) or '(none)'}.",
                        range=attr.name_pos.range(),
                    )
                )
        for var_name, var in declared.items():
            if var.default_expr is None and var_name not in call.arguments:
                diags.add(
                    error(
                        "missing_argument",
                        "Missing required argument",
                        f'Module "{name}" needs a value for its variable "{var_name}" '
                        f"(declared at {var.pos.file}:{var.pos.line}); add {var_name} = ... "
                        f"to the module block.",
                        range=call.pos.range(),
                    )
                )


# Codes of a configuration file that exists but could not be read or decoded: the
# directory does have configuration files, so "No .tf files" would be false.
_FILE_PROBLEMS = frozenset({"config-read", "encoding", "syntax"})


def validate_directory(
    directory: str | os.PathLike, extra: tuple[tuple[str, str], ...] = (), *, allow_empty: bool = False
) -> Validated:
    """Load and check a configuration; ``extra`` files join its root module (see load_module_tree).
    ``allow_empty``: a directory without .tf files is an empty configuration (the console's
    view, as terraform console's) rather than an error."""
    root = Path(directory)
    diags = Diagnostics()
    if not root.is_dir():
        from reconciler.diagnostics import error

        diags.add(
            error(
                "no_configuration",
                f"No configuration directory at {root}",
                "Pass the directory that holds your .tf files, e.g. `vaultform validate examples/quickstart`.",
            )
        )
        return Validated(None, None, diags)
    tree, load_diags = load_module_tree(root, extra=extra)
    diags.extend(load_diags)
    if tree is None or diags.has_errors and any(d.code == "syntax" for d in diags):
        return Validated(tree, None, diags)
    if not allow_empty and not tree.module.files and not any(d.code in _FILE_PROBLEMS for d in load_diags):
        from reconciler.diagnostics import error

        diags.add(
            error(
                "no_configuration",
                f"No .tf files in {root}",
                "vaultform reads every *.tf file in the directory; add one, or pass another directory.",
            )
        )
        return Validated(tree, None, diags)
    info = module_info(tree)
    key = None if extra else validate_cache.key_for(tree, root, current_workspace(root), allow_empty)
    found = validate_cache.load(key)
    if found is None:
        reads_before = outside_reads()
        checked = Diagnostics()
        checked.extend(removed_still_declared(tree))
        _check_backend(tree.module, checked)
        _check_encryption(tree.module, checked)
        _check_module(tree, info, root, UnreconciledWarnings(), checked)
        checked.extend(cycle_diagnostics(build_config_graph(info)))
        found = list(checked)
        if outside_reads() == reads_before:
            validate_cache.save(key, found)
    diags.extend(found)
    return Validated(tree, info, diags)

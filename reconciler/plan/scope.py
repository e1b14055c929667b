"""What names mean while planning: one namespace per module instance.

``Namespace`` holds the values evaluated so far in one module (variables, locals,
resources, data sources, child module outputs); ``PlanScope`` answers the evaluator's
root-name lookups from it, plus ``count``/``each`` and a dynamic block's iterator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.backend_select import current_workspace
from reconciler.config import ast
from reconciler.config.evaluator import did_you_mean, fail
from reconciler.config.evaluator_scope import root_name
from reconciler.config.paths import path_object
from reconciler.value_shapes import Resolve, Shape, shape_of
from reconciler.values import UNKNOWN


@dataclass
class Namespace:
    prefix: str  # "" or "module.a."
    source_dir: str  # path.module
    root: Path
    vars: dict[str, Any] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)  # type -> name -> value
    data: dict[str, dict[str, Any]] = field(default_factory=dict)  # type -> name -> value
    modules: dict[str, Any] = field(default_factory=dict)  # call name -> outputs
    # what the module's references are (lists, sets, maps), for the evaluator's for expressions
    shapes: Resolve | None = None

    def set_resource(self, type_: str, name: str, value: Any, *, data: bool = False) -> None:
        table = self.data if data else self.resources
        table.setdefault(type_, {})[name] = value


ROOTS_WITHOUT_RESOURCES = ("var", "local", "module", "data", "path", "terraform", "count", "each", "self")


class PlanScope:
    def __init__(
        self,
        ns: Namespace,
        bindings: dict[str, Any] | None = None,
        declared_resources: set[str] | None = None,
    ):
        self.ns = ns
        self.bindings = bindings or {}
        self.declared = declared_resources or set()

    def child(self, bindings: dict[str, Any]) -> PlanScope:
        return PlanScope(self.ns, {**self.bindings, **bindings}, self.declared)

    def shape(self, expr: ast.Expr) -> Shape | None:
        shapes = self.ns.shapes
        if shapes is None:
            return shape_of(expr)

        def resolve(ref: ast.Expr) -> Shape | None:
            # count, each and a dynamic block's iterator have no declared shape
            return None if root_name(ref) in self.bindings else shapes(ref)

        return shape_of(expr, resolve)

    def lookup(self, name: str, pos: ast.Pos) -> Any:
        if name in self.bindings:
            return self.bindings[name]
        ns = self.ns
        if name == "var":
            return ns.vars
        if name == "local":
            return ns.locals
        if name == "module":
            return ns.modules
        if name == "data":
            return ns.data
        if name == "path":
            return path_object(ns.source_dir, ns.root)
        if name == "terraform":
            return {"workspace": current_workspace(ns.root)}
        if name in ("count", "each", "self"):
            raise fail(
                pos,
                f'"{name}" is not available here',
                f'"{name}" can only be used inside a block that sets '
                + ("count." if name == "count" else "for_each." if name == "each" else "it."),
            )
        if name in ns.resources:
            return ns.resources[name]
        if name in self.declared:
            return UNKNOWN  # declared but not evaluated on this path (e.g. a targeted plan)
        raise fail(
            pos,
            "Reference to undeclared resource",
            f'No resource of type "{name}" is declared in this module.' + did_you_mean(name, self.declared),
        )

"""Pieces of a finished plan: references per attribute, rule dependencies, targets, digests."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from providers.base import OrderingEdge, PlannedInstance
from providers.schema import BlockSchema, ResourceSchema
from reconciler.addresses import AddressError, ModulePath, Node, parse_address, parse_module
from reconciler.config import ast
from reconciler.config.model import Resource
from reconciler.config.references import Reference, literal_key, references, unwind_traversal
from reconciler.diagnostics import Diagnostic
from reconciler.plan.model import Action, ResourceChange
from reconciler.plan.phases import block_name

if TYPE_CHECKING:  # the module tree's loader imports the planner's helpers
    from reconciler.config.modules import ModuleTree


def path_of(expr: ast.Expr) -> tuple[Any, ...] | None:
    steps: list[Any] = []
    node = expr
    while True:
        if isinstance(node, ast.Variable):
            steps.append(node.name)
            break
        if isinstance(node, ast.GetAttr):
            steps.append(node.name)
            node = node.obj
        elif isinstance(node, ast.Index) and isinstance(node.key, ast.Literal):
            steps.append(node.key.value)
            node = node.obj
        elif (
            isinstance(node, ast.Index)
            and isinstance(node.key, ast.Template)
            and all(isinstance(p, str) for p in node.key.parts)
        ):
            steps.append("".join(p for p in node.key.parts if isinstance(p, str)))  # all are
            node = node.obj
        else:
            return None
    return tuple(reversed(steps))


def references_of(res: Resource, prefix: str) -> dict[str, tuple[str, ...]]:
    """The references written in each attribute (and block) of ``res``, as address text.

    With ``for_each`` set to a whole resource (``for_each = azurerm_key_vault.team``),
    ``each.value.id`` is that resource's instance of the same key: it is given as
    ``azurerm_key_vault.team.id``, which the provider's rules pair by instance key, so
    a grant written that way orders its own vault's key assignment (O2) as a direct
    reference would.
    """
    out: dict[str, tuple[str, ...]] = {}
    each_source = _for_each_resource(res)

    def text(r: Reference) -> str | None:
        if r.root in ("count", "path", "terraform"):
            return None
        if r.root == "each":
            if each_source is None or r.subject[1:] != ("value",):
                return None
            r = Reference(each_source.subject, each_source.remaining + r.remaining, r.pos)
        return prefix + str(r)

    for name, expr in _named_exprs(res):
        refs = [t for t in map(text, references(expr)) if t is not None]
        if refs:
            out[name] = tuple(dict.fromkeys(out.get(name, ()) + tuple(refs)))
    return out


def _named_exprs(res: Resource) -> Iterator[tuple[str, ast.Expr]]:
    """Every expression of ``res``'s body with the top-level attribute (or block) it is under."""
    for attr in res.body.attributes:
        yield attr.name, attr.expr
    for block in res.body.blocks:
        name = block_name(block)
        for expr in block_exprs(block.body):
            yield name, expr


def references_through_keys(
    res: Resource, prefix: str, bound: Mapping[str, Any] | None = None
) -> dict[str, tuple[str, ...]]:
    """``references_of``, plus each reference whose traversal goes on past a computed key, written
    through it as ``[*]``: ``azurerm_key_vault_key.k[each.key].versionless_id`` is
    ``azurerm_key_vault_key.k[*].versionless_id``, where ``references_of`` (and terraform's JSON
    plan) stop at ``azurerm_key_vault_key.k``. The provider rules read the attribute from it (a
    versionless key id, an identity's principal id) in a ``for_each`` estate. ``bound``: the instance's
    own ``each.key`` / ``count.index``, written in as the key they are (``k["west"]``)."""
    out = dict(references_of(res, prefix))
    for name, expr in _named_exprs(res):
        out[name] = _with_through_keys(out.get(name, ()), expr, prefix, bound)
    return {name: refs for name, refs in out.items() if refs}


def expression_references(
    expr: ast.Expr, prefix: str, bound: Mapping[str, Any] | None = None
) -> tuple[str, ...]:
    """The references of one expression as ``references_through_keys`` gives them (an input
    variable's argument, a local value's expression), ``prefix`` put before each. ``bound``: the
    values ``each.key`` / ``count.index`` have where the expression is evaluated (one instance of a
    module call), so ``k[each.key]`` reads as that instance's ``k["a"]``, not every ``k``."""
    refs = tuple(
        prefix + str(r) for r in references(expr) if r.root not in ("count", "path", "terraform", "each")
    )
    return _with_through_keys(tuple(dict.fromkeys(refs)), expr, prefix, bound)


def _with_through_keys(
    refs: tuple[str, ...], expr: ast.Expr, prefix: str, bound: Mapping[str, Any] | None = None
) -> tuple[str, ...]:
    found: list[str] = []
    _through_keys(expr, found, bound or {})
    if not found:
        return refs
    through = [prefix + t for t in found]
    # the cut-short text of the same traversal says less: the through-key one replaces it
    kept = [t for t in refs if not any(f.startswith(t + "[") for f in through)]
    return tuple(dict.fromkeys(kept + through))


def _bound_key(key: ast.Expr, bound: Mapping[str, Any]) -> Any:
    """The value of ``each.key`` / ``count.index`` written as a key, where ``bound`` knows it."""
    if isinstance(key, ast.GetAttr) and isinstance(key.obj, ast.Variable):
        return bound.get(f"{key.obj.name}.{key.name}")
    return None


def _through_keys(expr: ast.Expr, out: list[str], bound: Mapping[str, Any]) -> None:
    if isinstance(expr, (ast.GetAttr, ast.Index)):
        unwound = unwind_traversal(expr)
        if unwound is not None:
            root, nodes = unwound
            computed = [n for n in nodes if isinstance(n, ast.Index) and literal_key(n.key) is None]
            # a module's output through a key the instance binds (module.team[each.key].principal_id)
            # names one module instance: written out, the planner follows it into the module
            module_output = root.name == "module" and all(
                _bound_key(n.key, bound) is not None for n in computed
            )
            if computed and (root.name == "data" or "_" in root.name or module_output):
                text = root.name
                for n in nodes:
                    if isinstance(n, ast.GetAttr):
                        text += f".{n.name}"
                        continue
                    key = literal_key(n.key)
                    if key is None:
                        key = _bound_key(n.key, bound)
                    text += "[*]" if key is None else f"[{json.dumps(key)}]"
                out.append(text)
            for n in computed:  # a computed key holds references of its own
                _through_keys(n.key, out, bound)
            return
    for child in ast.children(expr):
        _through_keys(child, out, bound)


def _for_each_resource(res: Resource) -> Reference | None:
    """The resource ``for_each`` iterates when it is written as just that resource."""
    if res.for_each is None or path_of(res.for_each) is None:
        return None
    found = references(res.for_each)
    if len(found) != 1 or found[0].remaining or not (found[0].is_resource or found[0].root == "data"):
        return None
    return found[0]


def block_exprs(body: ast.Body) -> Iterator[ast.Expr]:
    for attr in body.attributes:
        yield attr.expr
    for block in body.blocks:
        yield from block_exprs(block.body)


def rule_edges(
    changes: list[ResourceChange], edges: list[OrderingEdge], *, reasons: bool = True
) -> list[tuple[Node, Node, str]]:
    """The provider's ordering edges as (before, after, why); an edge naming an instance
    that is not planned is left out."""
    if not edges:
        return []
    planned = {parse_address(c.address) for c in changes}
    out: list[tuple[Node, Node, str]] = []
    for e in edges:
        if e.before.address in planned and e.after.address in planned:
            why = f"{e.rule}: {e.reason}" if reasons and e.reason else e.rule
            out.append((e.before, e.after, why))
    return out


def with_rule_dependencies(
    changes: list[ResourceChange], edges: list[tuple[Node, Node, str]]
) -> list[ResourceChange]:
    """Ordering rules become recorded dependencies too, so a later destroy runs them backwards
    (a key is deleted while the grant that let the deployer manage it still exists)."""
    if not edges:
        return changes
    extra: dict[str, list[Node]] = {}
    extra_phase: dict[tuple[str, str], list[Node]] = {}
    phases_of: dict[str, list[str]] = {}  # address -> its phases that gain dependencies
    for before, after, _why in edges:
        if before.address == after.address:
            continue
        base = str(after.address)
        if after.phase:
            if (base, after.phase) not in extra_phase:
                phases_of.setdefault(base, []).append(after.phase)
            extra_phase.setdefault((base, after.phase), []).append(before)
        else:
            extra.setdefault(base, []).append(before)
    out = []
    for c in changes:
        deps = extra.get(c.address)
        phases = {
            p: tuple(sorted(set(c.phase_depends_on.get(p, ())) | set(extra_phase[(c.address, p)]), key=str))
            for p in phases_of.get(c.address, ())
        }
        if deps or phases:
            c = replace(
                c,
                depends_on=tuple(sorted(set(c.depends_on) | set(deps or ()), key=str)),
                phase_depends_on={**c.phase_depends_on, **phases},
            )
        out.append(c)
    return out


def split_private(
    prior: dict[str, Any] | None, rs: ResourceSchema | None
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Split an object into what users see (its schema's names) and the provider's private
    facts (anything else the refresh brought, e.g. a vault's item history)."""
    if prior is None:
        return None, {}
    names = _names(rs.block) if rs is not None else {k for k in prior if not k.startswith("_")}
    return (
        {k: v for k, v in prior.items() if k in names},
        {k: v for k, v in prior.items() if k not in names},
    )


_NAMES: dict[int, tuple[BlockSchema, frozenset[str]]] = {}  # id(block) -> (block, its names)


def _names(block: BlockSchema) -> frozenset[str]:
    """The attribute and block names of ``block``, worked out once per schema (a plan splits
    every prior object it shows)."""
    cached = _NAMES.get(id(block))
    if cached is None or cached[0] is not block:
        cached = _NAMES[id(block)] = (block, frozenset(block.names()))
    return cached[1]


def planned_instance(change: ResourceChange) -> PlannedInstance:
    action = "replace" if change.action.is_replace else change.action.value
    after = change.after
    if change.action is Action.FORGET:  # to the cloud's rules, an object let go of stays as it is
        action, after = Action.NO_OP.value, change.before
    refreshed = {**change.before, **change.private} if change.before is not None else None
    return PlannedInstance(
        address=parse_address(change.address),
        type_name=change.type,
        action=action,
        before=change.before,
        after=after,
        refreshed=refreshed,
        depends_on=change.depends_on,
        references=change.rule_references or change.references,
        absolute_references=True,
        create_before_destroy=change.action is Action.CREATE_THEN_DELETE,
    )


def dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    """The same finding once; the same words about two places (two resources' for_each, which
    carry no address) stay two findings, and so do two findings of no place that say different
    things (two cycles of moved blocks)."""
    seen: set[Any] = set()
    out: list[Diagnostic] = []
    for d in diags:
        place = None if d.address is not None else (d.range.file, d.range.line) if d.range else d.detail
        key = (d.severity, d.code, d.address, d.summary, place)
        if key in seen:
            continue
        seen.add(key)
        out.append(d)
    return out


def only_targets(
    changes: list[ResourceChange],
    targets: tuple[str, ...],
    *,
    destroy: bool = False,
    declared: Callable[[str, str], bool | None] | None = None,
) -> list[ResourceChange]:
    """Keep the targeted changes and what they need; everything else is left as it is.

    Creating or updating a target needs what it depends on (its key-assignment phase
    included); destroying a target needs whatever depends on it to go first, as in Terraform.
    ``declared(dependent, dependency)``: whether the configuration makes ``dependent`` depend on
    ``dependency`` (a reference, ``depends_on``), None when either isn't in it. A dependency only an
    ordering rule made (a vault's key assignment after its grant, a key after the deployer's grant)
    orders a destroy but doesn't take the dependent along: destroying one grant must not destroy the
    vault or the key it serves - the plan's rules judge what its deletion does to them.
    """
    by_address = {c.address: c for c in changes}

    def deps(c: ResourceChange) -> set[str]:
        out = {str(d.address) for d in c.depends_on}
        out.update(str(d.address) for ds in c.phase_depends_on.values() for d in ds)
        return out & set(by_address)

    if destroy:
        dependents: dict[str, set[str]] = {}
        for c in changes:
            for d in deps(c):
                if declared is None or declared(c.address, d) is not False:
                    dependents.setdefault(d, set()).add(c.address)
        follow: Callable[[str], Iterable[str]] = lambda a: dependents.get(a, set())  # noqa: E731
    else:
        follow = lambda a: deps(by_address[a])  # noqa: E731
    wanted: set[str] = set()
    for t in targets:
        wanted |= {a for a in by_address if targets_address(t, a)}
    named = set(wanted)
    stack = list(wanted)
    while stack:
        for nxt in follow(stack.pop()):
            if nxt not in wanted:
                wanted.add(nxt)
                stack.append(nxt)
    # an object a removed block lets go of stays as it is in the cloud: no target needs its forgetting
    wanted -= {a for a in wanted - named if by_address[a].action is Action.FORGET}
    return [
        c if c.address in wanted else replace(c, action=Action.NO_OP, after=c.before, untargeted=True)
        for c in changes
    ]


def targets_address(target: str, address: str) -> bool:
    """True when ``-target target`` selects the instance ``address``: it names the instance,
    the resource (without a key) the instance belongs to, or a module it is in.

    As Terraform: ``module.a`` selects every instance of the module, ``module.a["x"]``
    everything in that one; a resource address names its module instance exactly."""
    if target == address:
        return True
    try:
        addr = parse_address(address)
    except AddressError:
        return False
    module = _module_target(target)
    if module is not None:
        return len(module) <= len(addr.module) and all(
            mine.name == theirs.name and (mine.key is None or mine.key == theirs.key)
            for mine, theirs in zip(module, addr.module, strict=False)
        )
    try:
        wanted = parse_address(target)
    except AddressError:
        return False
    return wanted == addr or (wanted.key is None and wanted.resource == addr.resource)


def _module_target(target: str) -> ModulePath | None:
    """The module path a target names, or None when it names a resource or an instance."""
    if not target.startswith("module."):
        return None
    try:
        return parse_module(target)
    except AddressError:
        return None


def config_digest(tree: ModuleTree) -> str:
    """A digest of every configuration file, so a saved plan can tell the configuration moved."""
    h = hashlib.sha256()

    def visit(t: ModuleTree) -> None:
        for f in sorted(t.module.files):
            h.update(f.encode())
            with contextlib.suppress(OSError):
                h.update(Path(f).read_bytes())
        for name in sorted(t.children):
            visit(t.children[name])

    visit(tree)
    return h.hexdigest()

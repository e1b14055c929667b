"""The checks terraform 1.11's plan makes of ``moved`` blocks, once the configuration is expanded.

For each block, in each instance of the module that declares it:

* "Redundant move statement": both ends are the same address;
* "Moved object still exists": the configuration still declares the ``from`` address (the
  object would be moved and a new one planned in its place);
* "Ambiguous move statements": two blocks move one address to different places, or two
  different addresses to one place.

When none of these is found, chains of blocks that come back to where they started are
refused as "Cyclic dependency in move statements". validate checks none of this, as
terraform's validate does not.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from reconciler.addresses import AddressError, IndexKey, ModulePath, ModuleStep, format_key
from reconciler.config import ast
from reconciler.config.model import Moved
from reconciler.diagnostics import Diagnostic, SourceRange, error
from reconciler.moves import Endpoint


@dataclass(frozen=True)
class Declared:
    """What the configuration declares, as planning expanded it."""

    modules: Mapping[str, Any]  # static prefix ("module.a.") -> the module as written
    instances: Mapping[str, Sequence[ModulePath]]  # static prefix -> the module's instances
    resource_keys: Mapping[tuple[ModulePath, str], Sequence[IndexKey]]  # (instance, "type.name") -> keys

    def has_module_instance(self, path: ModulePath) -> bool:
        return path == () or path in self.instances.get(_prefix(path), ())

    def module_of(self, path: ModulePath) -> Any:
        return self.modules.get(_prefix(path)) if self.has_module_instance(path) else None


@dataclass(frozen=True)
class _Statement:
    """A moved block with its ends as terraform reads them together: when one end names an
    instance, the other end (with or without a key) is an instance too."""

    block: Moved
    names: tuple[str, ...]  # the calls, from the root, of the module declaring it
    source: Endpoint
    target: Endpoint

    @property
    def keyword(self) -> SourceRange:
        pos = self.block.pos
        return SourceRange(pos.file, pos.line, pos.column, pos.line, pos.column + len("moved"))

    @property
    def start(self) -> str:
        return _start(self.block.pos)


def check_moves(declared: Declared) -> list[Diagnostic]:
    statements = list(_statements(declared))
    diags: list[Diagnostic] = []
    sources: dict[tuple[str, str], tuple[str, _Statement]] = {}  # (noun, from) -> (to, statement)
    targets: dict[tuple[str, str], tuple[str, _Statement]] = {}  # (noun, to) -> (from, statement)
    for stmt in statements:
        prefix = "".join(f"module.{name}." for name in stmt.names)
        for here in declared.instances.get(prefix, ()):
            diags.extend(_check_one(declared, stmt, here, sources, targets))
    if not any(d.is_error for d in diags):
        diags.extend(_cycles(statements))
    return diags


def _check_one(
    declared: Declared,
    stmt: _Statement,
    here: ModulePath,
    sources: dict[tuple[str, str], tuple[str, _Statement]],
    targets: dict[tuple[str, str], tuple[str, _Statement]],
) -> Iterator[Diagnostic]:
    place = [str(step) for step in here]
    source, target = _text(place, stmt.source), _text(place, stmt.target)
    noun, short = _nouns(stmt.source)
    address = ".".join(str(step) for step in here) or None  # one finding per module instance
    if stmt.source == stmt.target:
        yield error(
            "moved_redundant",
            "Redundant move statement",
            f"This statement declares a move from {source} to the same address, which is the same as "
            "not declaring this move at all.",
            address=address,
            range=stmt.keyword,
        )
        return
    where = _declared_at(declared, here, stmt.source)
    if where is not None:
        yield error(
            "moved_still_declared",
            "Moved object still exists",
            f"This statement declares a move from {source}, but that {noun} is still declared at {where}."
            f"\n\nChange your configuration so that this {short} will be declared as {target} instead.",
            address=address,
            range=stmt.keyword,
        )
    earlier = sources.setdefault((noun, source), (target, stmt))
    if earlier[0] != target:
        yield error(
            "moved_ambiguous",
            "Ambiguous move statements",
            f"A statement at {earlier[1].start} declared that {source} moved to {earlier[0]}, but this "
            f"statement instead declares that it moved to {target}.\n\n"
            f"Each {noun} can move to only one destination {short}.",
            address=address,
            range=stmt.keyword,
        )
    earlier = targets.setdefault((noun, target), (source, stmt))
    if earlier[0] != source:
        yield error(
            "moved_ambiguous",
            "Ambiguous move statements",
            f"A statement at {earlier[1].start} declared that {earlier[0]} moved to {target}, but this "
            f"statement instead declares that {source} moved there.\n\n"
            f"Each {noun} can have moved from only one source {short}.",
            address=address,
            range=stmt.keyword,
        )


def _statements(declared: Declared) -> Iterator[_Statement]:
    for prefix, module in declared.modules.items():
        names = tuple(prefix.split(".")[1::2])
        for block in module.moved:
            try:
                source, target = Endpoint.parse(block.from_address), Endpoint.parse(block.to_address)
            except AddressError:
                continue  # the decoder reported it
            if (source.resource is None) != (target.resource is None):
                continue  # a resource and a module: the decoder reported it
            if source.whole != target.whole:  # one end names an instance: so does the other
                source, target = replace(source, whole=False), replace(target, whole=False)
            yield _Statement(block, names, source, target)


def _nouns(end: Endpoint) -> tuple[str, str]:
    if end.resource is None:
        return ("module call", "call") if end.whole else ("module instance", "instance")
    return ("resource", "resource") if end.whole else ("resource instance", "instance")


def _text(place: list[str], end: Endpoint, *, star: str = "") -> str:
    """The end's address in the module instance ``place`` (``star``: the key written for every
    instance of a call and of a resource, in a statement shown for all its module's instances)."""
    parts = list(place)
    if end.resource is None:
        parts += [str(step) for step in end.module[:-1]]
        last = end.module[-1]
        parts.append(f"module.{last.name}" + (star if end.whole else format_key(end.key)))
    else:
        parts += [str(step) for step in end.module]
        key = star if end.whole else format_key(end.key)
        parts.append(f"{end.resource.type}.{end.resource.name}{key}")
    return ".".join(parts)


def _start(pos: ast.Pos) -> str:
    """``file:line,column``, the file as the diagnostics show it: a module's files (read by their
    full path) relative to the working directory when they are under it."""
    file = pos.file
    if os.path.isabs(file) and not os.path.relpath(file).startswith(".."):
        file = os.path.relpath(file)
    return f"{file}:{pos.line},{pos.column}"


def _expansion_start(block: Any) -> str:
    """Where a block's instances are decided: its for_each or count, else the block itself."""
    chosen = block.for_each if block.for_each is not None else block.count
    return _start(chosen.pos if chosen is not None else block.pos)


def _declared_at(declared: Declared, here: ModulePath, end: Endpoint) -> str | None:
    """Where the configuration still declares the address ``end`` names in ``here``, if it does."""
    if end.resource is None:
        caller = here + end.module[:-1]
        module = declared.module_of(caller)
        call = module.module_calls.get(end.module[-1].name) if module is not None else None
        if call is None:
            return None
        if end.whole:
            return _start(call.pos)
        if not declared.has_module_instance(caller + (ModuleStep(end.module[-1].name, end.key),)):
            return None
        return _expansion_start(call)
    path = here + end.module
    module = declared.module_of(path)
    name = f"{end.resource.type}.{end.resource.name}"
    resource = module.resources.get(name) if module is not None else None
    if resource is None:
        return None
    if end.whole:
        return _start(resource.pos)
    keys = declared.resource_keys.get((path, name), ())
    if not any(type(key) is type(end.key) and key == end.key for key in keys):  # 0 and "0" differ
        return None
    return _expansion_start(resource)


def _cycles(statements: list[_Statement]) -> list[Diagnostic]:
    """Statements chained (one's ``to`` is another's ``from``, in the same module) into a loop."""
    ends = {id(s): (s.names, s.source) for s in statements}
    following: dict[int, list[_Statement]] = {
        id(a): [b for b in statements if b is not a and (a.names, a.target) == ends[id(b)]]
        for a in statements
    }
    diags = []
    for component in _strongly_connected(statements, following):
        if len(component) < 2:
            continue
        lines = sorted(
            f"\n  - {s.start}: {_static_text(s, s.source)} \u2192 {_static_text(s, s.target)}"
            for s in component
        )
        diags.append(
            error(
                "moved_cycle",
                "Cyclic dependency in move statements",
                "The following chained move statements form a cycle, and so there is no final location "
                f"to move objects to:{''.join(lines)}\n\nA chain of move statements must end with an "
                "address that doesn't appear in any other statements, and which typically also refers "
                "to an object still declared in the configuration.",
            )
        )
    return diags


def _static_text(stmt: _Statement, end: Endpoint) -> str:
    return _text([f"module.{name}[*]" for name in stmt.names], end, star="[*]")


def _strongly_connected(
    statements: list[_Statement], following: dict[int, list[_Statement]]
) -> list[list[_Statement]]:
    """Tarjan's algorithm; the components come in the order of their first statement."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[_Statement] = []
    on_stack: set[int] = set()
    found: list[list[_Statement]] = []

    def visit(stmt: _Statement) -> None:
        index[id(stmt)] = low[id(stmt)] = len(index)
        stack.append(stmt)
        on_stack.add(id(stmt))
        for nxt in following[id(stmt)]:
            if id(nxt) not in index:
                visit(nxt)
                low[id(stmt)] = min(low[id(stmt)], low[id(nxt)])
            elif id(nxt) in on_stack:
                low[id(stmt)] = min(low[id(stmt)], index[id(nxt)])
        if low[id(stmt)] == index[id(stmt)]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(id(top))
                component.append(top)
                if top is stmt:
                    break
            found.append(component)

    for stmt in statements:
        if id(stmt) not in index:
            visit(stmt)
    order = {id(s): i for i, s in enumerate(statements)}
    return sorted(found, key=lambda c: min(order[id(s)] for s in c))


def _prefix(path: ModulePath) -> str:
    return "".join(f"module.{step.name}." for step in path)

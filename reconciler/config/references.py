"""What an expression refers to: the edges of the dependency graph.

``references(expr)`` lists every traversal that starts at a root name, in source
order, as a ``Reference``:

* ``subject`` - the referenced object: ``("var", "region")``, ``("local", "x")``,
  ``("azurerm_key_vault", "kv")``, ``("data", "azurerm_client_config", "current")``,
  ``("module", "net", "out")``, ``("count", "index")``, ``("each", "key")``,
  ``("path", "module")``, ``("terraform", "workspace")``, ``("self", "id")``;
* ``remaining`` - the rest of the static traversal (attribute names as ``str``,
  literal index keys as ``str``/``int``), e.g. ``(0, "id")`` for ``x.y[0].id``;
* ``pos`` - where the whole traversal is written.

A traversal stops at the first index whose key isn't a literal; that key's own
references are listed separately. Names bound by a for-expression or a template
``%{for}`` are local to it and are not references, nor is the element of a splat.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from reconciler.config import ast

Step = str | int

# How many leading names identify the object behind each kind of root name.
SUBJECT_WIDTH: dict[str, int] = {
    "var": 2,
    "local": 2,
    "count": 2,
    "each": 2,
    "path": 2,
    "terraform": 2,
    "self": 2,
    "module": 3,
    "data": 3,
}
DEFAULT_SUBJECT_WIDTH = 2  # a managed resource: type and name


@dataclass(frozen=True, slots=True)
class Reference:
    subject: tuple[str, ...]
    remaining: tuple[Step, ...]
    pos: ast.Pos
    keyed: tuple[bool, ...] = ()  # per remaining step: written as an index ``[...]`` (True) or ``.name``

    def is_index(self, i: int) -> bool:
        """Whether remaining step ``i`` was written in brackets (``x["a"]``, ``x[0]``)."""
        if i < len(self.keyed):
            return self.keyed[i]
        return isinstance(self.remaining[i], int)

    @property
    def root(self) -> str:
        return self.subject[0]

    @property
    def is_resource(self) -> bool:
        return self.root not in SUBJECT_WIDTH

    def __str__(self) -> str:
        text = ".".join(self.subject)
        for i, step in enumerate(self.remaining):
            if isinstance(step, int):
                text += f"[{step}]"
            elif self.is_index(i):
                text += "[" + json.dumps(step) + "]"
            else:
                text += f".{step}"
        return text


def references(expr: ast.Expr) -> list[Reference]:
    """Every reference in ``expr``, in source order (duplicates kept, each with its position)."""
    seen = _SEEN.get(id(expr))
    if seen is not None and seen[0] is expr:
        return list(seen[1])
    out: list[Reference] = []
    _walk(expr, frozenset(), out)
    if len(_SEEN) >= _SEEN_LIMIT:
        _SEEN.clear()
    _SEEN[id(expr)] = (expr, tuple(out))
    return out


# Validation, the configuration graph and the plan each ask for the references of every
# expression: remembered per node (trees are immutable; the node is kept with its entry, so
# its id can't be reused while the entry lives). Bounded, so a long process doesn't grow.
_SEEN: dict[int, tuple[ast.Expr, tuple[Reference, ...]]] = {}
_SEEN_LIMIT = 100_000


def body_references(body: ast.Body) -> list[Reference]:
    """References of every attribute in ``body`` and its nested blocks."""
    out: list[Reference] = []
    for attr in body.attributes:
        _walk(attr.expr, frozenset(), out)
    for block in body.blocks:
        out.extend(body_references(block.body))
    return out


# --------------------------------------------------------------------------- traversal chains


def _literal_key(key: ast.Expr) -> Step | None:
    if isinstance(key, ast.Literal):
        v = key.value
        if isinstance(v, bool) or v is None:
            return None
        if isinstance(v, float) and v.is_integer():
            return int(v)
        return v if isinstance(v, (str, int)) else None
    if isinstance(key, ast.Template) and all(isinstance(p, str) for p in key.parts):
        return "".join(key.parts)  # type: ignore[arg-type]
    return None


def _unwind(expr: ast.Expr) -> tuple[ast.Variable, list[ast.GetAttr | ast.Index]] | None:
    """The root Variable and the GetAttr/Index nodes above it (innermost first)."""
    nodes: list[ast.GetAttr | ast.Index] = []
    node = expr
    while isinstance(node, (ast.GetAttr, ast.Index)):
        nodes.append(node)
        node = node.obj
    if not isinstance(node, ast.Variable):
        return None
    nodes.reverse()
    return node, nodes


def _chain_reference(
    root: ast.Variable, nodes: list[ast.GetAttr | ast.Index], outer: ast.Expr, dynamic: list[ast.Expr]
) -> Reference:
    """Build the reference; keys that aren't literals are appended to ``dynamic``."""
    steps: list[Step] = []
    keyed: list[bool] = []
    for node in nodes:
        if isinstance(node, ast.Index):
            key = _literal_key(node.key)
            if key is None:
                dynamic.append(node.key)
                continue
        else:
            key = node.name
        if not dynamic:  # the static traversal ends at the first computed key
            steps.append(key)
            keyed.append(isinstance(node, ast.Index))
    width = SUBJECT_WIDTH.get(root.name, DEFAULT_SUBJECT_WIDTH)
    subject = [root.name]
    while len(subject) < width and steps and isinstance(steps[0], str) and not keyed[0]:
        subject.append(steps.pop(0))  # type: ignore[arg-type]
        keyed.pop(0)
    end = outer.pos
    pos = ast.Pos(root.pos.file, root.pos.line, root.pos.column, end.end_line, end.end_column)
    return Reference(tuple(subject), tuple(steps), pos, tuple(keyed))


# --------------------------------------------------------------------------- the walk


def _walk(expr: ast.Expr, bound: frozenset[str], out: list[Reference]) -> None:
    unwound = _unwind(expr) if isinstance(expr, (ast.Variable, ast.GetAttr, ast.Index)) else None
    if unwound is not None:
        root, nodes = unwound
        dynamic: list[ast.Expr] = []
        ref = _chain_reference(root, nodes, expr, dynamic)
        if root.name not in bound:
            out.append(ref)
        for key in dynamic:
            _walk(key, bound, out)
        return
    if isinstance(expr, ast.For):
        _walk(expr.collection, bound, out)
        inner = bound | _names(expr.key_var, expr.value_var)
        for sub in (expr.key, expr.value, expr.cond):
            if sub is not None:
                _walk(sub, inner, out)
        return
    if isinstance(expr, ast.Template):
        _walk_parts(expr.parts, bound, out)
        return
    for child in ast.children(expr):
        _walk(child, bound, out)


def _names(key_var: str | None, value_var: str) -> frozenset[str]:
    return frozenset(n for n in (key_var, value_var) if n)


def _walk_parts(parts, bound: frozenset[str], out: list[Reference]) -> None:
    for part in parts:
        if isinstance(part, ast.TemplateInterp):
            _walk(part.expr, bound, out)
        elif isinstance(part, ast.TemplateIf):
            _walk(part.cond, bound, out)
            _walk_parts(part.then, bound, out)
            _walk_parts(part.else_, bound, out)
        elif isinstance(part, ast.TemplateFor):
            _walk(part.collection, bound, out)
            _walk_parts(part.body, bound | _names(part.key_var, part.value_var), out)


def walk_expressions(expr: ast.Expr) -> Iterator[ast.Expr]:
    """Every expression node inside ``expr`` (itself included), depth first."""
    yield expr
    for child in ast.children(expr):
        yield from walk_expressions(child)


# for readers that need a traversal past its computed keys (the plan's view for provider rules)
unwind_traversal = _unwind
literal_key = _literal_key

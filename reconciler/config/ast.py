"""The syntax tree vaultform evaluates: python-hcl2's typed tree, converted once.

The loader (``reconciler.config.loader``) turns each file's ``hcl2.parses`` tree
into these frozen nodes, each carrying its source ``Pos``. They are small,
picklable (the parse cache stores them) and independent of python-hcl2's
classes, so the evaluator and the validator never touch Lark.

Expressions
-----------
``Literal``         a string, number, bool or null written directly
``Template``        a quoted string or heredoc with ``${...}`` / ``%{...}`` parts
``Variable``        a root name: ``var``, ``local``, ``azurerm_key_vault``, ``each`` …
``GetAttr``         ``obj.name``
``Index``           ``obj[key]`` (also legacy ``obj.0``)
``Splat``           ``src[*].a.b`` / ``src.*.a``: ``each`` is applied to every element,
                    with ``SplatItem`` standing for the element
``Call``            ``name(args...)``; ``expand_final`` for ``f(list...)``
``Unary``/``Binary``  operators ("-", "!" / "+", "-", "*", "/", "%", "==", "!=",
                    "<", ">", "<=", ">=", "&&", "||")
``Conditional``     ``cond ? a : b``
``For``             ``[for k, v in coll : value if cond]`` and ``{for ... : key => value}``
``TupleCons``       ``[a, b]``
``ObjectCons``      ``{ key = value }``; a bare identifier key is a ``Literal`` string
``Parens``          ``( expr )`` (kept so an object key in parentheses is evaluated)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.diagnostics import SourceRange


@dataclass(frozen=True, slots=True)
class Pos:
    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def range(self) -> SourceRange:
        return SourceRange(self.file, self.line, self.column, self.end_line, self.end_column)


# --------------------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any  # str | int | float | bool | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class TemplateInterp:
    expr: Expr
    strip_left: bool = False
    strip_right: bool = False


@dataclass(frozen=True, slots=True)
class TemplateIf:
    cond: Expr
    then: tuple[TemplatePart, ...]
    else_: tuple[TemplatePart, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class TemplateFor:
    key_var: str | None
    value_var: str
    collection: Expr
    body: tuple[TemplatePart, ...]
    pos: Pos


TemplatePart = str | TemplateInterp | TemplateIf | TemplateFor


@dataclass(frozen=True, slots=True)
class Template:
    parts: tuple[TemplatePart, ...]
    pos: Pos
    heredoc: bool = False


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class GetAttr:
    obj: Expr
    name: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Index:
    obj: Expr
    key: Expr
    pos: Pos


@dataclass(frozen=True, slots=True)
class SplatItem:
    pos: Pos


@dataclass(frozen=True, slots=True)
class Splat:
    source: Expr
    each: Expr  # built on SplatItem
    pos: Pos


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    pos: Pos
    expand_final: bool = False


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: Expr
    pos: Pos


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Expr
    right: Expr
    pos: Pos


@dataclass(frozen=True, slots=True)
class Conditional:
    cond: Expr
    true: Expr
    false: Expr
    pos: Pos


@dataclass(frozen=True, slots=True)
class For:
    key_var: str | None
    value_var: str
    collection: Expr
    value: Expr
    pos: Pos
    key: Expr | None = None  # set for object-for expressions
    cond: Expr | None = None
    grouping: bool = False  # the "..." after the value of an object-for


@dataclass(frozen=True, slots=True)
class TupleCons:
    items: tuple[Expr, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class ObjectCons:
    items: tuple[tuple[Expr, Expr], ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class Parens:
    expr: Expr
    pos: Pos


Expr = (
    Literal
    | Template
    | Variable
    | GetAttr
    | Index
    | SplatItem
    | Splat
    | Call
    | Unary
    | Binary
    | Conditional
    | For
    | TupleCons
    | ObjectCons
    | Parens
)


# --------------------------------------------------------------------------- structure


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    expr: Expr
    pos: Pos  # the whole "name = expr"
    name_pos: Pos  # just the name


@dataclass(frozen=True, slots=True)
class Block:
    type: str
    labels: tuple[str, ...]
    body: Body
    pos: Pos  # the header line through the closing brace
    label_pos: tuple[Pos, ...] = ()


@dataclass(frozen=True, slots=True)
class Body:
    attributes: tuple[Attribute, ...]
    blocks: tuple[Block, ...]
    pos: Pos

    def attribute(self, name: str) -> Attribute | None:
        for a in self.attributes:
            if a.name == name:
                return a
        return None

    def blocks_of(self, type_: str) -> tuple[Block, ...]:
        return tuple(b for b in self.blocks if b.type == type_)


@dataclass(frozen=True, slots=True)
class File:
    path: str
    body: Body


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``expr`` (for walks such as reference finding)."""
    match expr:
        case Literal() | Variable() | SplatItem():
            return ()
        case Template(parts=parts):
            return tuple(_template_children(parts))
        case GetAttr(obj=o):
            return (o,)
        case Index(obj=o, key=k):
            return (o, k)
        case Splat(source=s, each=e):
            return (s, e)
        case Call(args=args):
            return args
        case Unary(operand=o):
            return (o,)
        case Binary(left=l, right=r):
            return (l, r)
        case Conditional(cond=c, true=t, false=f):
            return (c, t, f)
        case For(collection=c, value=v, key=k, cond=cond):
            return tuple(x for x in (c, k, v, cond) if x is not None)
        case TupleCons(items=items):
            return items
        case ObjectCons(items=items):
            return tuple(x for pair in items for x in pair)
        case Parens(expr=e):
            return (e,)
    return ()


def _template_children(parts):
    for p in parts:
        if isinstance(p, TemplateInterp):
            yield p.expr
        elif isinstance(p, TemplateIf):
            yield p.cond
            yield from _template_children(p.then)
            yield from _template_children(p.else_)
        elif isinstance(p, TemplateFor):
            yield p.collection
            yield from _template_children(p.body)

"""Which collections of a value are lists, sets and maps, for terraform's wrappers and types.

vaultform's values are plain Python lists and dicts; terraform tells a list, a set and a map from a
tuple and an object: its console and apply's "Outputs:" wrap them (``tolist([...])``,
``toset([...])``, ``tomap({...})``), and the state and ``output -json`` record their types
(``["list", "dynamic"]``) - terraform 1.11, checked side by side. The kind is read from the
expression: the conversion functions and the functions that return a list, set or map (their kinds
checked against ``terraform console``), through tuple and object constructors and parentheses; a
reference is answered by ``resolve`` (a resource attribute's type in its provider's schema, a
variable's declared type: ``reconciler.reference_shapes``). Anything else is a tuple or an object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reconciler.config import ast
from reconciler.values import UNKNOWN, unmark


@dataclass(frozen=True)
class Shape:
    """``kind``: "list", "set" or "map" (every element has ``element``'s shape), "tuple" (``items``
    by position) or "object" (``fields`` by key)."""

    kind: str
    element: Shape | None = None
    items: tuple[Shape | None, ...] = ()
    fields: tuple[tuple[str, Shape | None], ...] = ()

    def item(self, index: int) -> Shape | None:
        if self.kind == "tuple":  # ``element``: the shape of every item not in ``items``
            return self.items[index] if index < len(self.items) else self.element
        return self.element

    def field(self, key: str) -> Shape | None:
        if self.kind == "object":  # ``element``: the shape of every field not in ``fields``
            return dict(self.fields).get(key, self.element)
        return self.element


Resolve = Callable[[ast.Expr], "Shape | None"]

# functions whose result is a list, set or map of their (first) argument's elements
_CONVERSIONS = {"tolist": "list", "toset": "set", "tomap": "map"}
# functions whose result is a list / set of the argument's elements, as terraform console shows them
_LIST_OF_ELEMENTS = {"sort", "distinct", "compact", "matchkeys"}
_SET_OF_ELEMENTS = {"setunion", "setintersection", "setsubtract"}
# functions whose result is a list of plain values
_LIST_OF_VALUES = {"split", "range", "regexall", "formatlist", "cidrsubnets", "csvdecode"}
_SET_OF_VALUES = {"fileset"}


def _keys(args: list[Shape | None]) -> Shape | None:
    # keys(map) is a list of strings, keys(object) a tuple
    kind = args[0].kind if args[0] is not None else ""
    return Shape("list") if kind == "map" else Shape("tuple") if kind == "object" else None


def _values(args: list[Shape | None]) -> Shape | None:
    # values(map) is a list of the map's elements, values(object) a tuple
    first = args[0]
    if first is not None and first.kind == "map":
        return Shape("list", element=first.element)
    return Shape("tuple") if first is not None and first.kind == "object" else None


def _zipmap(args: list[Shape | None]) -> Shape | None:
    # zipmap(keys, values) is a map when the values are a list, an object when they are a tuple
    values = args[1] if len(args) > 1 else None
    if values is not None and values.kind == "list":
        return Shape("map", element=values.element)
    return Shape("object") if values is not None and values.kind == "tuple" else None


def _all_of(kind: str, other: str) -> Callable[[list[Shape | None]], Shape | None]:
    """concat() of lists is a list and merge() of maps a map; one tuple (object) among them makes
    the result a tuple (an object)."""

    def combined(args: list[Shape | None]) -> Shape | None:
        kinds = {a.kind if a is not None else None for a in args}
        if kinds == {kind}:
            return Shape(kind, element=_element(next(a for a in args if a is not None)))
        return Shape(other) if other in kinds else None

    return combined


def _ordered_like(args: list[Shape | None]) -> Shape | None:
    # reverse() and slice() of a list (reverse of a set too) are lists; of a tuple, tuples
    first = args[0]
    if first is None:
        return None
    if first.kind in ("list", "set"):
        return Shape("list", element=first.element)
    return Shape("tuple") if first.kind == "tuple" else None


# functions whose result's kind follows their arguments' (terraform 1.11 console, side by side:
# keys(var.map) is tolist([...]), keys({a = 1}) a tuple; concat(var.list, ["b"]) a tuple)
_AS_ARGUMENTS: dict[str, Callable[[list[Shape | None]], Shape | None]] = {
    "keys": _keys,
    "values": _values,
    "concat": _all_of("list", "tuple"),
    "merge": _all_of("map", "object"),
    "reverse": _ordered_like,
    "slice": _ordered_like,
    "zipmap": _zipmap,
}


def shape_of(expr: ast.Expr, resolve: Resolve | None = None) -> Shape | None:
    """The shape the expression gives its value; ``resolve`` answers for references (a resource's
    attribute is a list, set or map by its schema: ``reconciler.reference_shapes``)."""
    if isinstance(expr, ast.Parens):
        return shape_of(expr.expr, resolve)
    if isinstance(expr, ast.Conditional):
        return _unified(expr.true, expr.false, resolve)
    if isinstance(expr, ast.For):  # [for ...] makes a tuple, {for ...} an object
        return Shape("object" if expr.key is not None else "tuple")
    if isinstance(expr, ast.TupleCons):
        return Shape("tuple", items=tuple(shape_of(i, resolve) for i in expr.items))
    if isinstance(expr, ast.ObjectCons):
        fields = []
        for key, value in expr.items:
            inner = key.expr if isinstance(key, ast.Parens) else key
            if isinstance(inner, ast.Literal) and isinstance(inner.value, str):
                fields.append((inner.value, shape_of(value, resolve)))
        return Shape("object", fields=tuple(fields))
    if isinstance(expr, ast.Call) and expr.args and not expr.expand_final:
        name = expr.name
        if name in _CONVERSIONS:
            return Shape(_CONVERSIONS[name], element=_element(shape_of(expr.args[0], resolve)))
        if name in _LIST_OF_ELEMENTS:
            return Shape("list", element=_element(shape_of(expr.args[0], resolve)))
        if name in _SET_OF_ELEMENTS:
            return Shape("set", element=_element(shape_of(expr.args[0], resolve)))
        if name in _LIST_OF_VALUES:
            return Shape("list")
        if name in _SET_OF_VALUES:
            return Shape("set")
        if name == "setproduct":
            # a set when any argument is a set, else a list (go-cty's SetProductFunc); the
            # elements are tuples
            kinds = [shape_of(a, resolve) for a in expr.args]
            return Shape("set" if any(k is not None and k.kind == "set" for k in kinds) else "list")
        if name == "chunklist":
            return Shape("list", element=Shape("list", element=_element(shape_of(expr.args[0], resolve))))
        if name == "transpose":
            return Shape("map", element=Shape("list"))
        if name in _AS_ARGUMENTS:
            return _AS_ARGUMENTS[name]([shape_of(a, resolve) for a in expr.args])
    if isinstance(expr, ast.Splat):
        # over a list or a set: a list of what each item gives (terraform 1.11: var.names[*] of a
        # set(string) is a "list of string"); over a tuple a tuple, and any other value is taken
        # as a one-element tuple (local.m[*] of a map is a "tuple")
        source = shape_of(expr.source, resolve)
        if source is None:
            return None
        return Shape("list") if source.kind in ("list", "set") else Shape("tuple")
    if resolve is not None and isinstance(expr, (ast.GetAttr, ast.Index)):
        return resolve(expr)
    return None


_COLLECTION_OF = {"tuple": ("list", "set"), "object": ("map",)}  # what a literal converts to


def _unified(one: ast.Expr, other: ast.Expr, resolve: Resolve | None) -> Shape | None:
    """The kind of ``cond ? one : other``: terraform unifies the two (terraform 1.11 console):
    a list and a set make a list; a list, set or map and a literal tuple or object make the
    collection; two tuples of different lengths make a list and two objects with different
    attributes a map (the same make themselves). None when that can't be told."""
    a, b = shape_of(one, resolve), shape_of(other, resolve)
    if a is None or b is None:
        return None
    kinds = {a.kind, b.kind}
    element = _element(a) or _element(b)
    if kinds == {"list", "set"}:
        return Shape("list", element=element)
    if len(kinds) == 2:
        collection = next((k for k in kinds if k in ("list", "set", "map")), None)
        literal = next((k for k in kinds if k in _COLLECTION_OF), None)
        if collection and literal and collection in _COLLECTION_OF[literal]:
            return Shape(collection, element=element)
        return None
    if a.kind == "tuple":  # lengths are known only for two [...] literals
        if not (isinstance(_bare(one), ast.TupleCons) and isinstance(_bare(other), ast.TupleCons)):
            return None
        return a if len(a.items) == len(b.items) else Shape("list", element=element)
    if a.kind == "object":
        if not (isinstance(_bare(one), ast.ObjectCons) and isinstance(_bare(other), ast.ObjectCons)):
            return None
        same = {k for k, _ in a.fields} == {k for k, _ in b.fields}
        return a if same else Shape("map", element=element)
    return a


def kinds_differ(one: Shape | None, other: Shape | None) -> bool:
    """Whether two shapes are surely of different types: a list, set or map is never equal to a
    tuple or an object, nor to each other (terraform 1.11: ``tolist([1]) == [1]`` is false). The
    items of tuples and the fields of objects are compared too; a collection's element shape is
    only a guess from its first element, so it is not. False when either can't be told."""
    if one is None or other is None:
        return False
    if one.kind != other.kind:
        return True
    if one.kind == "tuple":
        return any(kinds_differ(a, b) for a, b in zip(one.items, other.items))
    if one.kind == "object":
        theirs = dict(other.fields)
        return any(kinds_differ(shape, theirs.get(key)) for key, shape in one.fields)
    return False


def _bare(expr: ast.Expr) -> ast.Expr:
    while isinstance(expr, ast.Parens):
        expr = expr.expr
    return expr


def _element(shape: Shape | None) -> Shape | None:
    """The shape every element of a collection built from ``shape`` has (the first one known)."""
    if shape is None:
        return None
    if shape.kind == "tuple":
        return next((s for s in shape.items if s is not None), shape.element)
    if shape.kind == "object":
        return next((s for _, s in shape.fields if s is not None), shape.element)
    return shape.element


def type_text(value: Any, shape: Shape | None) -> str:
    """The type of ``value`` as terraform console's ``type()`` writes it (repl/session.go
    typeString): ``number``, ``list(string)``, ``object({...})`` over lines with four-space steps."""
    return _text(type_json(value, shape), 0)


def _pad(indent: int) -> str:
    return "    " * indent


def _text(recorded: Any, indent: int) -> str:
    """A type in ``type_json``'s form as console text."""
    if isinstance(recorded, str):
        return recorded
    kind, inner = recorded
    if kind in ("list", "set", "map"):
        return _collection(kind, _text(inner, indent + 1), indent)
    if kind == "tuple":
        if not inner:
            return "tuple([])"
        lines = [f"{_pad(indent + 1)}{_text(t, indent + 1)},\n" for t in inner]
        return "tuple([\n" + "".join(lines) + _pad(indent) + "])"
    if not inner:
        return "object({})"
    lines = [f"{_pad(indent + 1)}{k}: {_text(t, indent + 1)},\n" for k, t in inner.items()]
    return "object({\n" + "".join(lines) + _pad(indent) + "})"


def _collection(kind: str, element: str, indent: int) -> str:
    if element.startswith(("object(", "tuple(")):
        return f"{kind}(\n{_pad(indent + 1)}{element},\n{_pad(indent)})"
    return f"{kind}({element})"


# --------------------------------------------------------------------------- recorded types


def type_json(value: Any, shape: Shape | None = None) -> Any:
    """The type of ``value`` as terraform records it beside an output (state, ``output -json``):
    cty's JSON form - ``"string"``, ``["list", "dynamic"]``, ``["object", {...}]``. Without a shape
    a collection is a tuple or an object, as terraform infers a literal's type."""
    value, _marked = unmark(value)
    if value is None or value is UNKNOWN:
        return "dynamic"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float, Decimal)):
        return "number"
    if isinstance(value, str):
        return "string"
    kind = shape.kind if shape is not None else ""
    if isinstance(value, (list, tuple)) and kind in ("list", "set"):
        return [kind, type_json(value[0], shape.item(0) if shape else None) if value else _declared(shape)]
    if isinstance(value, dict) and kind == "map":
        first = sorted(value, key=str)[0] if value else None
        return [
            "map",
            type_json(value[first], shape.field(str(first)) if shape else None)
            if value
            else _declared(shape),
        ]
    if isinstance(value, (list, tuple)):
        return ["tuple", [type_json(v, shape.item(i) if shape else None) for i, v in enumerate(value)]]
    if isinstance(value, dict):  # attributes in name order, as cty writes an object type
        names = sorted(value, key=str)
        return [
            "object",
            {str(k): type_json(value[k], shape.field(str(k)) if shape else None) for k in names},
        ]
    return "dynamic"


_PRIMITIVE_KINDS = frozenset({"string", "number", "bool"})


def _declared(collection: Shape | None) -> Any:
    """The element type of an empty collection, where its declaration says it all (a variable's
    ``list(string)``, a schema's set of strings); "dynamic" otherwise."""
    element = collection.element if collection is not None else None
    if element is None:
        return "dynamic"
    if element.kind in _PRIMITIVE_KINDS:
        return element.kind
    if element.kind in ("list", "set", "map"):
        return [element.kind, _declared(element)]
    return "dynamic"


def shape_of_type(recorded: Any) -> Shape | None:
    """The shape a recorded type (``type_json``'s form) gives its value when printed."""
    if not isinstance(recorded, list) or len(recorded) != 2:
        return None
    kind, inner = recorded
    if kind in ("list", "set", "map"):
        return Shape(kind, element=shape_of_type(inner))
    if kind == "tuple" and isinstance(inner, list):
        return Shape("tuple", items=tuple(shape_of_type(t) for t in inner))
    if kind == "object" and isinstance(inner, dict):
        return Shape("object", fields=tuple((str(k), shape_of_type(t)) for k, t in inner.items()))
    return None


def output_type(
    value: Any, expr: ast.Expr, resolve: Resolve | None = None, source: ast.Expr | None = None
) -> Any:
    """The type to record for an output whose value is written ``expr``, or None when it is the one
    its value alone gives (a tuple or an object all the way down). ``source``: the part of ``expr``
    the value came from (the argument try() took), asked when ``expr`` alone doesn't tell."""
    shape = shape_of(expr, resolve)
    if shape is None and source is not None and source is not expr:
        shape = shape_of(source, resolve)
    if shape is None:
        return None
    found = type_json(value, shape)
    return None if found == type_json(value) else found

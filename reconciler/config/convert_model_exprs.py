"""Static readings of expressions for the module model (no evaluation).

Literal strings and bools, references (``azurerm_key_vault.kv``,
``module.net``), provider references (``azurerm.west``) and the canonical text
of a resource or module address written as a bare traversal.
"""

from __future__ import annotations

import json
import re

from reconciler.config import ast
from reconciler.config.model import ProviderRef
from reconciler.config.references import references


def literal_string(expr: ast.Expr) -> str | None:
    if isinstance(expr, ast.Literal) and isinstance(expr.value, str):
        return expr.value
    return None


def literal_bool(expr: ast.Expr) -> bool | None:
    if isinstance(expr, ast.Literal) and isinstance(expr.value, bool):
        return expr.value
    return None


Step = tuple[str, object]  # ("attr", name) | ("index", ast.Expr)


def traversal_steps(expr: ast.Expr) -> tuple[str, list[Step]] | None:
    """``a.b[0].c`` -> ("a", [("attr", "b"), ("index", Literal 0), ("attr", "c")]); None if not a traversal."""
    steps: list[Step] = []
    while True:
        if isinstance(expr, ast.Variable):
            steps.reverse()
            return expr.name, steps
        if isinstance(expr, ast.GetAttr):
            steps.append(("attr", expr.name))
            expr = expr.obj
        elif isinstance(expr, ast.Index):
            steps.append(("index", expr.key))
            expr = expr.obj
        else:
            return None


def is_reference(expr: ast.Expr) -> bool:
    """A bare traversal whose index keys are literals (``x.y``, ``x.y[0]``, ``module.m``)."""
    found = traversal_steps(expr)
    if found is None:
        return False
    return all(kind == "attr" or isinstance(value, ast.Literal) for kind, value in found[1])


def past_whole_object(expr: ast.Expr) -> ast.Pos | None:
    """Where a reference goes on past the whole object it names - ``.output`` of
    ``terraform_data.a.output``, ``.x`` of ``var.v.x`` - or None when it names a whole object: a
    resource or data source (with its instance key), a module call (with its key, or an output of
    it), a variable or a local. terraform 1.11 marks that part for depends_on."""
    nodes: list[ast.GetAttr | ast.Index] = []
    node = expr
    while isinstance(node, (ast.GetAttr, ast.Index)):
        nodes.append(node)
        node = node.obj
    found = references(expr)
    if not isinstance(node, ast.Variable) or not found:
        return None
    nodes.reverse()
    ref = found[0]
    keyed = [ref.is_index(i) for i in range(len(ref.remaining))]
    steps = len(ref.subject) - 1
    if ref.root == "module" and len(ref.subject) == 2 and keyed[:1] == [True]:
        steps += 2 if keyed[1:2] == [False] else 1  # module.m["a"] and module.m["a"].out
    elif (ref.is_resource or ref.subject[0] == "data") and keyed[:1] == [True]:
        steps += 1
    if len(nodes) <= steps:
        return None
    start = nodes[steps - 1].pos if steps else node.pos
    return ast.Pos(expr.pos.file, start.end_line, start.end_column, expr.pos.end_line, expr.pos.end_column)


def reference_list(expr: ast.Expr) -> tuple[tuple[ast.Expr, ...], ast.Expr | None]:
    """The items of a ``[ref, ...]`` list, and the first offending expression (or None)."""
    if not isinstance(expr, ast.TupleCons):
        return (), expr
    for item in expr.items:
        if not is_reference(item):
            return expr.items, item
    return expr.items, None


# what an index of a replace_triggered_by item may refer to besides literals: the instance's own
# key (terraform 1.11 accepts terraform_data.src[count.index] and terraform_data.src[each.key].output)
_INSTANCE_KEYS = frozenset({("count", "index"), ("each", "key")})


def is_trigger(expr: ast.Expr) -> bool:
    """A bare traversal whose index keys are literals or refer to ``count.index`` / ``each.key``."""
    found = traversal_steps(expr)
    if found is None:
        return False
    return all(
        kind == "attr"
        or isinstance(value, ast.Literal)
        or all(ref.subject in _INSTANCE_KEYS for ref in references(value))  # type: ignore[arg-type]
        for kind, value in found[1]
    )


def trigger_list(expr: ast.Expr) -> tuple[tuple[ast.Expr, ...], ast.Expr | None]:
    """The items of a ``replace_triggered_by`` list, and the first offending expression (or None)."""
    if not isinstance(expr, ast.TupleCons):
        return (), expr
    for item in expr.items:
        if not is_trigger(item):
            return expr.items, item
    return expr.items, None


# a reference written in quotes, as terraform 0.11 required: "terraform_data.b", "tags[\"team\"]"
_QUOTED_STEP = re.compile(r'\.([A-Za-z_][\w-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')
_QUOTED_ROOT = re.compile(r"[A-Za-z_][\w-]*")


def unquoted_reference(expr: ast.Expr) -> ast.Expr | None:
    """The reference a quoted string spells (``"terraform_data.b"`` -> ``terraform_data.b``), placed
    where the string is; None when ``expr`` is no such string."""
    if not (isinstance(expr, ast.Literal) and isinstance(expr.value, str)):
        return None
    text, pos = expr.value, expr.pos
    root = _QUOTED_ROOT.match(text)
    if root is None:
        return None
    out: ast.Expr = ast.Variable(root.group(0), pos)
    at = root.end()
    while at < len(text):
        step = _QUOTED_STEP.match(text, at)
        if step is None:
            return None
        name, number, key = step.groups()
        if name is not None:
            out = ast.GetAttr(out, name, pos)
        elif number is not None:
            out = ast.Index(out, ast.Literal(int(number), pos), pos)
        else:
            out = ast.Index(out, ast.Literal(json.loads(f'"{key}"'), pos), pos)
        at = step.end()
    return out


def provider_ref(expr: ast.Expr):
    if isinstance(expr, ast.Variable):
        return ProviderRef(expr.name, None, expr.pos)
    if isinstance(expr, ast.GetAttr) and isinstance(expr.obj, ast.Variable):
        return ProviderRef(expr.obj.name, expr.name, expr.pos)
    return None


def _key_text(key: ast.Expr, allow_exprs: bool) -> str | None:
    if isinstance(key, ast.Literal) and isinstance(key.value, (int, str)) and not isinstance(key.value, bool):
        return json.dumps(key.value) if isinstance(key.value, str) else str(key.value)
    if allow_exprs:
        found = traversal_steps(key)
        if found is not None and all(kind == "attr" for kind, _ in found[1]):
            return ".".join([found[0], *(str(v) for _, v in found[1])])
    return None


def traversal_address(expr: ast.Expr, *, allow_module: bool, allow_key_exprs: bool = False) -> str | None:
    """Canonical text of ``[module.a[k].]...[data.]type.name[k]`` written as a traversal, else None."""
    found = traversal_steps(expr)
    if found is None:
        return None
    root, steps = found
    tokens: list[Step] = [("attr", root), *steps]
    out: list[str] = []
    i = 0

    def key_at(j: int) -> tuple[str, int] | None:
        """The ``[key]`` text at ``tokens[j]`` (or "") and the next index; None for a bad key."""
        if j < len(tokens) and tokens[j][0] == "index":
            text = _key_text(tokens[j][1], allow_key_exprs)  # type: ignore[arg-type]
            return None if text is None else (f"[{text}]", j + 1)
        return "", j

    while i + 1 < len(tokens) and tokens[i] == ("attr", "module") and tokens[i + 1][0] == "attr":
        found_key = key_at(i + 2)
        if found_key is None:
            return None
        out.append(f"module.{tokens[i + 1][1]}{found_key[0]}")
        i = found_key[1]
    if i == len(tokens):
        return ".".join(out) if out and allow_module else None
    prefix = ""
    if tokens[i] == ("attr", "data"):
        prefix = "data."
        i += 1
    if i + 1 >= len(tokens) or tokens[i][0] != "attr" or tokens[i + 1][0] != "attr":
        return None
    rtype, rname = tokens[i][1], tokens[i + 1][1]
    found_key = key_at(i + 2)
    if found_key is None or found_key[1] != len(tokens):
        return None
    out.append(f"{prefix}{rtype}.{rname}{found_key[0]}")
    return ".".join(out)

"""Evaluate a resource body into a value, guided by its schema.

Attributes become values, nested blocks become lists of dicts (``Nesting.LIST``/``SET``)
or a dict (``Nesting.SINGLE``), and ``dynamic`` blocks are expanded from their
``for_each``. Every value keeps its source position (``positions[path]``) so the schema
checker and the planner can point at the right line. Evaluation errors become
diagnostics and leave ``UNKNOWN`` in place, so one bad expression doesn't hide others.

The value comes back without sensitivity marks: the paths that were marked are in
``sensitive_paths`` (the attributes a plan and the state must hide), so schema checks and
providers see plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from providers.schema import BlockSchema, Nesting
from reconciler.config import ast
from reconciler.config.evaluator import ChildScope, EvalError, evaluate
from reconciler.diagnostics import Diagnostic, error
from reconciler.values import UNKNOWN, mark, unmark, unmark_paths

Path = tuple


@dataclass
class EvaluatedBody:
    value: dict[str, Any]
    positions: dict[Path, ast.Pos] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # content of dynamic blocks whose for_each is not known yet: (path of the block, sample value)
    samples: list[tuple[Path, dict]] = field(default_factory=list)
    sensitive_paths: list[Path] = field(default_factory=list)  # where the value was marked

    def where(self, path: Path):
        """The source range of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            pos = self.positions.get(p)
            if pos is not None:
                return pos.range()
            p = p[:-1]
        pos = self.positions.get(())
        return pos.range() if pos else None


def eval_expr(expr: ast.Expr, scope, diags: list[Diagnostic]) -> Any:
    """Evaluate, turning an evaluation error into a diagnostic and UNKNOWN."""
    try:
        return evaluate(expr, scope)
    except EvalError as exc:
        diags.extend(exc.diagnostics)
        return UNKNOWN
    except RecursionError:
        diags.append(
            error(
                "eval",
                "Expression too deeply nested",
                "Split the expression into locals.",
                range=expr.pos.range(),
            )
        )
        return UNKNOWN


def evaluate_body(body: ast.Body, schema: BlockSchema | None, scope) -> EvaluatedBody:
    out = EvaluatedBody(value={})
    out.positions[()] = body.pos
    _fill(body, schema, scope, (), out.value, out)
    out.value, out.sensitive_paths = unmark_paths(out.value)
    out.samples = [(path, unmark_paths(sample)[0]) for path, sample in out.samples]
    return out


def _fill(
    body: ast.Body, schema: BlockSchema | None, scope, path: Path, into: dict, out: EvaluatedBody
) -> None:
    for attr in body.attributes:
        out.positions[path + (attr.name,)] = attr.pos
        into[attr.name] = eval_expr(attr.expr, scope, out.diagnostics)
    grouped: dict[str, list[dict] | Any] = {}
    for block in body.blocks:
        if block.type == "dynamic":
            _dynamic(block, schema, scope, path, grouped, out)
            continue
        items = grouped.setdefault(block.type, [])
        if items is UNKNOWN:
            continue
        child_schema = _child_schema(schema, block.type)
        index = len(items)
        out.positions.setdefault(path + (block.type,), block.pos)
        out.positions[path + (block.type, index)] = block.pos
        value: dict = {}
        _fill(block.body, child_schema, scope, path + (block.type, index), value, out)
        items.append(value)
    for name, items in grouped.items():
        into[name] = shaped = _shape(schema, name, items)
        if isinstance(shaped, dict):  # one SINGLE block: its values are found without the index too
            first = path + (name, 0)
            for key in [k for k in out.positions if k[: len(first)] == first]:
                out.positions.setdefault(path + (name,) + key[len(first) :], out.positions[key])


def _child_schema(schema: BlockSchema | None, name: str) -> BlockSchema | None:
    if schema is None:
        return None
    nested = schema.block_map.get(name)
    return nested.block if nested else None


def _shape(schema: BlockSchema | None, name: str, items):
    """Blocks of a SINGLE-nesting type become one dict (several stay a list, for the checker)."""
    if items is UNKNOWN or schema is None:
        return items
    nested = schema.block_map.get(name)
    if nested is not None and nested.nesting is Nesting.SINGLE and len(items) == 1:
        return items[0]
    return items


def _dynamic(
    block: ast.Block, schema: BlockSchema | None, scope, path: Path, grouped: dict, out: EvaluatedBody
) -> None:
    if len(block.labels) != 1:
        out.diagnostics.append(
            error(
                "invalid_dynamic_block",
                "A dynamic block needs exactly one label",
                'Write `dynamic "<block type>" { for_each = ... content { ... } }`.',
                range=block.pos.range(),
            )
        )
        return
    name = block.labels[0]
    inner = block.body
    for_each_attr = inner.attribute("for_each")
    contents = inner.blocks_of("content")
    if for_each_attr is None or len(contents) != 1:
        out.diagnostics.append(
            error(
                "invalid_dynamic_block",
                f'The dynamic "{name}" block needs a for_each argument and exactly one content block',
                "Give it `for_each = <collection>` and one `content { ... }` block with the block's arguments.",
                range=block.pos.range(),
            )
        )
        return
    iterator = name
    it_attr = inner.attribute("iterator")
    if it_attr is not None:
        if isinstance(it_attr.expr, ast.Variable):
            iterator = it_attr.expr.name
        else:
            out.diagnostics.append(
                error(
                    "invalid_dynamic_block",
                    "The iterator must be a plain name",
                    "Write `iterator = item`, without quotes.",
                    range=it_attr.pos.range(),
                )
            )
    child_schema = _child_schema(schema, name)
    collection, marked = unmark(eval_expr(for_each_attr.expr, scope, out.diagnostics))
    items = grouped.setdefault(name, [])
    out.positions.setdefault(path + (name,), block.pos)
    if collection is UNKNOWN or items is UNKNOWN:
        sample: dict = {}
        sample_scope = ChildScope(scope, {iterator: {"key": UNKNOWN, "value": UNKNOWN}})
        sample_out = EvaluatedBody(value=sample)
        _fill(contents[0].body, child_schema, sample_scope, path + (name, 0), sample, sample_out)
        out.diagnostics.extend(sample_out.diagnostics)
        out.positions.update({k: v for k, v in sample_out.positions.items() if k not in out.positions})
        out.samples.append((path + (name,), sample))
        grouped[name] = UNKNOWN
        return
    if isinstance(collection, dict):
        pairs = list(collection.items())
    elif isinstance(collection, (list, tuple)):
        pairs = list(enumerate(collection))
    elif collection is None:
        pairs = []
    else:
        out.diagnostics.append(
            error(
                "invalid_dynamic_block",
                f'The for_each of dynamic "{name}" must be a map, set or list',
                f"It is a {type(collection).__name__}; wrap a single value in a list: [value].",
                range=for_each_attr.pos.range(),
            )
        )
        return
    if marked:  # a sensitive collection: every value drawn from it is sensitive
        pairs = [(key, mark(value)) for key, value in pairs]
    for key, value in pairs:
        index = len(items)
        out.positions[path + (name, index)] = contents[0].pos
        child: dict = {}
        child_scope = ChildScope(scope, {iterator: {"key": key, "value": value}})
        _fill(contents[0].body, child_schema, child_scope, path + (name, index), child, out)
        items.append(child)

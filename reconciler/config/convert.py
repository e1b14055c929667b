"""python-hcl2's typed tree -> the frozen nodes of ``reconciler.config.ast``.

One ``Converter`` per file (or per heredoc fragment). Dispatch is a table from
python-hcl2 rule class to method. Positions come from the Lark meta of each
rule; where a rule's meta runs on over a trailing newline (binary operations,
conditionals, heredocs) the position is rebuilt from the converted children.

Problems found while converting (numbers out of range, malformed templates,
templated block labels) raise ``ConvertProblem``; duplicate attributes are
collected in ``Converter.diagnostics`` and the first definition is kept.
"""

from __future__ import annotations

import math

from hcl2.rules import base as r_base
from hcl2.rules import containers as r_cont
from hcl2.rules import expressions as r_expr
from hcl2.rules import for_expressions as r_for
from hcl2.rules import functions as r_fn
from hcl2.rules import indexing as r_idx
from hcl2.rules import literal_rules as r_lit
from hcl2.rules import strings as r_str

from reconciler.config import ast
from reconciler.config import convert_templates as tpl
from reconciler.config.convert_version import CONVERTER_VERSION, HCL2_VERSION  # noqa: F401 (keys the cache)
from reconciler.config.types import whole_number
from reconciler.diagnostics import Diagnostic, error

# Python refuses int() of more digits than this (sys.get_int_max_str_digits).
MAX_INT_DIGITS = 4300

# Expressions nested deeper than this (about 100 brackets: each level is a term and its
# contents) are refused, so the limit doesn't depend on how deep the caller's stack is.
MAX_EXPR_DEPTH = 200


def _block_type(head: r_lit.IdentifierRule | r_str.StringRule) -> str:
    """A block's type: the grammar makes it an identifier (``resource``, ``variable``, ...)."""
    if not isinstance(head, r_lit.IdentifierRule):
        raise TypeError("a block type is an identifier")
    return str(head.token.value)


class ConvertProblem(Exception):
    def __init__(self, summary: str, detail: str, pos: ast.Pos):
        super().__init__(summary)
        self.summary = summary
        self.detail = detail
        self.pos = pos


class Converter:
    def __init__(
        self,
        file: str,
        marks: dict[tuple[int, int], tuple[bool, bool]] | None = None,
        *,
        line_shift: int = 0,
        fragment=None,
    ) -> None:
        self.file = file
        self.marks = marks or {}
        self.line_shift = line_shift
        self.fragment = fragment  # (text, line, column) -> ast.Expr, for heredoc sequences
        self.diagnostics: list[Diagnostic] = []
        self._depth = 0

    # ------------------------------------------------------------------ positions

    def pos(self, meta) -> ast.Pos:
        if meta is None or getattr(meta, "empty", True):
            return ast.Pos(self.file, 1 + self.line_shift, 1, 1 + self.line_shift, 1)
        s = self.line_shift
        return ast.Pos(self.file, meta.line + s, meta.column, meta.end_line + s, meta.end_column)

    def strip_marks_at(self, meta) -> tuple[bool, bool]:
        if not self.marks or meta is None or getattr(meta, "empty", True):
            return (False, False)
        return self.marks.get((meta.line, meta.column), (False, False))

    # ------------------------------------------------------------------ structure

    def file_node(self, start: r_base.StartRule) -> ast.File:
        return ast.File(self.file, self.body(start.body))

    def body(self, rule: r_base.BodyRule, fallback: ast.Pos | None = None) -> ast.Body:
        attrs: list[ast.Attribute] = []
        blocks: list[ast.Block] = []
        seen: dict[str, ast.Attribute] = {}
        last_line = 0
        for child in rule.children:
            if isinstance(child, (r_base.AttributeRule, r_base.BlockRule)):
                start = self.pos(child._meta)
                if start.line <= last_line:
                    raise ConvertProblem(
                        "Missing new line before this argument or block",
                        "Each argument and block starts on its own line; put a line break before it.",
                        start,
                    )
            if isinstance(child, r_base.AttributeRule):
                attr = self.attribute(child)
                last_line = attr.pos.end_line
                first = seen.get(attr.name)
                if first is not None:
                    self.diagnostics.append(
                        error(
                            "duplicate-attribute",
                            f'Duplicate argument "{attr.name}"',
                            f'"{attr.name}" is already set on line {first.pos.line} '
                            f"(and again on line {attr.pos.line}); keep one of them.",
                            range=attr.name_pos.range(),
                        )
                    )
                    continue
                seen[attr.name] = attr
                attrs.append(attr)
            elif isinstance(child, r_base.BlockRule):
                block = self.block(child)
                last_line = block.pos.end_line
                blocks.append(block)
        meta = rule._meta
        where = fallback if fallback is not None and getattr(meta, "empty", True) else self.pos(meta)
        return ast.Body(tuple(attrs), tuple(blocks), where)

    def attribute(self, rule: r_base.AttributeRule) -> ast.Attribute:
        name = str(rule.identifier.token.value)
        name_pos = self.pos(rule.identifier._meta)
        if rule.identifier._meta is rule._meta:  # a keyword name (``in = 1``) carries the attribute's meta
            name_pos = ast.Pos(
                self.file, name_pos.line, name_pos.column, name_pos.line, name_pos.column + len(name)
            )
        expr = self.expr(rule.expression)
        whole = ast.Pos(self.file, name_pos.line, name_pos.column, expr.pos.end_line, expr.pos.end_column)
        return ast.Attribute(name, expr, whole, name_pos)

    def block(self, rule: r_base.BlockRule) -> ast.Block:
        head, *labels = rule.labels
        names: list[str] = []
        label_pos: list[ast.Pos] = []
        for label in labels:
            where = self.pos(label._meta)
            if isinstance(label, r_str.StringRule):
                value = self.expr(label)
                if not isinstance(value, ast.Literal):
                    raise ConvertProblem(
                        "Block labels must be plain strings",
                        'A label such as "name" can\'t contain "${...}" or "%{...}"; '
                        "write the name literally.",
                        where,
                    )
                names.append(value.value)
            else:
                names.append(str(label.token.value))
            label_pos.append(where)
        where = self.pos(rule._meta)
        return ast.Block(
            _block_type(head), tuple(names), self.body(rule.body, where), where, tuple(label_pos)
        )

    # ------------------------------------------------------------------ expressions

    def expr(self, node) -> ast.Expr:
        self._depth += 1
        try:
            if self._depth > MAX_EXPR_DEPTH:
                raise ConvertProblem(
                    "Expression nested too deeply",
                    f"Expressions may nest about {MAX_EXPR_DEPTH // 2} levels; simplify this "
                    "one (move inner parts into locals).",
                    self.pos(node._meta),
                )
            return _DISPATCH[type(node)](self, node)
        finally:
            self._depth -= 1

    def _expr_term(self, rule: r_expr.ExprTermRule) -> ast.Expr:
        inner = self.expr(rule.expression)
        if rule.parentheses:
            return ast.Parens(inner, self.pos(rule._meta))
        return inner

    def _identifier(self, rule) -> ast.Expr:
        return ast.Variable(str(rule.token.value), self.pos(rule._meta))

    def _literal_value(self, rule) -> ast.Expr:
        value = {"true": True, "false": False, "null": None}[str(rule.token.value)]
        return ast.Literal(value, self.pos(rule._meta))

    def _int(self, rule) -> ast.Expr:
        text = str(rule.token.value)
        where = self.pos(rule._meta)
        if len(text.lstrip("-")) > MAX_INT_DIGITS:
            raise ConvertProblem(
                "Number too large",
                f"This number has {len(text)} digits; numbers may have at most {MAX_INT_DIGITS}.",
                where,
            )
        return ast.Literal(int(text), where)

    def _float(self, rule) -> ast.Expr:
        where = self.pos(rule._meta)
        whole = whole_number(str(rule.token.value))  # 1e23 is exact, as terraform reads it
        if whole is not None:
            return ast.Literal(whole, where)
        value = float(str(rule.token.value))
        if math.isinf(value):
            raise ConvertProblem(
                "Number out of range",
                f"{str(rule.token.value)[:40]} is too large to represent; use a smaller number.",
                where,
            )
        return ast.Literal(value, where)

    def _string(self, rule: r_str.StringRule) -> ast.Expr:
        try:
            return tpl.build(tpl.quoted_pieces(rule, self), self.pos(rule._meta), heredoc=False)
        except tpl.TemplateProblem as exc:
            raise ConvertProblem(exc.summary, exc.detail, exc.pos) from None

    def _heredoc(self, rule: r_str.HeredocTemplateRule) -> ast.Expr:
        start = self.pos(rule._meta)
        body, trimmed, lines, closing_len = tpl.heredoc_body(str(rule.heredoc.value))
        end_line = start.line + lines
        where = ast.Pos(self.file, start.line, start.column, end_line, closing_len + 1)
        try:
            pieces = tpl.heredoc_pieces(body, start.line + 1, self.file, self.fragment)
            return tpl.build(pieces, where, heredoc=True, flush=trimmed)
        except tpl.TemplateProblem as exc:
            raise ConvertProblem(exc.summary, exc.detail, exc.pos) from None

    def _template_string(self, rule: r_str.TemplateStringRule) -> ast.Expr:
        from hcl2.utils import process_escape_sequences

        return ast.Literal(process_escape_sequences(rule.inner_value), self.pos(rule._meta))

    def _tuple(self, rule: r_cont.TupleRule) -> ast.Expr:
        return ast.TupleCons(tuple(self.expr(e) for e in rule.elements), self.pos(rule._meta))

    def _object(self, rule: r_cont.ObjectRule) -> ast.Expr:
        items = []
        last_line, separated = 0, True
        for child in rule.children:
            if not isinstance(child, r_cont.ObjectElemRule):
                if str(getattr(child, "value", "")) == ",":
                    separated = True
                continue
            key = self._object_key(child.key)
            if not separated and key.pos.line <= last_line:
                raise ConvertProblem(
                    "Missing comma or new line between object elements",
                    'Separate the elements of an object with "," or a line break.',
                    key.pos,
                )
            value = self.expr(child.expression)
            items.append((key, value))
            last_line, separated = value.pos.end_line, False
        return ast.ObjectCons(tuple(items), self.pos(rule._meta))

    def _object_key(self, key_rule) -> ast.Expr:
        if isinstance(key_rule, r_cont.ObjectElemKeyRule):
            inner = key_rule.value
            if isinstance(inner, r_lit.IdentifierRule):
                return ast.Literal(str(inner.token.value), self.pos(inner._meta))
            return self.expr(inner)
        return self.expr(key_rule.children[0])

    def _call(self, rule: r_fn.FunctionCallRule) -> ast.Expr:
        name = "::".join(str(i.token.value) for i in rule.identifiers)
        args_rule = rule.arguments
        args = tuple(self.expr(a) for a in args_rule.arguments) if args_rule else ()
        expand = bool(args_rule and args_rule.has_ellipsis)
        return ast.Call(name, args, self.pos(rule._meta), expand)

    def _index(self, rule: r_idx.IndexExprTermRule) -> ast.Expr:
        obj = self.expr(rule.children[0])
        return self._apply_index(obj, rule.children[1], self.pos(rule._meta))

    def _apply_index(self, obj: ast.Expr, idx, where: ast.Pos) -> ast.Expr:
        if isinstance(idx, r_idx.ShortIndexRule):
            key: ast.Expr = ast.Literal(int(str(idx.index.value)), self.pos(idx._meta))
        else:
            key = self.expr(idx.index_expression)
        return ast.Index(obj, key, where)

    def _get_attr(self, rule: r_idx.GetAttrExprTermRule) -> ast.Expr:
        obj = self.expr(rule.expr_term)
        return ast.GetAttr(obj, str(rule.get_attr.identifier.token.value), self.pos(rule._meta))

    def _splat(self, rule) -> ast.Expr:
        source = self.expr(rule.expr_term)
        splat = rule.attr_splat
        whole = self.pos(rule._meta)
        tail = self.pos(splat._meta)
        width = 3 if isinstance(rule, r_idx.FullSplatExprTermRule) else 2  # "[*]" or ".*"
        item_pos = ast.Pos(self.file, tail.line, tail.column, tail.line, tail.column + width)
        each: ast.Expr = ast.SplatItem(item_pos)
        steps = list(splat.get_attrs)
        attr_only = isinstance(rule, r_idx.AttrSplatExprTermRule)
        after: list = []
        for n, step in enumerate(steps):
            if attr_only and not isinstance(step, r_idx.GetAttrRule):
                after = steps[n:]  # an attribute-only splat applies later indexes to its result
                break
            each = self._step(each, step)
        result: ast.Expr = ast.Splat(source, each, whole)
        for step in after:
            result = self._step(result, step)
        return result

    def _step(self, obj: ast.Expr, step) -> ast.Expr:
        where = self.pos(step._meta)
        span = ast.Pos(self.file, obj.pos.line, obj.pos.column, where.end_line, where.end_column)
        if isinstance(step, r_idx.GetAttrRule):
            return ast.GetAttr(obj, str(step.identifier.token.value), span)
        return self._apply_index(obj, step, span)

    def _for_intro(self, intro: r_for.ForIntroRule):
        first = str(intro.first_iterator.token.value)
        second = intro.second_iterator
        if second is not None:
            return first, str(second.token.value), self.expr(intro.iterable)
        return None, first, self.expr(intro.iterable)

    def _for_tuple(self, rule: r_for.ForTupleExprRule) -> ast.Expr:
        key_var, value_var, coll = self._for_intro(rule.for_intro)
        cond = self.expr(rule.condition.condition_expr) if rule.condition is not None else None
        return ast.For(
            key_var, value_var, coll, self.expr(rule.value_expr), self.pos(rule._meta), None, cond, False
        )

    def _for_object(self, rule: r_for.ForObjectExprRule) -> ast.Expr:
        key_var, value_var, coll = self._for_intro(rule.for_intro)
        cond = self.expr(rule.condition.condition_expr) if rule.condition is not None else None
        return ast.For(
            key_var,
            value_var,
            coll,
            self.expr(rule.value_expr),
            self.pos(rule._meta),
            self.expr(rule.key_expr),
            cond,
            rule.ellipsis is not None,
        )

    def _conditional(self, rule: r_expr.ConditionalRule) -> ast.Expr:
        cond = self.expr(rule.condition)
        false = self.expr(rule.if_false)
        return ast.Conditional(cond, self.expr(rule.if_true), false, _span(cond.pos, false.pos))

    def _binary(self, rule: r_expr.BinaryOpRule) -> ast.Expr:
        left = self.expr(rule.expr_term)
        term = rule.binary_term
        right = self.expr(term.expr_term)
        op = str(term.binary_operator.token.value).strip()
        return ast.Binary(op, left, right, _span(left.pos, right.pos))

    def _unary(self, rule: r_expr.UnaryOpRule) -> ast.Expr:
        op = rule.operator.strip()
        operand = self.expr(rule.expr_term)
        where = self.pos(rule._meta)
        if (
            op == "-"
            and isinstance(operand, ast.Literal)
            and not isinstance(operand.value, bool)
            and isinstance(operand.value, (int, float))
        ):
            return ast.Literal(-operand.value, where)
        return ast.Unary(op, operand, where)


def _span(a: ast.Pos, b: ast.Pos) -> ast.Pos:
    return ast.Pos(a.file, a.line, a.column, b.end_line, b.end_column)


_DISPATCH = {
    r_expr.ExprTermRule: Converter._expr_term,
    r_lit.IdentifierRule: Converter._identifier,
    r_lit.LiteralValueRule: Converter._literal_value,
    r_lit.IntLitRule: Converter._int,
    r_lit.FloatLitRule: Converter._float,
    r_str.StringRule: Converter._string,
    r_str.HeredocTemplateRule: Converter._heredoc,
    r_str.HeredocTrimTemplateRule: Converter._heredoc,
    r_str.TemplateStringRule: Converter._template_string,
    r_cont.TupleRule: Converter._tuple,
    r_cont.ObjectRule: Converter._object,
    r_fn.FunctionCallRule: Converter._call,
    r_idx.IndexExprTermRule: Converter._index,
    r_idx.GetAttrExprTermRule: Converter._get_attr,
    r_idx.AttrSplatExprTermRule: Converter._splat,
    r_idx.FullSplatExprTermRule: Converter._splat,
    r_for.ForTupleExprRule: Converter._for_tuple,
    r_for.ForObjectExprRule: Converter._for_object,
    r_expr.ConditionalRule: Converter._conditional,
    r_expr.BinaryOpRule: Converter._binary,
    r_expr.UnaryOpRule: Converter._unary,
}

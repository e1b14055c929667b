"""Evaluate expression trees (``reconciler.config.ast``) to configuration values.

``evaluate(expr, scope)`` walks the tree and returns a value of
``reconciler.values`` (str, int/float, bool, None, list, dict, with ``UNKNOWN``
anywhere). Root names (``var``, ``local``, ``azurerm_key_vault`` …) come from the
caller's ``Scope``; ``MapScope`` serves tests and constant contexts, ``ChildScope``
adds the names a for-expression or template directive binds.

Semantics follow HCL as Terraform uses it: numbers stay integers while exact,
strings holding numbers convert for arithmetic, equality is typed (1 != "1"),
``&&``/``||`` short-circuit, an unknown flows through every operator and function,
and ``can``/``try`` are special forms that evaluate their arguments lazily.

Sensitivity marks travel as Terraform's do: an operation unwraps ``Sensitive``
operands and marks its result (operators, conditionals by their condition, for
expressions by their collection, condition and keys, templates by any part, splats
and indexing by their source); collections keep their elements' marks where they
stand, and functions follow ``functions_spec.Marks``. A diagnostic never quotes a
marked value: the text of every marked operand is replaced by ``(sensitive value)``.

Every problem raises ``EvalError`` carrying a ``Diagnostic`` with code ``eval`` and
the position of the offending expression.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from reconciler.config import ast, functions_files
from reconciler.config import evaluator_operators as ops
from reconciler.config.evaluator_scope import (
    CODE,
    ChildScope,
    EvalError,
    MapScope,
    Scope,
    ShapedScope,
    StaticEvalError,
    did_you_mean,
    fail,
    fail_static,
)
from reconciler.config.expression_values import failure_values
from reconciler.config.functions import BUILTINS
from reconciler.config.functions_spec import ArityError, FunctionError, FunctionSpec, invoke
from reconciler.config.loader import parse_text
from reconciler.config.references import walk_expressions
from reconciler.config.types import (
    ConversionError,
    a_type,
    normalize_number,
    set_of,
    to_bool,
    to_number,
    to_string,
)
from reconciler.diagnostics import Diagnostic
from reconciler.value_shapes import kinds_differ, shape_of
from reconciler.values import (
    UNKNOWN,
    Sensitive,
    is_wholly_known,
    mark,
    mark_if,
    redact,
    strip,
    type_name,
    unmark,
    unmark_deep,
)

__all__ = [
    "CODE",
    "EvalError",
    "StaticEvalError",
    "fail",
    "fail_static",
    "did_you_mean",
    "Scope",
    "MapScope",
    "ChildScope",
    "evaluate",
    "evaluate_diags",
    "condition_value",
    "iterate",
    "get_attr",
    "index_value",
    "render_parts",
]


_SPLAT_ITEM = "[*]"  # never a valid identifier, so it can't shadow a user name


# --------------------------------------------------------------------------- entry points


def evaluate(expr: ast.Expr, scope: Scope) -> Any:
    """The value of ``expr``; raises EvalError for user errors, with the values the failing part
    of ``expr`` read (terraform's lines under the source: "local.l is tuple with 2 elements")."""
    try:
        return _eval(expr, scope)
    except EvalError as exc:
        raise _described(exc, expr, scope) from None
    except RecursionError:
        raise fail(
            expr.pos,
            "Expression too complex",
            "The expression is nested too deeply to evaluate; split it with locals.",
        ) from None


def _described(exc: EvalError, expr: ast.Expr, scope: Scope) -> EvalError:
    d = exc.diagnostic
    if d.values or d.range is None:
        return exc
    values = failure_values(expr, d.range, lambda chain: _eval(chain, scope))
    return type(exc)(replace(d, values=values)) if values else exc


def value_source(expr: ast.Expr, scope: Scope) -> ast.Expr:
    """The part of ``expr`` its value comes from: the argument try() took (the first that
    evaluates), the first non-empty list coalescelist() took, the branch a conditional took;
    ``expr`` itself otherwise. Terraform's type of the value follows that part where the expression
    alone can't tell (``try(var.names, [])`` is a list of string when var.names is one)."""
    bare = expr
    while isinstance(bare, ast.Parens):
        bare = bare.expr
    if isinstance(bare, ast.Call) and bare.name in ("try", "coalescelist") and not bare.expand_final:
        for arg in bare.args:
            try:
                value = strip(evaluate(arg, scope))
            except EvalError:
                continue
            if bare.name == "try" or (isinstance(value, list) and value):
                return value_source(arg, scope)
        return expr
    if isinstance(bare, ast.Conditional):
        try:
            chosen = strip(evaluate(bare.cond, scope))
        except EvalError:
            return expr
        if isinstance(chosen, bool):
            return value_source(bare.true if chosen else bare.false, scope)
    return expr


def evaluate_diags(expr: ast.Expr, scope: Scope) -> tuple[Any, list[Diagnostic]]:
    """Like ``evaluate`` but returns ``(value, [])`` or ``(None, [diagnostic])``."""
    try:
        return evaluate(expr, scope), []
    except EvalError as exc:
        return None, [exc.diagnostic]


def _eval(expr: ast.Expr, scope: Scope) -> Any:
    handler = _HANDLERS.get(type(expr))
    if handler is None:
        raise fail(
            getattr(expr, "pos", None),
            "Unsupported expression",
            f"vaultform can't evaluate a {type(expr).__name__} expression here.",
        )
    return handler(expr, scope)


# --------------------------------------------------------------------------- leaves and access


def _literal(expr: ast.Literal, scope: Scope) -> Any:
    v = expr.value
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        try:
            return normalize_number(v)
        except ConversionError as exc:
            raise fail(expr.pos, "Invalid number", f"This number can't be used: {exc.message}.") from None
    return v


def _variable(expr: ast.Variable, scope: Scope) -> Any:
    return scope.lookup(expr.name, expr.pos)


def _splat_item(expr: ast.SplatItem, scope: Scope) -> Any:
    return scope.lookup(_SPLAT_ITEM, expr.pos)


def _parens(expr: ast.Parens, scope: Scope) -> Any:
    return _eval(expr.expr, scope)


def _get_attr(expr: ast.GetAttr, scope: Scope) -> Any:
    obj = _eval(expr.obj, scope)
    return get_attr(obj, expr.name, expr.pos)


def get_attr(obj: Any, name: str, pos: ast.Pos) -> Any:
    if type(obj) is Sensitive:
        return mark(get_attr(obj.value, name, pos))
    if obj is UNKNOWN:
        return UNKNOWN
    if obj is None:
        raise fail(
            pos,
            "Attempt to get attribute from null value",
            f'This value is null, so it does not have an attribute named "{name}".',
        )
    if isinstance(obj, dict):
        if name in obj:
            return obj[name]
        raise fail(
            pos,
            "Unsupported attribute",
            f'This value does not have an attribute named "{name}".' + did_you_mean(name, obj),
        )
    if isinstance(obj, (list, tuple)):
        raise fail(
            pos,
            "Unsupported attribute",
            f'Can\'t access attributes on a list. Did you mean to access attribute "{name}" '
            f"of a specific element (e.g. [0].{name}) or of every element ([*].{name})?",
        )
    raise fail(
        pos,
        "Unsupported attribute",
        f"Can't access attributes on a primitive-typed value ({type_name(obj)}).",
    )


def _index(expr: ast.Index, scope: Scope) -> Any:
    obj = _eval(expr.obj, scope)
    key = _eval(expr.key, scope)
    return index_value(obj, key, expr.pos)


def index_value(obj: Any, key: Any, pos: ast.Pos) -> Any:
    if type(obj) is Sensitive or type(key) is Sensitive:
        plain_obj, plain_key = unmark(obj)[0], unmark(key)[0]
        try:
            return mark(index_value(plain_obj, plain_key, pos))
        except EvalError as exc:
            raise exc.hiding(key) from None
    if obj is None:
        raise fail(pos, "Attempt to index null value", "This value is null, so it does not have any indices.")
    if key is None:
        raise fail(pos, "Invalid index", "Can't use a null value as an indexing key.")
    if obj is UNKNOWN or key is UNKNOWN:
        return UNKNOWN
    if isinstance(obj, (list, tuple)):
        try:
            i = to_number(key)
        except ConversionError as exc:
            raise fail(pos, "Invalid index", f"A list index must be a whole number: {exc.message}.") from exc
        if not isinstance(i, int):
            raise fail(pos, "Invalid index", f"A list index must be a whole number, not {i}.")
        if not 0 <= i < len(obj):
            raise fail(
                pos,
                "Invalid index",
                f"The given key does not identify an element of this list (length {len(obj)}, index {i}).",
            )
        return obj[i]
    if isinstance(obj, dict):
        try:
            k = to_string(key)
        except ConversionError:
            raise fail(
                pos, "Invalid index", f"A map or object key must be a string, not {a_type(key)}."
            ) from None
        if k in obj:
            return obj[k]
        raise fail(
            pos,
            "Invalid index",
            f"The given key does not identify an element of this map or object: there is no "
            f'key "{k}".' + did_you_mean(k, obj),
        )
    raise fail(pos, "Invalid index", f"This value does not have any indices (it is {a_type(obj)}).")


def _splat(expr: ast.Splat, scope: Scope) -> Any:
    source, marked = unmark(_eval(expr.source, scope))
    if source is UNKNOWN:
        return mark_if(UNKNOWN, marked)
    if source is None:
        return mark_if([], marked)
    items = list(source) if isinstance(source, (list, tuple)) else [source]
    return mark_if([_eval(expr.each, ChildScope(scope, {_SPLAT_ITEM: item})) for item in items], marked)


# --------------------------------------------------------------------------- constructors


def _tuple(expr: ast.TupleCons, scope: Scope) -> list:
    return [_eval(e, scope) for e in expr.items]


def object_key(value: Any, pos: ast.Pos) -> Any:
    value = value.value if type(value) is Sensitive else value
    if value is UNKNOWN:
        return UNKNOWN
    if value is None:
        raise fail(pos, "Invalid object key", "An object key can't be null.")
    try:
        return to_string(value)
    except ConversionError:
        raise fail(
            pos, "Invalid object key", f"An object key must be a string, not {a_type(value)}."
        ) from None


def _object(expr: ast.ObjectCons, scope: Scope) -> Any:
    """An object; a key that is sensitive marks the whole object (its keys are part of it)."""
    out: dict = {}
    unknown_key = False
    marked = False
    for key_expr, value_expr in expr.items:
        if isinstance(key_expr, ast.Literal) and isinstance(key_expr.value, str):
            key = key_expr.value
        else:
            raw = _eval(key_expr, scope)
            marked = marked or type(raw) is Sensitive
            key = object_key(raw, key_expr.pos)
        value = _eval(value_expr, scope)
        if key is UNKNOWN:
            unknown_key = True
            continue
        out[key] = value
    return mark_if(UNKNOWN if unknown_key else out, marked)


# --------------------------------------------------------------------------- operators


def _binary(expr: ast.Binary, scope: Scope) -> Any:
    op = expr.op
    try:
        if op in ("&&", "||"):
            return _logical(expr, scope)
        (left, left_marked), (right, right_marked) = (
            unmark_deep(_eval(expr.left, scope)),
            unmark_deep(_eval(expr.right, scope)),
        )
        marked = left_marked or right_marked
        if op in ("==", "!="):
            if _surely_different_types(expr, left, right):
                return mark_if(op == "!=", marked)
            return mark_if(ops.equals(left, right, negate=op == "!="), marked)
        if op in ops.ARITHMETIC or op in ops.COMPARISON:
            return mark_if(ops.arithmetic(op, left, right), marked)
    except ops.OperatorError as exc:
        hidden = [mark(v) for v, m in ((left, left_marked), (right, right_marked)) if m]
        raise fail(expr.pos, exc.summary, redact(exc.detail, *hidden)) from None
    raise fail(expr.pos, "Unsupported operator", f'The operator "{op}" is not part of the language.')


def _surely_different_types(expr: ast.Binary, left: Any, right: Any) -> bool:
    """Values of different types are never equal (a list is not a tuple, though both are Python
    lists here); the expressions tell those types apart. Null equals a null of any type, and an
    unknown operand leaves the answer unknown, so neither is decided here."""
    if left is None or right is None or left is UNKNOWN or right is UNKNOWN:
        return False
    return kinds_differ(shape_of(expr.left), shape_of(expr.right))


def _logical_operand(expr: ast.Expr, scope: Scope, what: str) -> tuple[Any, EvalError | None, bool]:
    marked = False
    try:
        value, marked = unmark_deep(_eval(expr, scope))
        return ops.bool_operand(value, what), None, marked
    except StaticEvalError:
        raise
    except ops.OperatorError as exc:
        return None, fail(expr.pos, exc.summary, redact(exc.detail, mark_if(value, marked))), False
    except EvalError as exc:
        return None, exc, False


def _logical(expr: ast.Binary, scope: Scope) -> Any:
    """``&&``/``||`` as HCL evaluates them: a side that decides the result wins, even over
    an unknown or a failing other side; the right side isn't evaluated when the left decides."""
    op = expr.op
    left, left_error, left_marked = _logical_operand(expr.left, scope, f"left operand of {op}")
    if left_error is None and ops.decides(op, left):
        return mark_if(left, left_marked)
    right, right_error, right_marked = _logical_operand(expr.right, scope, f"right operand of {op}")
    if right_error is None and ops.decides(op, right):
        return mark_if(right, right_marked)
    if left_error is not None:
        raise left_error
    if right_error is not None:
        raise right_error
    return mark_if(ops.logical(op, left, right), left_marked or right_marked)


_UNARY = {"!": ops.logical_not, "-": ops.negate}


def _unary(expr: ast.Unary, scope: Scope) -> Any:
    value, marked = unmark_deep(_eval(expr.operand, scope))
    apply = _UNARY.get(expr.op)
    if apply is None:
        raise fail(expr.pos, "Unsupported operator", f'The operator "{expr.op}" is not part of the language.')
    try:
        return mark_if(apply(value), marked)
    except ops.OperatorError as exc:
        raise fail(expr.pos, exc.summary, redact(exc.detail, mark_if(value, marked))) from None


def condition_value(value: Any, pos: ast.Pos, what: str = "condition") -> Any:
    """A condition as bool (or UNKNOWN), without its mark; errors say 'The condition must be a bool'."""
    value = value.value if type(value) is Sensitive else value
    if value is None:
        raise fail(pos, "Invalid condition", f"The {what} must be a bool, but it is null.")
    try:
        return to_bool(value)
    except ConversionError:
        raise fail(
            pos, "Invalid condition", f"The {what} must be a bool, but it is {a_type(value)}."
        ) from None


def _conditional(expr: ast.Conditional, scope: Scope) -> Any:
    """The chosen branch keeps its marks; a sensitive condition marks the result."""
    raw = _eval(expr.cond, scope)
    cond_marked = type(raw) is Sensitive
    cond = condition_value(raw, expr.cond.pos)
    if cond is UNKNOWN:
        return mark_if(UNKNOWN, cond_marked)
    chosen, other = (expr.true, expr.false) if cond else (expr.false, expr.true)
    value = _eval(chosen, scope)
    try:  # only for the result type: errors of the branch not taken don't count
        other_value = _eval(other, scope)
    except StaticEvalError:
        raise
    except EvalError:
        return mark_if(value, cond_marked)
    plain, marked = unmark(value)
    if _is_set(chosen, scope):
        # a set's element type is not in its value; terraform converts the other branch to it
        # (true ? toset([1]) : ["x"] is toset([1])), so the value is left as it is
        return mark_if(plain, marked or cond_marked)
    if _is_set(expr, scope) and isinstance(plain, (list, tuple)):
        # the other branch is a set and this one a tuple: terraform makes the result that set's
        # type (true ? ["b", "a", "b"] : var.names is toset(["a", "b"])): duplicates go, in order
        other_plain = other_value.value if type(other_value) is Sensitive else other_value
        unified = ops.unify_branches(list(plain), other_plain) if isinstance(other_plain, list) else plain
        return mark_if(set_of(list(unified)), marked or cond_marked)
    if _is_set(other, scope):
        return mark_if(plain, marked or cond_marked)
    other_plain = other_value.value if type(other_value) is Sensitive else other_value
    return mark_if(ops.unify_branches(plain, other_plain), marked or cond_marked)


# --------------------------------------------------------------------------- iteration


def iterate(collection: Any, pos: ast.Pos, is_set: bool = False) -> list[tuple[Any, Any]] | None:
    """(key, value) pairs of a list (index keys), a set (each element its own key, as in
    terraform 1.11) or a map (sorted keys); None if unknown.
    The collection's own mark is dropped (callers that keep it look first); elements keep theirs."""
    collection = collection.value if type(collection) is Sensitive else collection
    if collection is UNKNOWN:
        return None
    if collection is None:
        raise fail(pos, "Iteration over null value", "A null value can't be iterated; use a list or map.")
    if isinstance(collection, (list, tuple)):
        return [(v, v) for v in collection] if is_set else list(enumerate(collection))
    if isinstance(collection, dict):
        return [(k, collection[k]) for k in sorted(collection)]
    raise fail(
        pos,
        "Iteration over non-iterable value",
        f"A for expression iterates over a list, set, map or object, not {a_type(collection)}.",
    )


def _is_set(expr: ast.Expr, scope: Scope) -> bool:
    """Whether ``expr`` makes a set: values are plain lists, so its kind is read from the
    expression (``toset(...)``, a variable declared ``set(...)``, a set attribute)."""
    shape = scope.shape(expr) if isinstance(scope, ShapedScope) else shape_of(expr)
    return shape is not None and shape.kind == "set"


def _bindings(key_var: str | None, value_var: str, key: Any, value: Any) -> dict[str, Any]:
    out = {value_var: value}
    if key_var is not None:
        out[key_var] = key
    return out


def _for(expr: ast.For, scope: Scope) -> Any:
    """Elements keep their marks; a sensitive collection, if clause or key marks the result
    (keys of an object can't carry marks of their own)."""
    collection = _eval(expr.collection, scope)
    marked = type(collection) is Sensitive
    pairs = iterate(
        collection, expr.collection.pos, expr.key_var is not None and _is_set(expr.collection, scope)
    )
    if pairs is None:
        return mark_if(UNKNOWN, marked)
    is_object = expr.key is not None
    items: list[tuple[Any, Any]] = []
    unknown = False
    keys_marked = False
    for k, v in pairs:
        inner = ChildScope(scope, _bindings(expr.key_var, expr.value_var, k, v))
        if expr.cond is not None:
            raw = _eval(expr.cond, inner)
            marked = marked or type(raw) is Sensitive
            keep = condition_value(raw, expr.cond.pos, "for expression's if clause")
            if keep is UNKNOWN:
                unknown = True
                continue
            if not keep:
                continue
        key = None
        if expr.key is not None:  # is_object
            raw = _eval(expr.key, inner)
            keys_marked = keys_marked or type(raw) is Sensitive
            key = object_key(raw, expr.key.pos)
        value = _eval(expr.value, inner)
        unknown = unknown or key is UNKNOWN
        items.append((key, value))
    if unknown:
        return mark_if(UNKNOWN, marked or keys_marked)
    if not is_object:
        return mark_if([v for _, v in items], marked)
    return mark_if(_group(items, expr, keys_marked), marked or keys_marked)


def _group(items: list[tuple[Any, Any]], expr: ast.For, keys_marked: bool = False) -> dict:
    out: dict = {}
    for key, value in items:
        if expr.grouping:
            out.setdefault(key, []).append(value)
        elif key in out:
            shown = "(sensitive value)" if keys_marked else f'"{key}"'
            raise fail(
                expr.key.pos if expr.key else expr.pos,
                "Duplicate object key",
                f"Two items produced the key {shown} in this for expression. If duplicates "
                "are expected, add an ellipsis (...) after the value expression to group "
                "the values by key.",
            )
        else:
            out[key] = value
    return out


# --------------------------------------------------------------------------- templates


def _template(expr: ast.Template, scope: Scope) -> Any:
    parts = expr.parts
    if len(parts) == 1 and isinstance(parts[0], ast.TemplateInterp):
        return _eval(parts[0].expr, scope)  # "${x}" alone yields x itself
    return render_parts(parts, scope)


def _template_string(value: Any, pos: ast.Pos) -> Any:
    if value is None:
        raise fail(
            pos,
            "Invalid template interpolation value",
            "The expression result is null. Cannot include a null value in a string template.",
        )
    try:
        return to_string(value)
    except ConversionError:
        raise fail(
            pos,
            "Invalid template interpolation value",
            f"Cannot include the given value in a string template: a string is required, but "
            f"{a_type(value)} was given.",
        ) from None


def render_parts(parts: tuple, scope: Scope) -> Any:
    """Render template parts to a string (UNKNOWN when any part is unknown), marked sensitive
    when any part, condition or collection it used was."""
    out: list[str] = []
    unknown = False
    marked = False
    for part in parts:
        if isinstance(part, str):
            out.append(part)  # strip markers were applied to the literal text when it was read
            continue
        if isinstance(part, ast.TemplateInterp):
            value, part_marked = unmark_deep(_eval(part.expr, scope))
            text = _template_string(value, part.expr.pos)
        elif isinstance(part, ast.TemplateIf):
            text, part_marked = unmark(_template_if(part, scope))
        else:
            text, part_marked = unmark(_template_for(part, scope))
        marked = marked or part_marked
        if text is UNKNOWN:
            unknown = True
        else:
            out.append(text)
    return mark_if(UNKNOWN if unknown else "".join(out), marked)


def _template_if(part: ast.TemplateIf, scope: Scope) -> Any:
    raw = _eval(part.cond, scope)
    marked = type(raw) is Sensitive
    cond = condition_value(raw, part.cond.pos, "%{if} condition")
    if cond is UNKNOWN:
        return mark_if(UNKNOWN, marked)
    text = render_parts(part.then if cond else part.else_, scope)
    return mark_if(text, marked)


def _template_for(part: ast.TemplateFor, scope: Scope) -> Any:
    collection = _eval(part.collection, scope)
    marked = type(collection) is Sensitive
    pairs = iterate(
        collection, part.collection.pos, part.key_var is not None and _is_set(part.collection, scope)
    )
    if pairs is None:
        return mark_if(UNKNOWN, marked)
    chunks = []
    for k, v in pairs:
        chunk, chunk_marked = unmark(
            render_parts(part.body, ChildScope(scope, _bindings(part.key_var, part.value_var, k, v)))
        )
        marked = marked or chunk_marked
        chunks.append(chunk)
    return mark_if(UNKNOWN if any(c is UNKNOWN for c in chunks) else "".join(chunks), marked)


# --------------------------------------------------------------------------- calls


def _call(expr: ast.Call, scope: Scope) -> Any:
    special = _SPECIAL_FORMS.get(expr.name)
    if special is not None:
        return special(expr, scope)
    fs = BUILTINS.get(expr.name)
    if fs is None:
        names = list(BUILTINS) + list(_SPECIAL_FORMS)
        raise fail_static(
            expr.pos,
            "Call to unknown function",
            f'There is no function named "{expr.name}".' + did_you_mean(expr.name, names, 3),
        )
    args = [_eval(a, scope) for a in expr.args]
    expanded_marked = False
    if expr.expand_final:
        if not args:
            raise fail(expr.pos, "Invalid expanding argument", "The ... expansion needs a final argument.")
        last, expanded_marked = unmark(args.pop())
        if last is UNKNOWN:
            return mark_if(UNKNOWN, expanded_marked)
        if not isinstance(last, (list, tuple)):
            raise fail(
                expr.args[-1].pos,
                "Invalid expanding argument",
                f"The final argument expanded with ... must be a list, not {a_type(last)}.",
            )
        args.extend(last)
    try:
        result, marked = unmark(invoke(fs, args))
        if isinstance(result, (int, float)) and not isinstance(result, bool):
            result = normalize_number(result)
        return mark_if(result, marked or expanded_marked)
    except ArityError as exc:
        raise fail(expr.pos, exc.summary, exc.message) from None
    except FunctionError as exc:
        at = (
            expr.args[exc.arg].pos
            if exc.arg is not None and exc.arg < len(expr.args) and not expr.expand_final
            else expr.pos
        )
        message = redact(exc.message, *args)
        failed = fail(at, exc.summary, f'Call to function "{expr.name}" failed: {message}.')
        raise _calling(failed, fs) from None
    except ConversionError as exc:
        message = redact(str(exc), *args)
        failed = fail(
            expr.pos, "Error in function call", f'Call to function "{expr.name}" failed: {message}.'
        )
        raise _calling(failed, fs) from None


def _calling(exc: EvalError, fs: FunctionSpec) -> EvalError:
    """The error of a call, naming the function's signature (terraform's "while calling upper(str)")."""
    return type(exc)(replace(exc.diagnostic, function=fs.signature()))


def _can(expr: ast.Call, scope: Scope) -> Any:
    if len(expr.args) != 1:
        raise fail(
            expr.pos,
            "Wrong number of function arguments",
            'Function "can" takes exactly one expression: can(<expression>).',
        )
    try:
        value = _eval(expr.args[0], scope)
    except StaticEvalError:
        raise
    except EvalError:
        return False
    return True if is_wholly_known(value) else UNKNOWN


def _try(expr: ast.Call, scope: Scope) -> Any:
    if not expr.args:
        raise fail(
            expr.pos,
            "Not enough function arguments",
            'Function "try" needs at least one expression: try(<expr>, <fallback>...).',
        )
    reasons: list[str] = []
    for arg in expr.args:
        try:
            value = _eval(arg, scope)
        except StaticEvalError:
            raise
        except EvalError as exc:
            reasons.append(f"- {exc.diagnostic.summary}: {exc.diagnostic.detail}")
            continue
        return value if is_wholly_known(value) else UNKNOWN
    raise fail(
        expr.pos,
        "Error in function call",
        'Call to function "try" failed: no expression succeeded:\n' + "\n".join(reasons),
    )


# templatestring's template must be a reference to a string from elsewhere (terraform's
# funcs/string.go isValidTemplateStringExpr), not a template written in the call
_TEMPLATESTRING_WRAP = (
    "invalid template expression: templatestring is only for rendering templates retrieved "
    "dynamically from elsewhere; to treat the inner expression as template syntax, write the "
    "reference expression directly without any template interpolation syntax"
)
_TEMPLATESTRING_LITERAL = (
    "invalid template expression: templatestring is only for rendering templates retrieved "
    "dynamically from elsewhere, and so does not support providing a literal template; consider "
    "using a template string expression instead"
)
_TEMPLATESTRING_INLINE = (
    "invalid template expression: templatestring is only for rendering templates retrieved "
    "dynamically from elsewhere; to render an inline template, consider using a plain template "
    "string expression"
)
_TEMPLATESTRING_REFERENCE = (
    "invalid template expression: must be a direct reference to a single string from elsewhere, "
    "containing valid Terraform template syntax"
)


def _is_reference(expr: ast.Expr) -> bool:
    if isinstance(expr, ast.Variable):
        return True
    if isinstance(expr, (ast.GetAttr, ast.Index)):
        return _is_reference(expr.obj)
    if isinstance(expr, ast.Splat):
        return _is_reference(expr.source)
    return False


def _templatestring(expr: ast.Call, scope: Scope) -> Any:
    def bad(index: int, message: str) -> EvalError:
        return fail(
            expr.args[index].pos if index < len(expr.args) else expr.pos,
            "Invalid function argument",
            f'Call to function "templatestring" failed: {message}.',
        )

    if expr.expand_final or len(expr.args) != 2:
        many = len(expr.args) > 2
        raise fail(
            expr.pos,
            "Too many function arguments" if many else "Not enough function arguments",
            'Function "templatestring" expects 2 argument(s). Call it as templatestring(template, vars).',
        )
    source = expr.args[0]
    if isinstance(source, ast.Template):
        wrap = len(source.parts) == 1 and isinstance(source.parts[0], ast.TemplateInterp)
        raise bad(0, _TEMPLATESTRING_WRAP if wrap else _TEMPLATESTRING_INLINE)
    if isinstance(source, ast.Literal) and isinstance(source.value, str):
        raise bad(0, _TEMPLATESTRING_LITERAL)
    if not _is_reference(source):
        raise bad(0, _TEMPLATESTRING_REFERENCE)
    template, template_marked = unmark(_eval(source, scope))
    variables, vars_marked = unmark(_eval(expr.args[1], scope))
    if template is UNKNOWN or variables is UNKNOWN:
        return mark_if(UNKNOWN, template_marked or vars_marked)
    if not isinstance(template, str):
        raise bad(0, "invalid template value: a string is required")
    if not isinstance(variables, dict):
        raise bad(1, "invalid vars value: must be a map")
    try:
        value = render_template_string(template, variables)
    except FunctionError as exc:
        raise bad(exc.arg or 0, exc.message) from None
    return mark_if(value, template_marked or vars_marked)


_SPECIAL_FORMS: dict[str, Callable[[ast.Call, Scope], Any]] = {
    "can": _can,
    "try": _try,
    "templatestring": _templatestring,
}

_HANDLERS: dict[type, Callable[[Any, Scope], Any]] = {
    ast.Literal: _literal,
    ast.Template: _template,
    ast.Variable: _variable,
    ast.GetAttr: _get_attr,
    ast.Index: _index,
    ast.SplatItem: _splat_item,
    ast.Splat: _splat,
    ast.Call: _call,
    ast.Unary: _unary,
    ast.Binary: _binary,
    ast.Conditional: _conditional,
    ast.For: _for,
    ast.TupleCons: _tuple,
    ast.ObjectCons: _object,
    ast.Parens: _parens,
}


# --------------------------------------------------------------------------- templatefile

_TEMPLATE_MARK = "VAULTFORM_TEMPLATE_END"


def render_template_file(text: str, path: str, variables: dict) -> Any:
    """templatefile's rendering: ``text`` read as a heredoc body, with only ``variables``
    (and the built-in functions) in scope; a template can't call templatefile again."""
    mark = _TEMPLATE_MARK
    while mark in text:
        mark += "_"
    # the body is read as a heredoc; the opening line shifts positions by one
    source = f"t = <<{mark}\n{text}{'' if text.endswith(chr(10)) or not text else chr(10)}{mark}\n"
    file, diags = parse_text(source, path)
    if file is None:
        raise FunctionError(f"the template is not valid: {_first_problem(diags)}", 0)
    expr = file.body.attributes[0].expr
    if any(isinstance(n, ast.Call) and n.name == "templatefile" for n in walk_expressions(expr)):
        raise FunctionError("a template can't call templatefile", 0)
    bad = [k for k in variables if not k.isidentifier()]
    if bad:
        raise FunctionError(f'template variable names must be identifiers, not "{bad[0]}"', 1)
    try:
        value = evaluate(expr, MapScope(dict(variables)))
    except EvalError as exc:
        d = exc.diagnostic
        line = d.range.line - 1 if d.range else 0
        raise FunctionError(f"{path}:{line}: {d.summary}: {d.detail}", 0) from None
    if isinstance(value, str) and not text.endswith("\n") and value.endswith("\n"):
        value = value[:-1]
    return value


# functions a templatestring template may not call: the filesystem ones and the template renderers
_TEMPLATESTRING_FORBIDDEN = frozenset(
    {
        "file",
        "fileexists",
        "fileset",
        "filebase64",
        "filebase64sha256",
        "filebase64sha512",
        "filemd5",
        "filesha1",
        "filesha256",
        "filesha512",
        "templatefile",
        "templatestring",
    }
)


def render_template_string(text: str, variables: dict) -> Any:
    """templatestring's rendering: as templatefile's, without filesystem functions."""
    mark = _TEMPLATE_MARK
    while mark in text:
        mark += "_"
    source = f"t = <<{mark}\n{text}{'' if text.endswith(chr(10)) or not text else chr(10)}{mark}\n"
    file, diags = parse_text(source, "<templatestring argument>")
    if file is None:
        raise FunctionError(f"invalid template: {_first_problem(diags)}", 0)
    expr = file.body.attributes[0].expr
    for node in walk_expressions(expr):
        if isinstance(node, ast.Call) and node.name in _TEMPLATESTRING_FORBIDDEN:
            if node.name in ("templatefile", "templatestring"):
                message = f"cannot recursively call {node.name} from inside another template function"
            else:
                message = (
                    f"cannot use filesystem access functions like {node.name} in templatestring templates; "
                    "consider passing the function result as a template variable instead"
                )
            raise FunctionError(message, 0)
    bad = [k for k in variables if not str(k).isidentifier()]
    if bad:
        raise FunctionError(
            f'invalid template variable name "{bad[0]}": must start with a letter, followed by zero or '
            "more letters, digits, and underscores",
            1,
        )
    try:
        value = evaluate(expr, MapScope(dict(variables)))
    except EvalError as exc:
        d = exc.diagnostic
        raise FunctionError(f"{d.summary}: {d.detail}", 0) from None
    if value is None:
        raise FunctionError("the result of the template is null", 0)
    if isinstance(value, str) and not text.endswith("\n") and value.endswith("\n"):
        value = value[:-1]
    return value


def _first_problem(diags) -> str:
    if not diags:
        return "it could not be read"
    d = diags[0]
    line = d.range.line - 1 if d.range else 0
    return f"line {line}: {d.summary}"


functions_files.use_template_renderer(render_template_file)

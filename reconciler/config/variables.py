"""Root module input variables: where their values come from, in Terraform's order.

Precedence, lowest first (a later source overrides an earlier one):

1. the ``default`` in the ``variable`` block;
2. ``TF_VAR_<name>`` environment variables;
3. ``terraform.tfvars`` then ``terraform.tfvars.json`` in the module directory;
4. ``*.auto.tfvars`` / ``*.auto.tfvars.json`` there, in alphabetical order;
5. each ``-var name=value`` and ``-var-file`` in command-line order, taken together: a later
   one wins, whichever kind it is (``VariableFlag``), as terraform 1.11 documents.

Inputs are a small record, ``VariableSpec`` (build one from a ``variable`` block with
``variable_spec_from_block``), so this module doesn't depend on the configuration
model. ``resolve_variables`` returns ``{name: ResolvedVariable}`` and diagnostics:
undeclared names in a tfvars file are warnings, in ``-var`` errors; a missing
required variable, a value that doesn't convert to the declared type, null for a
``nullable = false`` variable and a failed ``validation`` block are errors.

``-var`` and ``TF_VAR_`` values are taken literally (as strings) when the variable
has no type or a primitive one, and parsed as an expression otherwise
(``-var 'ids=["a","b"]'``), as Terraform does.
"""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from reconciler.config import ast
from reconciler.config.evaluator import EvalError, MapScope, Scope, condition_value, did_you_mean, evaluate
from reconciler.config.evaluator_operators import article
from reconciler.config.expression_values import expression_values
from reconciler.config.loader import parse_text
from reconciler.config.references import references, walk_expressions
from reconciler.config.source_files import ReadProblem, decode_source, list_source_files, read_source
from reconciler.config.type_exprs import parse_type
from reconciler.config.types import (
    Collection,
    CollectionKind,
    ConversionError,
    ObjectType,
    Primitive,
    PrimitiveKind,
    TupleType,
    TypeConstraint,
    convert,
    is_primitive,
    to_number,
)
from reconciler.diagnostics import Diagnostic, SourceRange, error, warning
from reconciler.values import UNKNOWN, mark_if

CODE = "variables"
FILE_CODE = "variables_file"  # a variables file that can't be read as a whole: nothing after it is judged

__all__ = [
    "ValueSource",
    "VariableFlag",
    "ResolvedVariable",
    "VariableSpec",
    "Validation",
    "resolve_variables",
    "variable_spec_from_block",
    "parse_tfvars",
]


class ValueSource(enum.Enum):
    DEFAULT = "default"
    ENVIRONMENT = "environment"
    TFVARS = "tfvars"
    AUTO_TFVARS = "auto.tfvars"
    VAR_FILE = "var-file"
    CLI = "-var"


@dataclass(frozen=True, slots=True)
class VariableFlag:
    """One ``-var NAME=VALUE`` or ``-var-file FILE`` of the command line, kept in the order given."""

    source: ValueSource  # CLI or VAR_FILE
    text: str  # NAME=VALUE, or the file's path

    @classmethod
    def var(cls, text: str) -> VariableFlag:
        return cls(ValueSource.CLI, text)

    @classmethod
    def file(cls, path: str) -> VariableFlag:
        return cls(ValueSource.VAR_FILE, path)


@dataclass(frozen=True, slots=True)
class ResolvedVariable:
    name: str
    value: Any
    sensitive: bool
    source: ValueSource
    origin: str  # "terraform.tfvars:3", "-var option", "TF_VAR_region", "default"
    range: SourceRange | None = None  # where a file set it: what a failed validation points at


@dataclass(frozen=True, slots=True)
class RawValue:
    """A value before conversion: already a value, or text still to be read."""

    name: str
    source: ValueSource
    origin: str
    value: Any = None
    text: str | None = None  # -var / TF_VAR_ text, read per the declared type
    range: SourceRange | None = None


# --------------------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True)
class Validation:
    """A ``validation { condition = ..., error_message = ... }`` block."""

    condition: ast.Expr
    error_message: ast.Expr
    pos: ast.Pos


@dataclass(frozen=True, slots=True)
class VariableSpec:
    """What resolution needs to know about a declared variable.

    ``type`` None means unconstrained; ``default`` None means required (a constant
    expression otherwise, evaluated here).
    """

    name: str
    pos: ast.Pos
    type: TypeConstraint | None = None
    default: ast.Expr | None = None
    nullable: bool = True
    sensitive: bool = False
    validations: tuple[Validation, ...] = ()
    description: str = ""


_VARIABLE_ARGS = ("type", "default", "description", "sensitive", "nullable", "ephemeral")


def _constant_of(attr: ast.Attribute | None, kind: type, diags: list[Diagnostic], fallback: Any) -> Any:
    if attr is None:
        return fallback
    try:
        value = evaluate(attr.expr, MapScope({}))
    except EvalError as exc:
        diags.append(exc.diagnostic)
        return fallback
    if not isinstance(value, kind):
        diags.append(
            error(
                CODE,
                f'Invalid value for "{attr.name}"',
                f'"{attr.name}" must be a constant {"bool" if kind is bool else "string"}.',
                range=attr.expr.pos.range(),
            )
        )
        return fallback
    return value


def variable_spec_from_block(block: ast.Block) -> tuple[VariableSpec | None, list[Diagnostic]]:
    """Build a ``VariableSpec`` from a ``variable "name" { ... }`` block."""
    diags: list[Diagnostic] = []
    if len(block.labels) != 1:
        return None, [
            error(
                CODE,
                "Invalid variable block",
                'A variable block has exactly one label, its name: variable "region" { }.',
                range=block.pos.range(),
            )
        ]
    body = block.body
    for attr in body.attributes:
        if attr.name not in _VARIABLE_ARGS:
            diags.append(
                error(
                    CODE,
                    "Unsupported argument",
                    f'A variable block has no argument "{attr.name}".'
                    + did_you_mean(attr.name, _VARIABLE_ARGS),
                    range=attr.name_pos.range(),
                )
            )
    type_ = None
    type_attr = body.attribute("type")
    if type_attr is not None:
        type_, problems = parse_type(type_attr.expr)
        diags.extend(problems)
    default_attr = body.attribute("default")
    validations = []
    for vb in body.blocks:
        if vb.type != "validation":
            diags.append(
                error(
                    CODE,
                    "Unsupported block type",
                    f'A variable block has no "{vb.type}" block; only validation blocks.',
                    range=vb.pos.range(),
                )
            )
            continue
        cond, msg = vb.body.attribute("condition"), vb.body.attribute("error_message")
        if cond is None or msg is None:
            missing = "condition" if cond is None else "error_message"
            diags.append(
                error(
                    CODE,
                    f'Missing required argument "{missing}"',
                    "A validation block needs both condition and error_message.",
                    range=vb.pos.range(),
                )
            )
            continue
        validations.append(Validation(cond.expr, msg.expr, vb.pos))
    spec = VariableSpec(
        name=block.labels[0],
        pos=block.pos,
        type=type_,
        default=default_attr.expr if default_attr is not None else None,
        nullable=_constant_of(body.attribute("nullable"), bool, diags, True),
        sensitive=_constant_of(body.attribute("sensitive"), bool, diags, False),
        validations=tuple(validations),
        description=_constant_of(body.attribute("description"), str, diags, ""),
    )
    return spec, diags


# --------------------------------------------------------------------------- tfvars files


def parse_tfvars(path: Path, source: ValueSource) -> tuple[list[RawValue], list[Diagnostic]]:
    """Read one tfvars file (HCL or JSON): only attributes with constant values."""
    data = read_source(path, named_by_user=source is ValueSource.VAR_FILE)
    if isinstance(data, ReadProblem):
        if source is ValueSource.VAR_FILE and not os.path.lexists(path):
            return [], [
                error(
                    FILE_CODE,
                    "Failed to read variables file",
                    f'Could not read "{path}": no such file. Check the path given to -var-file.',
                )
            ]
        return [], [data.diagnostic("variables file")]
    text = decode_source(data, str(path), "variables file")
    if isinstance(text, Diagnostic):
        return [], [text]
    if path.name.endswith(".json"):
        return _parse_json_tfvars(text, path, source)
    file, diags = parse_text(text, str(path))
    if file is None:
        return [], diags
    out: list[RawValue] = []
    for block in file.body.blocks:
        diags.append(
            error(
                CODE,
                "Unexpected block in variables file",
                f'A variables file only assigns values (name = value); the "{block.type}" '
                "block doesn't belong here.",
                range=block.pos.range(),
            )
        )
    for attr in file.body.attributes:
        problem = _non_constant(attr.expr)
        if problem is not None:
            diags.append(problem)
            continue
        try:
            value = evaluate(attr.expr, MapScope({}))
        except EvalError as exc:
            diags.append(exc.diagnostic)
            continue
        out.append(
            RawValue(attr.name, source, f"{path.name}:{attr.pos.line}", value=value, range=attr.pos.range())
        )
    return out, diags


def _non_constant(expr: ast.Expr, what: str = "values in a variables file") -> Diagnostic | None:
    refs = references(expr)
    if refs:
        return error(
            CODE,
            "Variables not allowed",
            f'"{refs[0]}" is a reference; {what} must be constants '
            "(strings, numbers, bools, lists and maps written out).",
            range=refs[0].pos.range(),
        )
    for node in walk_expressions(expr):
        if isinstance(node, ast.Call):
            return error(
                CODE,
                "Functions may not be called here",
                f'"{node.name}(...)" is a function call; {what} must be written out as constants.',
                range=node.pos.range(),
            )
    return None


def _parse_json_tfvars(text: str, path: Path, source: ValueSource) -> tuple[list[RawValue], list[Diagnostic]]:
    try:
        doc = json.loads(text, parse_float=to_number)
        deepest = _depth(doc)
    except RecursionError:
        deepest = MAX_VALUE_DEPTH + 1
    except json.JSONDecodeError as exc:
        return [], [
            error(
                FILE_CODE,
                "Invalid JSON in variables file",
                f"{exc.msg}.",
                range=SourceRange(str(path), exc.lineno, exc.colno),
            )
        ]
    if deepest > MAX_VALUE_DEPTH:
        return [], [
            error(
                FILE_CODE,
                "Value nested too deeply",
                f"Values in a variables file may nest at most {MAX_VALUE_DEPTH} levels of lists and "
                "objects; flatten this one.",
                range=SourceRange(str(path), 1),
            )
        ]
    if not isinstance(doc, dict):
        return [], [
            error(
                FILE_CODE,
                "Invalid variables file",
                "A JSON variables file holds one object whose properties are variable names.",
                range=SourceRange(str(path), 1),
            )
        ]
    return [
        RawValue(k, source, path.name, value=v, range=SourceRange(str(path), 1)) for k, v in doc.items()
    ], []


# Deeper values are refused when read, so nothing that walks them later runs out of stack.
MAX_VALUE_DEPTH = 100


def _depth(value: Any) -> int:
    """How many lists and objects nest in a decoded JSON value (iteratively)."""
    deepest = 0
    todo = [(value, 0)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_VALUE_DEPTH:
                    break
            todo.extend((x, depth) for x in item)
    return deepest


def _module_files(module_dir: Path) -> list[tuple[Path, ValueSource]]:
    # lexists, not is_file: a variables file that is a dangling link or a pipe is reported, not skipped.
    files = [(module_dir / n, ValueSource.TFVARS) for n in ("terraform.tfvars", "terraform.tfvars.json")]
    found = [(p, s) for p, s in files if os.path.lexists(p)]
    auto = list_source_files(module_dir, (".auto.tfvars", ".auto.tfvars.json"))
    return found + [(p, ValueSource.AUTO_TFVARS) for p in auto]


# --------------------------------------------------------------------------- -var and TF_VAR_


def _cli_values(cli_vars: list[str]) -> tuple[list[RawValue], list[Diagnostic]]:
    out, diags = [], []
    for item in cli_vars:
        name, eq, text = item.partition("=")
        name = name.strip()
        if not eq or not name:
            diags.append(
                error(
                    CODE,
                    "Invalid -var option",
                    f'The option -var="{item}" is not a name and a value: write -var="name=value".',
                )
            )
            continue
        out.append(RawValue(name, ValueSource.CLI, "-var option", text=text))
    return out, diags


def _env_values(environ: Mapping[str, str], declared: Mapping[str, VariableSpec]) -> list[RawValue]:
    out = []
    for key in sorted(environ):
        if key.startswith("TF_VAR_") and key[7:] in declared:
            out.append(RawValue(key[7:], ValueSource.ENVIRONMENT, key, text=environ[key]))
    return out


_PRIMITIVE_EXAMPLES = {PrimitiveKind.STRING: '"a"', PrimitiveKind.NUMBER: "1", PrimitiveKind.BOOL: "true"}


def example_value(t: TypeConstraint) -> str:
    """A value of type ``t`` as it is written on a command line: ``["a", "b"]``, ``{ a = 1 }``."""
    if isinstance(t, Primitive):
        return _PRIMITIVE_EXAMPLES[t.kind]
    if isinstance(t, Collection):
        one = example_value(t.element)
        return f"{{ a = {one} }}" if t.kind is CollectionKind.MAP else f"[{one}, {one}]"
    if isinstance(t, TupleType):
        return "[" + ", ".join(example_value(e) for e in t.elements) + "]"
    if isinstance(t, ObjectType):
        return "{ " + ", ".join(f"{a.name} = {example_value(a.type)}" for a in t.attrs) + " }"
    return '"a"'


def _read_text(raw: RawValue, spec: VariableSpec) -> Any:
    """A -var/TF_VAR_ value: literal text for primitive or no type, an expression otherwise."""
    if spec.type is None or is_primitive(spec.type):
        return raw.text
    where = f"<value for var.{spec.name}>"
    file, diags = parse_text(f"v = {raw.text}\n", where)
    if file is None or diags or len(file.body.attributes) != 1 or file.body.blocks:
        raise _ValueProblem(
            f"The {raw.origin} value for var.{spec.name} is not a valid expression; "
            f"write a {spec.type} value, e.g. -var='{spec.name}={example_value(spec.type)}'."
        )
    expr = file.body.attributes[0].expr
    problem = _non_constant(expr, f"{raw.origin} values")
    if problem is not None:
        raise _ValueProblem(
            f"The {raw.origin} value for var.{spec.name} must be a constant: {problem.detail}"
        )
    try:
        return evaluate(expr, MapScope({}))
    except EvalError as exc:
        raise _ValueProblem(f"The {raw.origin} value for var.{spec.name}: {exc.diagnostic.detail}") from None


class _ValueProblem(Exception):
    pass


# --------------------------------------------------------------------------- resolution


MISSING_VALUE = "No value for required variable"  # the one error -input's prompt answers


def resolve_variables(
    declared: Mapping[str, VariableSpec],
    *,
    module_dir: str | os.PathLike,
    flags: Sequence[VariableFlag] = (),
    environ: Mapping[str, str] | None = None,
) -> tuple[dict[str, ResolvedVariable], list[Diagnostic]]:
    """Resolve every declared root variable; see the module docstring for the order."""
    environ = os.environ if environ is None else environ
    diags: list[Diagnostic] = []
    raws: list[RawValue] = _env_values(environ, declared)
    module = Path(module_dir)
    for path, source in _module_files(module) if module.is_dir() else []:
        found, problems = parse_tfvars(path, source)
        diags.extend(problems)
        raws.extend(found)
    cli_problems: list[Diagnostic] = []
    for flag in flags:
        if flag.source is ValueSource.VAR_FILE:
            found, problems = parse_tfvars(Path(flag.text), ValueSource.VAR_FILE)
            diags.extend(problems)
        else:
            found, problems = _cli_values([flag.text])
            cli_problems.extend(problems)
        raws.extend(found)
    if any(d.is_error for d in diags if d.code != CODE):  # FILE_CODE, syntax, unreadable bytes
        # a file that can't be read or parsed stops here, as terraform stops (1.11: a missing
        # -var-file or a syntax error is the only error): a variable it may set isn't missing
        return {}, diags
    diags.extend(cli_problems)

    latest: dict[str, RawValue] = {}
    for raw in raws:
        if raw.name in declared:
            latest[raw.name] = raw
        else:
            diags.append(_undeclared(raw, declared))

    resolved: dict[str, ResolvedVariable] = {}
    for name, spec in declared.items():
        value = _final_value(spec, latest.get(name), diags)
        if value is not None:
            resolved[name] = value
    diags.extend(_run_validations(declared, resolved))
    return resolved, diags


def _undeclared(raw: RawValue, declared: Mapping[str, VariableSpec]) -> Diagnostic:
    hint = did_you_mean(raw.name, declared)
    if raw.source is ValueSource.CLI:
        return error(
            CODE,
            "Value for undeclared variable",
            f'A variable named "{raw.name}" was assigned on the command line, but the root '
            f'module does not declare it.{hint} Declare it with a variable "{raw.name}" {{}} '
            "block or remove the -var option.",
        )
    return warning(
        CODE,
        "Value for undeclared variable",
        f'The root module does not declare a variable named "{raw.name}", so the value in '
        f"{raw.origin} is ignored.{hint}",
        range=raw.range,
    )


def _final_value(
    spec: VariableSpec, raw: RawValue | None, diags: list[Diagnostic]
) -> ResolvedVariable | None:
    if raw is None:
        return _default_value(spec, diags)
    try:
        value = _read_text(raw, spec) if raw.text is not None else raw.value
    except _ValueProblem as exc:
        diags.append(error(CODE, "Invalid value for variable", str(exc), range=spec.pos.range()))
        return None
    where = raw.range or spec.pos.range()
    if value is None and not spec.nullable:
        diags.append(
            error(
                CODE,
                "Invalid value for variable",
                f"var.{spec.name} is set to null in {raw.origin}, but the variable is declared "
                "with nullable = false: give it a value.",
                range=where,
            )
        )
        return None
    if spec.type is not None:
        try:
            value = convert(value, spec.type)
        except ConversionError as exc:
            diags.append(
                error(
                    CODE,
                    "Invalid value for variable",
                    f"The value for var.{spec.name} from {raw.origin} is not {article(str(spec.type))}: "
                    f"{_shown(exc, spec)}.",
                    range=where,
                )
            )
            return None
    return ResolvedVariable(spec.name, value, spec.sensitive, raw.source, raw.origin, raw.range)


def _shown(exc: ConversionError, spec: VariableSpec) -> str:
    """The conversion problem, without quoting any part of a sensitive value."""
    if not spec.sensitive:
        return str(exc)
    return ConversionError("the sensitive value does not fit (not shown)", exc.path).render()


def default_problems(spec: VariableSpec) -> list[Diagnostic]:
    """What is wrong with a variable's default on its own (not constant, not of its type),
    as plan finds it: ``validate`` reports it too, as terraform's does."""
    found: list[Diagnostic] = []
    if spec.default is not None:
        _default_value(spec, found)
    return found


def _default_value(spec: VariableSpec, diags: list[Diagnostic]) -> ResolvedVariable | None:
    value = None
    if spec.default is not None:
        problem = _non_constant(spec.default, "variable defaults")
        if problem is not None:
            diags.append(problem)
            return None
        try:
            value = evaluate(spec.default, MapScope({}))
        except EvalError as exc:
            diags.append(exc.diagnostic)
            return None
    if spec.default is None or (value is None and not spec.nullable):
        diags.append(
            error(
                CODE,
                MISSING_VALUE,
                f'The root module input variable "{spec.name}" is not set and has no default '
                f'value. Pass it with -var="{spec.name}=...", in a terraform.tfvars or '
                f"*.auto.tfvars file, with -var-file, or as the environment variable "
                f"TF_VAR_{spec.name}.",
                range=spec.pos.range(),
            )
        )
        return None
    if spec.type is not None:
        try:
            value = convert(value, spec.type)
        except ConversionError as exc:
            diags.append(
                error(
                    CODE,
                    "Invalid default value for variable",
                    f"The default for var.{spec.name} is not of type {spec.type}: {exc}.",
                    range=spec.default.pos.range(),
                )
            )
            return None
    return ResolvedVariable(spec.name, value, spec.sensitive, ValueSource.DEFAULT, "default")


def _run_validations(
    declared: Mapping[str, VariableSpec], resolved: dict[str, ResolvedVariable]
) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    # a sensitive value stays marked, so an error while checking it doesn't print it
    scope = MapScope({"var": {n: mark_if(r.value, r.sensitive) for n, r in resolved.items()}})
    secret = frozenset(n for n, r in resolved.items() if r.sensitive)
    for name, spec in declared.items():
        if name not in resolved:
            continue
        for rule in spec.validations:
            if not tests_only_variables(rule):
                continue  # the plan checks it, once what it refers to is known
            where = resolved[name].range or declaration_range(spec.pos, name)
            problem = check_validation(rule, scope, name, secret, where=where)
            if problem is not None:
                diags.append(problem)
    return diags


def declaration_range(pos: ast.Pos, name: str) -> SourceRange:
    """A variable's ``variable "name"`` header: where terraform points a failed validation of a
    value no file set (a default, -var, TF_VAR_)."""
    return SourceRange(pos.file, pos.line, pos.column, pos.line, pos.column + len(f'variable "{name}"'))


def tests_only_variables(rule: ValidationRule) -> bool:
    """Whether a validation rule refers to input variables alone: such a rule is checked as the
    variables are read. One that also refers to locals, resources or data sources (terraform 1.9
    and later allow it) is checked by the plan's walk, once those are known."""
    return all(r.root == "var" for r in references(rule.condition) + references(rule.error_message))


class ValidationRule(Protocol):
    """A validation rule as a root variable's (``Validation``) or a module's declares it."""

    @property
    def condition(self) -> ast.Expr: ...

    @property
    def error_message(self) -> ast.Expr: ...

    @property
    def pos(self) -> ast.Pos: ...


def check_validation(
    rule: ValidationRule,
    scope: Scope,
    name: str,
    sensitive: frozenset[str] = frozenset(),
    *,
    where: SourceRange | None = None,
) -> Diagnostic | None:
    """Run one validation rule; None when it passes or its result isn't known yet. The error points
    at ``where`` the value was set (a line of a .tfvars file), as terraform's does, else at the rule.

    An error message built from a sensitive variable is not shown (it would print the secret).
    """
    try:
        ok = condition_value(evaluate(rule.condition, scope), rule.condition.pos, "validation condition")
    except EvalError as exc:
        return exc.diagnostic
    if ok is UNKNOWN or ok:
        return None
    try:
        message = evaluate(rule.error_message, scope)
    except EvalError as exc:
        return exc.diagnostic
    if not isinstance(message, str):
        message = f"The validation rule for var.{name} failed."
    if any(
        r.subject[0] == "var" and r.subject[1:] and r.subject[1] in sensitive
        for r in references(rule.error_message)
    ):
        message = (
            f"The validation rule for var.{name} failed; its error message includes a "
            "sensitive value, so it is not shown."
        )
    failed = error(
        CODE,
        "Invalid value for variable",
        f"{message}\n\nThis was checked by the validation rule at {_relative(rule.pos.file)}:{rule.pos.line}.",
        range=where or rule.pos.range(),
        address=f"var.{name}",
    )
    secret = tuple(f"var.{n}" for n in sensitive)
    values = tuple(
        (text, statement)
        for text, statement in expression_values(rule.condition, partial(evaluate, scope=scope))
        if not any(text == s or text.startswith((s + ".", s + "[")) for s in secret)
    )
    return replace(failed, values=values)


def _relative(file: str) -> str:
    """A file under the working directory as a path relative to it (a module's files are read by
    their full path), as terraform names a rule's file."""
    if os.path.isabs(file):
        relative = os.path.relpath(file)
        if not relative.startswith(".."):
            return relative
    return file

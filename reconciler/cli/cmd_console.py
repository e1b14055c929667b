"""`vaultform console [DIR]`: evaluate expressions against the configuration and the state.

As `terraform console`: on a terminal, a ``> `` prompt reads one expression and prints its
value (an open bracket continues it on the next line, at a ``: `` prompt); a bad expression is a diagnostic and the session goes on (``exit`` or
end of input ends it). Piped input is read line by line and, as terraform 1.11 does, only
the last line's value is printed; the first error is reported and ends the run with exit 1.

Values come from one plan walk without refresh, so ``var.*``, ``local.*``, resources and
data sources (their attributes recorded in the state), module outputs, ``path.*`` and
``terraform.workspace`` mean what they mean in plan; every function is available.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace

from reconciler import session as steps
from reconciler.cli.common import add_config_flags
from reconciler.cli.console_input import could_continue
from reconciler.config import ast
from reconciler.config.evaluator import EvalError, evaluate
from reconciler.config.functions_spec import allow_impure_calls
from reconciler.config.loader import parse_text
from reconciler.config.model import Mode
from reconciler.config.references import walk_expressions
from reconciler.diagnostics import Diagnostic, error
from reconciler.plan.scope import PlanScope
from reconciler.plan.walk import PlanOptions, Walker
from reconciler.reference_shapes import resolver
from reconciler.validate import reference_problems
from reconciler.value_shapes import Resolve, shape_of, type_text
from reconciler.value_text import format_value

INPUT_NAME = "<console-input>"
PROMPT = "> "
CONTINUE_PROMPT = ": "  # terraform's prompt while a multi-line entry is open (console_interactive.go)


def setup(parser) -> None:
    add_config_flags(parser)


def console_scope(session: steps.Session) -> PlanScope:
    """The root module's names after a plan walk over the recorded state (no refresh)."""
    recorded = {
        str(address): dict(inst.attributes)
        for address, _res, inst in session.state.instances()
        if address.resource.mode is Mode.DATA
    }

    def read_recorded(_type: str, _config: dict, address: str = "") -> dict:
        # a data source reads as the state recorded it (terraform console shows those values, not
        # "known after apply"); one never read stays unknown
        if address not in recorded:
            raise LookupError(f"{address} has not been read yet")
        return recorded[address]

    request = replace(steps.plan_request(session, None, PlanOptions()), read_data=read_recorded)
    walker = Walker(request)
    walker.run()
    module = session.validated.module_info.module
    declared = {r.type for r in module.resources.values() if r.mode is Mode.MANAGED}
    return PlanScope(walker.namespace(()), None, declared)


Check = Callable[[ast.Expr], list[Diagnostic]]


def evaluate_line(
    text: str, scope: PlanScope, resolve: Resolve | None = None, check: Check | None = None
) -> tuple[str | None, list[Diagnostic]]:
    """One line's value in console formatting, or the diagnostics saying why not; ``resolve``: the
    shapes of the configuration's references (``reconciler.reference_shapes``); ``check``: the
    problems of the line's references to the configuration, found before evaluating it."""
    file, diags = parse_text(f"v = {text}\n", INPUT_NAME)
    if file is None or diags or len(file.body.attributes) != 1 or file.body.blocks:
        return None, diags or [
            error("console", "Invalid expression", "Write one expression on the line, e.g. var.name.")
        ]
    expr = file.body.attributes[0].expr
    refused = _console_only_calls(expr) or (check(expr) if check is not None else [])
    if refused:
        return None, refused
    try:
        inner = expr
        while isinstance(inner, ast.Parens):
            inner = inner.expr
        if isinstance(inner, ast.Call) and inner.name == "type":
            # terraform's console-only type(): the argument's type, as the console writes types
            return type_text(evaluate(inner.args[0], scope), shape_of(inner.args[0], resolve)), []
        return format_value(evaluate(expr, scope), shape=shape_of(expr, resolve)), []
    except EvalError as exc:
        return None, list(exc.diagnostics)


def _console_only_calls(expr: ast.Expr) -> list[Diagnostic]:
    """terraform console's function table differs from plan's: it has ``type`` (only as the
    whole expression, with one argument) and no ``plantimestamp`` (there is no plan)."""
    top = expr
    while isinstance(top, ast.Parens):
        top = top.expr
    for node in walk_expressions(expr):
        if not isinstance(node, ast.Call):
            continue
        if node.name == "plantimestamp":
            return [
                error("console", "Call to unknown function", 'There is no function named "plantimestamp".')
            ]
        if node.name != "type":
            continue
        if node is not top:
            return [
                error(
                    "console",
                    "Invalid use of type function",
                    'The console-only "type" function cannot be used as part of an expression.',
                )
            ]
        if len(node.args) > 1 or node.expand_final:
            return [
                error("console", "Too many function arguments", 'Function "type" expects only 1 argument(s).')
            ]
        if not node.args:
            return [
                error(
                    "console",
                    "Not enough function arguments",
                    'Function "type" expects 1 argument(s). Missing value for "value".',
                )
            ]
    return []


def run(args, out) -> int:
    # as terraform console, a directory without .tf files is an empty configuration
    session = steps.open_session(
        args.dir, variables=args.variable_flags, state_path=args.state, allow_empty=True
    )
    try:
        scope = console_scope(session)
        info = session.validated.module_info
        resolve = resolver(info.module, children=info.children)
        tree = session.validated.module_tree

        def check(expr: ast.Expr) -> list[Diagnostic]:
            return reference_problems(tree, expr)
    finally:
        session.close()
    # as terraform's console (an "eval" walk, not a plan), uuid(), timestamp() and bcrypt() run
    allow_impure_calls(True)
    try:
        if sys.stdin.isatty():
            return _interactive(scope, resolve, check, out)
        return _piped(scope, resolve, check, out)
    finally:
        allow_impure_calls(False)


def _interactive(scope: PlanScope, resolve: Resolve, check: Check, out) -> int:
    lines: list[str] = []
    while True:
        try:
            line = input(CONTINUE_PROMPT if lines else PROMPT)
        except EOFError:
            out.print("")
            return 0
        except KeyboardInterrupt:
            if not lines:
                out.print("")
                return 0
            lines = []  # as terraform: Ctrl-C drops the unfinished entry, the session goes on
            out.print("(multi-line entry canceled)")
            continue
        lines.append(line)
        if could_continue(lines):
            continue  # an open bracket: the expression goes on at the ": " prompt
        text = "\n".join(lines).strip()
        lines = []
        if text == "exit":
            return 0
        if not text:
            continue
        result, diags = evaluate_line(text, scope, resolve, check)
        if diags:
            out.diagnostics(diags)
        else:
            out.print(result or "")


def _piped(scope: PlanScope, resolve: Resolve, check: Check, out) -> int:
    result = ""
    for line in sys.stdin:
        text = line.strip()
        if text == "exit":
            break
        if not text:
            result = ""
            continue
        value, diags = evaluate_line(text, scope, resolve, check)
        if diags:
            out.diagnostics(diags)
            return 1
        result = value or ""
    out.print(result)
    return 0

"""Configuration loader: text -> python-hcl2 typed tree -> ``ast.File``.

Public API
----------
``parse_text(text, filename) -> (ast.File | None, [Diagnostic])``
    Parse one file's text. A syntax error gives ``None`` and one diagnostic
    (code "syntax") with file, line and column; nothing raises.
``parse_bytes(data, filename)``
    The same for raw file content: invalid UTF-8 becomes a diagnostic. A file named
    ``*.tf.json`` is read in terraform's JSON syntax (``reconciler.config.json_syntax``)
    into the same nodes. (``parse_text`` itself always reads the native syntax: its other
    callers - templatefile, tfvars, the console - pass names that aren't configuration
    files, and a template may be named anything.)

Whole directories are read by ``reconciler.config.directory`` (through the parse
cache and, for large uncached batches, a process pool).

Where python-hcl2 8.1's tree can't give the exact HCL meaning, the loader does:

* ``${~ x ~}``: the grammar has strip markers on directives only. A lexical
  pre-pass (``loader_scan.strip_interpolation_markers``) blanks those ``~`` to
  spaces (same lines and columns) and the converter restores the flags.
* Heredocs are one opaque token: their bodies are read by
  ``convert_templates.heredoc_pieces`` and each ``${...}``/``%{...}`` expression
  is parsed by python-hcl2 on its own, at its real line and column.
* The grammar is laxer than HCL: two arguments on one line, object elements
  without "," or a new line, unknown backslash escapes and numbers Python can't
  hold are refused by the converter with a diagnostic.
* Comments are dropped (``discard_comments``): nothing downstream uses them.
* Expressions nested deeper than ``convert.MAX_EXPR_DEPTH`` are refused, so the
  limit doesn't depend on the stack depth of the caller.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import TYPE_CHECKING

from reconciler.config import ast
from reconciler.config.convert_version import HCL2_VERSION
from reconciler.config.loader_scan import LineIndex, scan_brackets, strip_interpolation_markers
from reconciler.config.source_files import decode_source
from reconciler.diagnostics import Diagnostic, error

if TYPE_CHECKING:
    from lark.exceptions import VisitError  # lazy: start-up

# python-hcl2, lark and the converter are imported where a file is parsed, not here: a run whose
# files all come from the parse cache never needs them, and they take a twentieth of a second to load

__all__ = ["HCL2_VERSION", "parse_bytes", "parse_text", "paused_gc"]

# Where a too-deep diagnostic points: the first bracket nested deeper than this.
# (python-hcl2's tree walk is recursive; its RecursionError is what refuses the file.)
MAX_NESTING = 100


@contextmanager
def paused_gc():
    """Pause the collector while parsing: a parse allocates many objects quickly, and
    collections triggered half-way only re-scan them. python-hcl2's tree links parents
    and children (cycles), so on leaving, one young-generation collection frees it
    (without it, a batch of files parsed with the collector off keeps every tree alive)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect(0)
        if was_enabled:
            gc.enable()


def parse_text(text: str, filename: str) -> tuple[ast.File | None, list[Diagnostic]]:
    """Parse configuration text into an ``ast.File``; errors become diagnostics."""
    if text.startswith("\ufeff"):
        text = text[1:]
    with paused_gc():
        try:
            return _parse(text, filename)
        except RecursionError:
            return None, [_too_deep(text, filename)]
        except Exception as exc:
            from reconciler.config import loader_errors as errors  # lazy: start-up

            return None, [
                errors.syntax_error(
                    filename,
                    1,
                    1,
                    "Invalid syntax",
                    f"The file could not be read as configuration ({type(exc).__name__}).",
                )
            ]


def parse_bytes(data: bytes, filename: str) -> tuple[ast.File | None, list[Diagnostic]]:
    """Decode UTF-8 (a diagnostic names the first bad byte's line) and parse."""
    text = decode_source(data, filename)
    if isinstance(text, Diagnostic):
        return None, [text]
    if filename.endswith(".tf.json"):
        from reconciler.config.json_syntax import parse_json_config  # lazy: start-up

        with paused_gc():
            return parse_json_config(text, filename)
    return parse_text(text, filename)


def _parse(text: str, filename: str) -> tuple[ast.File | None, list[Diagnostic]]:
    from lark.exceptions import LarkError, UnexpectedInput, VisitError  # lazy: start-up

    from reconciler.config import hcl2_tree  # lazy: start-up
    from reconciler.config import loader_errors as errors  # lazy: start-up
    from reconciler.config.convert import Converter, ConvertProblem  # lazy: start-up

    if "\x00" in text:
        offset = text.index("\x00")
        line, col = LineIndex(text).position(offset)
        return None, [
            errors.syntax_error(
                filename,
                line,
                col,
                "Invalid character (NUL byte)",
                "Configuration files are text; remove the binary content.",
            )
        ]
    source, marks = strip_interpolation_markers(text)
    try:
        start = hcl2_tree.parse(source)
    except UnexpectedInput as exc:
        return None, [errors.from_exception(exc, source, filename)]
    except VisitError as exc:
        return None, [_visit_problem(exc, source, filename)]
    except LarkError as exc:
        return None, [errors.from_exception(exc, source, filename)]
    if marks:
        index = LineIndex(text)
        marks_lc = {index.position(off): flags for off, flags in marks.items()}
    else:
        marks_lc = {}
    conv = Converter(filename, marks_lc, fragment=_FragmentParser(filename))
    try:
        node = conv.file_node(start)
    except ConvertProblem as exc:
        return None, [error(errors.CODE, exc.summary, exc.detail, range=exc.pos.range())]
    finally:
        hcl2_tree.release(start)
    return node, list(conv.diagnostics)


def _visit_problem(exc: VisitError, text: str, filename: str) -> Diagnostic:
    from lark.exceptions import VisitError  # lazy: start-up

    from reconciler.config import loader_errors as errors  # lazy: start-up

    orig = exc.orig_exc
    while isinstance(orig, VisitError):
        orig = orig.orig_exc
    if isinstance(orig, RecursionError):
        return _too_deep(text, filename)
    meta = getattr(exc.obj, "meta", None)
    line = getattr(meta, "line", 1) if meta is not None and not getattr(meta, "empty", True) else 1
    column = getattr(meta, "column", 1) if meta is not None and not getattr(meta, "empty", True) else 1
    message = str(orig)
    if "Unterminated template" in message:
        kind = "if" if " if " in message else "for"
        closer = "endif" if kind == "if" else "endfor"
        return errors.syntax_error(
            filename,
            line,
            column,
            f"Unterminated template directive: %{{{kind}}} has no %{{{closer}}}",
            f"Add %{{{closer}}} where the %{{{kind}}} section of this string ends.",
        )
    return errors.syntax_error(filename, line, column, "Invalid syntax", message[:200])


def _too_deep(text: str, filename: str) -> Diagnostic:
    from reconciler.config import loader_errors as errors  # lazy: start-up

    report = scan_brackets(text, MAX_NESTING)
    line = col = 1
    if report.too_deep_at is not None:
        line, col = LineIndex(text).position(report.too_deep_at)
    return errors.syntax_error(
        filename,
        line,
        col,
        "Expression nested too deeply",
        f"Brackets nest {report.max_depth} levels deep here; simplify the expression "
        "(use locals for the inner parts).",
    )


class _FragmentParser:
    """Parse one heredoc ``${...}``/``%{...}`` expression at its real line and column.

    (An object, not a closure that passes itself on to its converter: that would be a
    reference cycle left to the garbage collector for every file.)"""

    def __init__(self, filename: str) -> None:
        self.filename = filename

    def __call__(self, expr_text: str, line: int, column: int) -> ast.Expr:
        from lark.exceptions import LarkError  # lazy: start-up

        from reconciler.config import hcl2_tree  # lazy: start-up
        from reconciler.config.convert import Converter, ConvertProblem  # lazy: start-up

        filename = self.filename
        source, marks = strip_interpolation_markers(expr_text)
        padded = "x = (\n" + " " * (column - 1) + source + "\n)\n"
        try:
            start = hcl2_tree.parse(padded)
        except (LarkError, RuntimeError):
            raise ConvertProblem(
                "Invalid expression in heredoc template",
                f'"{expr_text.strip()[:60]}" is not a valid expression; fix it or escape the '
                'sequence as "$${" / "%%{".',
                ast.Pos(filename, line, column, line, column + len(expr_text)),
            ) from None
        shift = line - 2
        marks_lc = {}
        if marks:
            index = LineIndex(padded)
            marks_lc = {index.position(off + 6 + column - 1): f for off, f in marks.items()}
        conv = Converter(filename, marks_lc, line_shift=shift, fragment=self)
        try:
            attr = start.body.children[0]
            inner = conv.expr(attr.expression)
        finally:
            hcl2_tree.release(start)
        return inner.expr if isinstance(inner, ast.Parens) else inner

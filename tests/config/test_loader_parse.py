"""parse_text / parse_bytes details that the fixture trees don't show."""

from __future__ import annotations

import pytest

from reconciler.config import ast
from reconciler.config.loader import parse_bytes, parse_text


def _attr(text: str, name: str = "a") -> ast.Attribute:
    node, diags = parse_text(text, "main.tf")
    assert diags == [], diags
    attr = node.body.attribute(name)
    assert attr is not None
    return attr


def test_empty_and_comment_only_files():
    for text in ("", "\n\n", "# nothing\n// here\n/* at all */\n"):
        node, diags = parse_text(text, "main.tf")
        assert diags == [] and node.body.attributes == () and node.body.blocks == ()


def test_byte_order_mark_and_crlf():
    attr = _attr("\ufeffa = <<EOT\r\nx ${y}\r\nEOT\r\nb = 1\r\n")
    assert isinstance(attr.expr, ast.Template)
    assert attr.expr.parts[0] == "x " and attr.expr.parts[-1] == "\n"
    assert attr.expr.parts[1].expr.pos.line == 2


def test_duplicate_argument_names_both_lines_and_keeps_the_first():
    node, diags = parse_text("a = 1\nb = 2\na = 3\n", "main.tf")
    (d,) = diags
    assert d.code == "duplicate-attribute" and d.range.line == 3
    assert "line 1" in d.detail and "line 3" in d.detail
    assert node.body.attribute("a").expr.value == 1 and len(node.body.attributes) == 2


def test_keyword_names_get_their_own_position():
    attr = _attr("  in = 1\n", "in")
    assert (attr.name_pos.line, attr.name_pos.column, attr.name_pos.end_column) == (1, 3, 5)


def test_heredoc_escapes_and_strip_markers():
    attr = _attr("a = <<EOT\n$${x} %%{y}\n  ${~ v ~}  \n!\nEOT\n")
    parts = attr.expr.parts
    # "${~" trims only the spaces before it on its own line, as terraform 1.11 does
    assert parts[0] == "${x} %{y}\n"
    assert isinstance(parts[1], ast.TemplateInterp) and parts[1].strip_left and parts[1].strip_right
    assert parts[2] == "!\n"
    assert parts[1].expr.pos.line == 3 and parts[1].expr.pos.column == 7


def test_nested_template_in_interpolation_keeps_quotes_and_braces():
    attr = _attr('a = "x${join("}", [for s in var.l : "${s}~}"])}y"\n')
    (x, interp, y) = attr.expr.parts
    assert (x, y) == ("x", "y")
    call = interp.expr
    assert isinstance(call, ast.Call) and call.args[0].value == "}"


def test_single_interpolation_template_is_a_template_not_a_literal():
    attr = _attr('a = "${var.x}"\n')
    assert isinstance(attr.expr, ast.Template) and len(attr.expr.parts) == 1


def test_nul_and_invalid_utf8_are_diagnostics():
    node, diags = parse_text("a = 1\nb = \x00\n", "main.tf")
    assert node is None and diags[0].range.line == 2
    node, diags = parse_bytes(b'a = 1\nb = "\xff\xfe"\n', "main.tf")
    assert node is None and diags[0].code == "encoding"
    assert (diags[0].range.line, diags[0].range.column) == (2, 6)


@pytest.mark.parametrize(
    "text, summary, line",
    [
        ("a = <<EOT\nhello\n", 'Unterminated heredoc: no line closes "<<EOT"', 1),
        ("a = f(1, 2\nb = 1\n", 'Unclosed parenthesis: the "(" on line 1', 1),
        ("a = [1 2]\n", 'Unexpected "2"', 1),
        ('a = x\nb = "%{ for x in y }z"\n', "Unterminated template directive: %{for} has no %{endfor}", 2),
        ('a = "%{ endif }"\n', "Unexpected %{endif}", 1),
        ("a = <<EOT\n%{ while x }\nEOT\n", "Invalid template directive", 2),
        ("a = 1e400\n", "Number out of range", 1),
    ],
)
def test_more_syntax_errors(text, summary, line):
    node, diags = parse_text(text, "main.tf")
    assert node is None and len(diags) == 1
    assert summary in diags[0].summary and diags[0].range.line == line and diags[0].code == "syntax"


def test_parse_is_deterministic_and_picklable():
    import pickle

    text = 'resource "a" "b" {\n  x = [for i in var.l : i * 2 if i > 0]\n}\n'
    one, _ = parse_text(text, "main.tf")
    two, _ = parse_text(text, "main.tf")
    assert one == two and pickle.loads(pickle.dumps(one)) == one


def test_a_parsed_file_leaves_nothing_for_the_garbage_collector():
    """python-hcl2's tree links each node to its parent; the loader unlinks it once converted, so
    a parse leaves no reference cycle behind (collecting them cost about a sixth of a cold parse)."""
    import gc

    text = (
        'resource "a" "b" {\n  x = "${var.y}-%{ if var.z }on%{ else }off%{ endif }"\n'
        "  y = [for i in var.l : i * 2 if i > 0]\n  z = { k = <<EOT\n${var.h}\nEOT\n }\n}\n"
    )
    parse_text(text, "main.tf")  # imports and builds the parser
    gc.collect()
    was_enabled = gc.isenabled()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds unreachable stays in gc.garbage
    try:
        node, diags = parse_text(text, "main.tf")
        gc.collect()
        cyclic = [type(o).__qualname__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()
    assert diags == [] and node is not None
    assert cyclic == []

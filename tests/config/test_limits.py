"""Inputs at the limits: deep nesting is a diagnostic at file:line, never a RecursionError."""

from __future__ import annotations

import io
import json
import os
import threading
import time

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from reconciler.config.directory import load_directory
from reconciler.config.loader_scan import find_template_close, skip_string


def run(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue() + err.getvalue()


def nested_template(depth: int) -> str:
    inner = '"x"'
    for _ in range(depth):
        inner = '"${' + inner + '}"'
    return inner


@pytest.mark.parametrize("depth", [150, 500, 5000])
def test_deep_template_interpolation_is_nested_too_deeply_at_its_line(tmp_path, depth):
    (tmp_path / "main.tf").write_text("locals {\n  v = " + nested_template(depth) + "\n}\n")
    files, diags = load_directory(tmp_path, cache=False)
    assert files == []
    assert [(d.code, d.summary) for d in diags] == [("syntax", "Expression nested too deeply")]
    assert diags[0].range.file.endswith("main.tf") and diags[0].range.line == 2


def test_deep_template_through_validate_is_a_diagnostic_not_an_internal_error(tmp_path):
    (tmp_path / "main.tf").write_text("locals {\n  v = " + nested_template(500) + "\n}\n")
    code, text = run("validate", str(tmp_path))
    assert code == 1
    assert "nested too deeply" in text and "main.tf line 2" in text, text
    assert "internal error" not in text and "RecursionError" not in text


def test_template_scanner_is_not_recursive():
    text = nested_template(20000)
    assert skip_string(text, 1) == len(text)
    assert find_template_close(text, 3) == len(text) - 2


def test_deep_json_variables_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.tf").write_text('variable "v" {\n  type = any\n}\noutput "o" {\n  value = var.v\n}\n')
    (tmp_path / "terraform.tfvars.json").write_text(
        json.dumps({"v": 1}).replace("1", "[" * 3000 + "]" * 3000)
    )
    code, text = run("plan")
    assert code == 1
    assert "nested too deeply" in text and "terraform.tfvars.json" in text, text
    assert "internal error" not in text


def test_var_file_named_on_the_command_line_may_be_a_pipe(tmp_path, monkeypatch):
    """-var-file=<(...) is a pipe the user asked for: read it (only listed files must be regular)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.tf").write_text('variable "v" {}\noutput "o" {\n  value = var.v\n}\n')
    pipe = tmp_path / "values.pipe"
    os.mkfifo(pipe)

    def feed():
        with open(pipe, "w") as fh:
            fh.write('v = "from the pipe"\n')

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    code, text = run("plan", f"-var-file={pipe}")
    writer.join(5)
    assert code == 0, text
    assert "from the pipe" in text


def test_many_diagnostics_are_collected_in_linear_time():
    from reconciler.diagnostics import Diagnostics, error

    diags = Diagnostics()
    started = time.monotonic()
    for i in range(30_000):
        diags.add(error("x", f"problem {i}"))
        diags.add(error("x", f"problem {i}"))  # a duplicate is still suppressed
    assert len(diags) == 30_000
    assert time.monotonic() - started < 5  # a list scan per add took minutes


def test_thousands_of_undeclared_references_validate_in_seconds(tmp_path):
    """Each error's "did you mean" compared it with every resource: quadratic in a big configuration."""
    blocks = [
        f'resource "terraform_data" "m_{n}" {{\n  input = terraform_data.missing_{n}.id\n}}\n'
        for n in range(2500)
    ]
    (tmp_path / "main.tf").write_text("\n".join(blocks))
    started = time.monotonic()
    code, text = run("validate", "-no-color", str(tmp_path))
    elapsed = time.monotonic() - started
    assert code == 1 and text.count("Reference to undeclared resource") == 2500
    assert elapsed < 90, f"validate took {elapsed:.1f} s"  # about 10 s; quadratic, minutes

"""Built-in functions in `vaultform console`, side by side with `terraform console`, byte for byte.

Each line of tests/fixtures/console_functions/expressions.txt is printed by both in a copy of that
directory (its files are what fileset, filesha1 … read; main.tf holds templatestring's
templates); each line of refused.txt is refused by both, with the same summary. The console's own
functions are here too: ``type(...)``, and no ``plantimestamp``.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import bcrypt
import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output

FIXTURE = Path(__file__).parents[1] / "fixtures" / "console_functions"


def _lines(name: str) -> list[str]:
    text = (FIXTURE / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


EXPRESSIONS = _lines("expressions.txt")
REFUSED = _lines("refused.txt")
TF_ENV = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}

needs_terraform = pytest.mark.skipif(shutil.which("terraform") is None, reason="install terraform to compare")


def _vaultform(directory: Path, expression: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old_stdin, old_cwd = sys.stdin, os.getcwd()
    sys.stdin = io.StringIO(expression + "\n")
    os.chdir(directory)
    try:
        code = main(["console"], output=Output(out=out, err=err, no_color=True))
    finally:
        sys.stdin = old_stdin
        os.chdir(old_cwd)
    return code, out.getvalue(), err.getvalue()


def _terraform(directory: Path, expression: str) -> tuple[int, str, str]:
    done = subprocess.run(
        ["terraform", "console", "-no-color"],
        cwd=directory,
        env=TF_ENV,
        input=expression + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    root = tmp_path_factory.mktemp("console_functions")
    theirs, ours = root / "tf", root / "vf"
    shutil.copytree(FIXTURE, theirs)
    shutil.copytree(FIXTURE, ours)
    return theirs, ours


def _through_terraform(expressions: list[str], root: Path) -> dict[str, tuple[int, str, str]]:
    """Every expression through terraform, four at a time, each worker in a copy of its own
    (terraform console locks the directory's state)."""
    workers = 4
    copies = [shutil.copytree(FIXTURE, root / str(n)) for n in range(workers)]

    def run(n: int) -> list[tuple[str, tuple[int, str, str]]]:
        return [(e, _terraform(copies[n], e)) for e in expressions[n::workers]]

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return {e: result for chunk in pool.map(run, range(workers)) for e, result in chunk}


@pytest.fixture(scope="module")
def terraform_prints(tmp_path_factory):
    return _through_terraform(EXPRESSIONS, tmp_path_factory.mktemp("console_functions_tf"))


@pytest.fixture(scope="module")
def terraform_refusals(tmp_path_factory):
    return _through_terraform(REFUSED, tmp_path_factory.mktemp("console_refused_tf"))


@needs_terraform
@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_console_prints_functions_as_terraform_does(copies, terraform_prints, expression):
    _theirs, ours = copies
    code_t, out_t, err_t = terraform_prints[expression]
    assert code_t == 0, f"terraform refused {expression}: {err_t}"
    code_v, out_v, err_v = _vaultform(ours, expression)
    assert code_v == 0, err_v
    assert out_v == out_t


@needs_terraform
@pytest.mark.parametrize("expression", REFUSED)
def test_console_refuses_what_terraform_refuses(copies, terraform_refusals, expression):
    _theirs, ours = copies
    code_t, _out_t, err_t = terraform_refusals[expression]
    assert code_t == 1, f"terraform accepted {expression}"
    theirs = next(line for line in err_t.splitlines() if line.startswith("Error: "))
    code_v, out_v, err_v = _vaultform(ours, expression)
    assert (code_v, out_v) == (1, "")
    ours_line = next(line for line in err_v.splitlines() if line.startswith("Error: "))
    assert re.sub(r" \[[a-z_]+\]$", "", ours_line) == theirs  # without vaultform's " [code]"


@needs_terraform
def test_bcrypt_hashes_verify_and_have_terraforms_shape(copies):
    theirs, ours = copies
    for directory, run in ((theirs, _terraform), (ours, _vaultform)):
        code, out, err = run(directory, 'bcrypt("hunter2", 5)')
        assert code == 0, err
        hashed = out.strip().strip('"')
        assert hashed.startswith("$2a$05$") and len(hashed) == 60
        assert bcrypt.checkpw(b"hunter2", hashed.encode())
        assert not bcrypt.checkpw(b"hunter3", hashed.encode())
    # a cost below 4 falls back to 10, as Go's bcrypt does
    _code, out, _err = _vaultform(ours, 'bcrypt("x", 3)')
    assert out.startswith('"$2a$10$')


@needs_terraform
def test_console_without_tf_files_works_as_terraforms(tmp_path):
    empty_t, empty_v = tmp_path / "tf", tmp_path / "vf"
    empty_t.mkdir()
    empty_v.mkdir()
    _code, out_t, _err = _terraform(empty_t, 'cidrsubnets("10.0.0.0/16", 8, 8)')
    code, out_v, err = _vaultform(empty_v, 'cidrsubnets("10.0.0.0/16", 8, 8)')
    assert code == 0, err
    assert out_v == out_t


def test_plan_still_needs_tf_files(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        code = main(["plan"], output=Output(out=out, err=err, no_color=True))
    finally:
        os.chdir(old)
    assert code == 1
    assert "No .tf files" in err.getvalue()


@pytest.mark.parametrize(
    ("expression", "summary"),
    [
        ("plantimestamp()", 'There is no function named "plantimestamp".'),
        ("[type(1)]", 'The console-only "type" function cannot be used as part of an expression.'),
        ("type(1, 2)", 'Function "type" expects only 1 argument(s).'),
        ("type()", 'Function "type" expects 1 argument(s). Missing value for "value".'),
    ],
)
def test_console_only_functions_are_refused_as_terraform_refuses_them(copies, expression, summary):
    _theirs, ours = copies
    code, _out, err = _vaultform(ours, expression)
    assert code == 1
    assert summary in " ".join(err.split())


def test_impure_functions_compute_in_the_console(copies):
    _theirs, ours = copies
    code, out, err = _vaultform(ours, "timestamp()")
    assert code == 0, err
    assert out.startswith('"20') and out.rstrip().endswith('Z"')

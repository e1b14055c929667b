"""`output NAME` before anything is recorded, and a name the state lacks, as terraform 1.11 answers."""

from __future__ import annotations

import io

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def declared(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "az.db"))
    (tmp_path / "main.tf").write_text('output "x" {\n  value = 1\n}\n')
    return tmp_path


@pytest.mark.parametrize("args", [("x",), ("-raw", "x"), ("nope",), ()], ids=" ".join)
def test_no_outputs_recorded_yet_is_a_warning_by_name_too(declared, args):
    # terraform 1.11: "Warning: No outputs found", exit 0, whether a name is given or not
    code, out, err = _run("output", *args)
    assert (code, out) == (0, "")
    assert "Warning: No outputs found" in err
    assert "not found" not in err and "Declare it" not in err


def test_a_name_the_recorded_outputs_lack_is_an_error_that_says_to_apply(declared):
    assert _run("apply", "-auto-approve")[0] == 0
    assert _run("output", "-raw", "x")[:2] == (0, "1")
    (declared / "main.tf").write_text('output "x" {\n  value = 1\n}\noutput "y" {\n  value = 2\n}\n')
    code, out, err = _run("output", "y")
    assert (code, out) == (1, "")
    assert 'Error: Output "y" not found' in err
    assert "(it has: x)" in err and "run `vaultform apply`" in err


def test_json_asks_for_a_name_strictly(declared):
    # terraform 1.11's -json NAME is an error even when nothing is recorded
    code, out, err = _run("output", "-json", "x")
    assert (code, out) == (1, "")
    assert 'Error: Output "x" not found' in err

"""path.module, path.root and path.cwd as terraform 1.11 gives them: module paths relative to the
root ("modules/m", "../shared"), the root as ".", and the directory the command started in -
so values built from them don't change when the configuration is checked out elsewhere."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from state.backends.local import LocalBackend

FIXTURE = Path(__file__).parents[1] / "fixtures" / "module_paths"


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_WORKSPACE", raising=False)
    shutil.copytree(FIXTURE, tmp_path / "one")
    monkeypatch.chdir(tmp_path / "one" / "cfg")
    return tmp_path / "one"


def test_module_paths_are_relative_to_the_root(checkout):
    code, out, err = _run("apply", "-auto-approve", "-no-color")
    assert code == 0, out + err
    code, out, err = _run("output", "-json", "paths")
    assert code == 0, err
    here = str(checkout / "cfg")
    assert json.loads(out) == {
        "root": [".", ".", here],
        "m": ["modules/m", ".", here],
        "sub": ["modules/m/sub", ".", here],
        "shared": ["../shared", ".", here],
    }
    state = LocalBackend(checkout / "cfg" / "vaultform.tfstate").read()
    [script] = [r for r in state.resources if r.module == "module.m"]
    assert script.instances[0].attributes["input"] == "modules/m/scripts/run.sh"


def test_another_checkout_of_an_applied_configuration_has_nothing_to_change(checkout, tmp_path, monkeypatch):
    assert _run("apply", "-auto-approve", "-no-color")[0] == 0
    shutil.copytree(checkout, tmp_path / "two")
    # path.cwd is the one value that names the checkout: leave it out of the comparison
    main_tf = tmp_path / "two" / "cfg" / "main.tf"
    main_tf.write_text(main_tf.read_text().replace("path.root, path.cwd]", "path.root]"))
    monkeypatch.chdir(tmp_path / "two" / "cfg")
    code, out, err = _run("plan", "-no-color", "-detailed-exitcode")
    assert code == 2 and "Changes to Outputs" in out, out + err  # the edited output
    assert "# module.m.terraform_data.script" not in out and "Plan:" not in out, out


def test_path_cwd_is_where_the_command_started_before_chdir(checkout, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _run("-chdir=one/cfg", "apply", "-auto-approve", "-no-color")
    assert code == 0, out + err
    code, out, err = _run("-chdir=one/cfg", "output", "-json", "paths")
    assert code == 0, err
    paths = json.loads(out)
    assert paths["root"] == [".", ".", str(tmp_path)]
    assert paths["sub"] == ["modules/m/sub", ".", str(tmp_path)]

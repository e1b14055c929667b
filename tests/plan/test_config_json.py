"""The JSON plan's ``configuration``, case by case, against what terraform 1.11 prints.

Each directory of tests/fixtures/config_json/ is a configuration of terraform_data objects and
local modules, and ``expected.json``: ``terraform show -json PLANFILE``'s ``configuration`` for it,
where terraform shows a secret in the clear (a sensitive variable's default, a sensitive output's
constant) vaultform's null in its place. When terraform is on PATH its output is compared too, so
the expectations stay terraform's.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from reconciler.config import ast
from reconciler.config.loader import parse_text
from reconciler.config.modules import load_module_tree
from reconciler.config.references import references
from reconciler.plan.config_json import configuration_json, reference_texts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "config_json"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.json").is_file())
TERRAFORM = shutil.which("terraform")
VARS = {"modules": ["-var", "req=r"], "expressions": ["-var", "s=x"]}
# where terraform prints a secret, vaultform prints null: (case, path to it)
SECRETS = {
    "modules": [("root_module", "variables", "secret", "default")],
    "expressions": [("root_module", "outputs", "o4", "expression", "constant_value")],
}


def expected(case: str) -> dict:
    return json.loads((FIXTURES / case / "expected.json").read_text())


@pytest.mark.parametrize("case", CASES)
def test_configuration_is_terraforms(case):
    tree, diags = load_module_tree(FIXTURES / case, cache=False)
    assert not [d for d in diags if d.is_error]
    assert configuration_json(tree) == expected(case)


def _refs(text: str) -> list[str]:
    expr = _expr(text)
    return [t for r in references(expr) for t in reference_texts(r)]


def _expr(text: str) -> ast.Expr:
    file, diags = parse_text(f"x = {text}\n", "t.tf")
    assert file is not None and not diags
    return file.body.attributes[0].expr


@pytest.mark.parametrize(
    ("text", "refs"),
    [
        ("var.obj.a", ["var.obj.a", "var.obj"]),
        ('var.obj["b"][0]', ['var.obj["b"][0]', 'var.obj["b"]', "var.obj"]),
        ("terraform_data.r", ["terraform_data.r"]),
        (
            "terraform_data.c[0].output",
            ["terraform_data.c[0].output", "terraform_data.c[0]", "terraform_data.c"],
        ),
        ("data.t.n.x", ["data.t.n.x", "data.t.n"]),
        ("module.one.out.k", ["module.one.out.k", "module.one.out", "module.one"]),
        ("module.cnt[0].out", ["module.cnt[0].out", "module.cnt[0]"]),
        ('module.fe["a"]', ['module.fe["a"]', "module.fe"]),
        ("module.cnt", ["module.cnt"]),
        ("terraform_data.c[count.index].id", ["terraform_data.c", "count.index"]),
        ("[for k, m in module.many : m.out]", ["module.many"]),
    ],
)
def test_references_are_listed_as_terraform_lists_them(text, refs):
    assert _refs(text) == refs


def _vaultform(cwd: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        code = main(list(args), output=Output(out=out, err=out, no_color=True))
    finally:
        os.chdir(previous)
    return code, out.getvalue()


def test_a_saved_plan_shows_the_configuration_it_was_made_from(tmp_path, monkeypatch):
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "az.db"))
    work = tmp_path / "work"
    shutil.copytree(FIXTURES / "inherited_providers", work)
    code, out = _vaultform(work, "plan", "-out=p.plan")
    assert code == 0, out
    (work / "main.tf").write_text("")  # the plan keeps what it was made from
    code, out = _vaultform(work, "show", "-json", "p.plan")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["configuration"] == expected("inherited_providers")
    calls = doc["configuration"]["root_module"]["module_calls"]
    assert calls["many"]["source"] == "./modules/child"
    (r,) = calls["one"]["module"]["resources"]
    assert r["provider_config_key"] == "module.one:terraform"
    assert r["expressions"] == {"input": {"references": ["var.name"]}}


@pytest.mark.skipif(TERRAFORM is None, reason="install terraform to compare with it")
@pytest.mark.parametrize("case", CASES)
def test_expectations_are_what_terraform_prints(case, tmp_path):
    work = tmp_path / case
    shutil.copytree(FIXTURES / case, work)
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}

    def terraform(*args: str) -> str:
        assert TERRAFORM is not None
        done = subprocess.run(
            [TERRAFORM, *args], cwd=work, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    terraform("init", "-input=false")
    terraform("plan", "-input=false", "-out=p.plan", *VARS.get(case, []))
    theirs = json.loads(terraform("show", "-json", "p.plan"))["configuration"]
    for path in SECRETS.get(case, []):
        node = theirs
        for step in path[:-1]:
            node = node[step]
        assert node[path[-1]] is not None  # terraform shows it
        node[path[-1]] = None
    assert theirs == expected(case)

"""A sensitive value is never shown, wherever it flows.

The canary configuration (tests/fixtures/sensitive/canary) passes a secret through
variables, locals, functions, resource attributes (terraform_data input -> output),
for_each values, a module and outputs. Every command's output is searched for the
secret and for the encodings a configuration derives from it, and so is the TRACE log.
The exceptions are
Terraform's own: ``output NAME``, ``output -raw NAME`` and ``output -json`` print the
value of a sensitive output in clear (``terraform output -json`` does), and the state
file stores values as they are, listing the sensitive paths. The plan file holds the
secret only sealed.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from state.format import decode_state, to_document

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sensitive"
CANARY = "CANARY-b7e1d05"
# what the configuration derives from it (upper, base64, JSON) is just as secret
FORMS = (CANARY, CANARY.upper(), base64.b64encode(CANARY.encode()).decode(), "b7e1d05", "B7E1D05")


def run(directory: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main([f"-chdir={directory}", *argv], output=Output(out=out, err=out))
    return code, out.getvalue()


def leaks(text: str) -> list[str]:
    return [f for f in FORMS if f in text]


@pytest.fixture
def canary(tmp_path) -> Path:
    shutil.copytree(FIXTURES / "canary", tmp_path / "canary")
    return tmp_path / "canary"


def test_the_canary_appears_in_no_output_of_any_command(canary, monkeypatch):
    log = canary.parent / "trace.log"
    monkeypatch.setenv("VAULTFORM_LOG", "TRACE")
    monkeypatch.setenv("VAULTFORM_LOG_PATH", str(log))
    plan_file = canary / "saved.plan"
    before_apply = [
        ("validate",),
        ("validate", "-json"),
        ("plan",),
        ("plan", "-json"),
        ("plan", "-markdown", str(canary / "plan.md")),
        ("plan", "-out", str(plan_file)),
        ("show", str(plan_file)),
        ("show", "-json", str(plan_file)),
        ("graph",),
        ("graph", "-format", "dot"),
    ]
    for argv in before_apply:
        code, text = run(canary, *argv)
        assert code == 0, (argv, text)
        assert leaks(text) == [], argv
    assert leaks((canary / "plan.md").read_text()) == []
    assert leaks(plan_file.read_bytes().decode("latin-1")) == []  # sealed, never in clear

    code, text = run(canary, "apply", "-auto-approve")
    assert code == 0, text
    assert leaks(text) == []

    addresses = run(canary, "state", "list")[1].split()
    assert 'terraform_data.each["prod"]' in addresses and "module.wrap.terraform_data.inner" in addresses
    after_apply = [
        ("plan",),
        ("plan", "-json"),
        ("plan", "-refresh=false"),
        ("show",),
        ("show", "-json"),
        ("output",),
        ("output", "label"),
        ("state", "list"),
        ("drift",),
        ("drift", "-json"),
        ("graph",),
        *[("state", "show", a) for a in addresses],
    ]
    for argv in after_apply:
        code, text = run(canary, *argv)
        assert code in (0, 2), (argv, text)
        assert leaks(text) == [], argv

    # Terraform's exceptions: the value of a sensitive output, asked for by name or as JSON
    assert run(canary, "output", "-raw", "from_module")[1] == "module-again-" + CANARY
    assert CANARY in run(canary, "output", "from_module")[1]
    values = json.loads(run(canary, "output", "-json")[1])
    assert values["from_module"] == {"sensitive": True, "type": "string", "value": "module-again-" + CANARY}
    assert values["label"]["sensitive"] is False and values["revealed"]["value"] == "REVEALED"

    # the state stores values as Terraform does, with the paths that are sensitive
    state = to_document(decode_state((canary / "vaultform.tfstate").read_text()))
    paths = {
        (r["module"], r["name"]): sorted(map(tuple, i["sensitive_paths"]))
        for r in state["resources"]
        for i in r["instances"]
    }
    assert paths[("", "direct")] == [("input",), ("output",)]
    assert ("input", "doc", "token") in paths[("", "derived")]
    assert ("output", "encoded") in paths[("", "derived")]
    assert ("input", "label") not in paths[("", "derived")]
    assert paths[("module.wrap", "inner")] == [("input",), ("output",)]
    assert state["outputs"]["from_module"]["sensitive"] is True

    # a refresh-only plan (no resource_changes, as terraform's) flags the objects' sensitive paths
    # in the values it records and in the prior ones
    refresh_plan = canary / "refresh.plan"
    assert run(canary, "plan", "-refresh-only", "-out", str(refresh_plan))[0] in (0, 2)
    code, text = run(canary, "show", "-json", str(refresh_plan))
    assert code == 0 and leaks(text) == []
    shown = json.loads(text)
    assert "resource_changes" not in shown
    for values in (shown["planned_values"], shown["prior_state"]["values"]):
        (direct,) = [r for r in values["root_module"]["resources"] if r["address"] == "terraform_data.direct"]
        assert direct["sensitive_values"] == {"input": True, "output": True}

    # destroying shows the prior objects with what state recorded as sensitive
    for argv in (("plan", "-destroy"), ("plan", "-destroy", "-json"), ("destroy", "-auto-approve")):
        code, text = run(canary, *argv)
        assert code in (0, 2), (argv, text)
        assert leaks(text) == [], argv

    # nor in the log, at its most verbose
    assert log.stat().st_size > 0 and leaks(log.read_text()) == []


def test_the_saved_plan_applies_without_showing_the_canary(canary):
    plan_file = canary / "saved.plan"
    assert run(canary, "plan", "-out", str(plan_file))[0] == 0
    code, text = run(canary, "apply", str(plan_file))
    assert code == 0, text
    assert leaks(text) == []


def test_a_sensitive_for_each_is_refused_as_terraform_refuses_it(tmp_path):
    shutil.copytree(FIXTURES / "for_each_key", tmp_path / "c")
    for argv in (("validate",), ("plan",)):
        code, text = run(tmp_path / "c", *argv)
        assert code == 1, argv
        assert "Invalid for_each argument" in text
        assert "Sensitive values, or values derived from sensitive values, cannot be used as for_each" in text
        assert leaks(text) == []


def test_an_output_carrying_a_secret_must_be_declared_sensitive(tmp_path):
    shutil.copytree(FIXTURES / "undeclared_output", tmp_path / "c")
    for argv in (("plan",), ("plan", "-json"), ("apply", "-auto-approve")):
        code, text = run(tmp_path / "c", *argv)
        assert code == 1, argv
        assert "Output refers to sensitive values" in text and "sensitive = true" in text
        assert leaks(text) == [], argv


def test_errors_about_a_secret_do_not_quote_it(tmp_path):
    shutil.copytree(FIXTURES / "bad_use", tmp_path / "c")
    assert run(tmp_path / "c", "validate")[0] == 0  # variables are unknown to validate, as in Terraform
    for argv in (("plan",), ("plan", "-json")):
        code, text = run(tmp_path / "c", *argv)
        assert code == 1, (argv, text)
        assert leaks(text) == [], argv
    code, text = run(tmp_path / "c", "plan")
    assert "(sensitive value)" in text


def test_a_failing_condition_does_not_print_its_secret_message(tmp_path):
    shutil.copytree(FIXTURES / "failing_condition", tmp_path / "c")
    code, text = run(tmp_path / "c", "apply", "-auto-approve")
    assert code == 1 and "Resource postcondition failed" in text
    assert "refers to sensitive values" in text
    assert leaks(text) == []


def test_a_data_source_read_with_a_secret_keeps_it_sensitive_in_state(tmp_path):
    shutil.copytree(FIXTURES / "data_source", tmp_path / "c")
    directory = tmp_path / "c"
    for _ in range(2):  # read at apply (its resource group is new), then while planning
        code, text = run(directory, "apply", "-auto-approve")
        assert code == 0, text
        state = to_document(decode_state((directory / "vaultform.tfstate").read_text()))
        (data,) = [r for r in state["resources"] if r["mode"] == "data"]
        assert data["instances"][0]["sensitive_paths"] == [["name"]]
        code, text = run(directory, "state", "show", "data.azurerm_resource_group.read")
        assert code == 0 and "name     = (sensitive value)" in text


def test_a_schema_check_of_a_secret_does_not_quote_it(tmp_path):
    shutil.copytree(FIXTURES / "bad_value", tmp_path / "c")
    for argv in (("plan",), ("plan", "-json")):
        code, text = run(tmp_path / "c", *argv)
        assert code == 1, (argv, text)
        assert "is not an allowed value" in text and leaks(text) == [], argv

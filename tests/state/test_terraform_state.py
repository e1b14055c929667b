"""Terraform's own state (version 4) is read as vaultform's: the interop with the terraform binary."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from state.errors import StateError
from state.format import decode_state, encode_state
from state.model import InstanceStatus

TERRAFORM_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "state" / "terraform"
VAULTFORM = [sys.executable, "-c", "import sys; from reconciler.cli.main import main; sys.exit(main())"]


def _vaultform(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VAULTFORM, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def _terraform(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not on PATH: install terraform 1.11 to run the interop tests")
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": "/dev/null",
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
    }
    return subprocess.run([terraform, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_a_state_written_by_terraform_reads_as_the_same_objects():
    text = (TERRAFORM_FIXTURES / "applied" / "terraform.tfstate").read_text()
    state = decode_state(text, source="terraform.tfstate")
    assert state.lineage == "a5a985fd-8b3f-f055-f136-660492e5559a"
    assert state.serial == 7
    addresses = sorted(str(address) for address, _, _ in state.instances())
    assert addresses == [
        "module.m.terraform_data.x",
        "terraform_data.a",
        "terraform_data.c[0]",
        "terraform_data.c[1]",
        'terraform_data.e["k1"]',
        'terraform_data.e["k2"]',
    ]
    by_address = {str(a): (res, inst) for a, res, inst in state.instances()}
    res, inst = by_address["terraform_data.c[1]"]
    assert res.provider == "terraform"
    # terraform_data's dynamic values are unwrapped from Terraform's {"value", "type"}
    assert inst.attributes["input"] == {"n": 2, "x": "one"}
    assert inst.attributes["output"] == {"n": 2, "x": "one"}
    assert [str(d) for d in inst.dependencies] == ["terraform_data.a"]
    assert inst.status is InstanceStatus.READY
    assert state.outputs["s"].sensitive and state.outputs["s"].value == "secret"
    assert state.outputs["o"].value == {"n": 2, "x": "one"}


def test_terraform_sensitive_paths_become_vaultform_paths():
    state = decode_state((TERRAFORM_FIXTURES / "sensitive_input.tfstate").read_text())
    [(_, _, inst)] = list(state.instances())
    assert inst.sensitive_paths == (("input",),)
    assert inst.attributes["input"] == {"a": "x"}


def _applied_with(edit) -> str:
    doc = json.loads((TERRAFORM_FIXTURES / "applied" / "terraform.tfstate").read_text())
    edit(doc)
    return json.dumps(doc)


def _set(path: tuple, value):
    def edit(doc):
        *parents, last = path
        for step in parents:
            doc = doc[step]
        doc[last] = value

    return edit


INSTANCE = ("resources", 0, "instances", 0)


# what terraform 1.11 refuses (checked with the binary: `The state file field "resources" has
# invalid value object`): an empty object, string, 0 or false is not an empty list
@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (("resources",), {}, "resources: expected a list, found an object"),
        (("resources",), "", "resources: expected a list, found a string"),
        (("resources",), 0, "resources: expected a list, found a whole number"),
        (("resources",), False, "resources: expected a list, found true or false"),
        (("resources", 0, "instances"), {}, "resources[0].instances: expected a list, found an object"),
        ((*INSTANCE, "sensitive_attributes"), {}, "sensitive_attributes: expected a list, found an object"),
        ((*INSTANCE, "sensitive_attributes"), False, "sensitive_attributes: expected a list, found true"),
        ((*INSTANCE, "private"), {}, "instances[0].private: expected a string (base64), found an object"),
        ((*INSTANCE, "private"), 0, "instances[0].private: expected a string (base64), found a whole number"),
        ((*INSTANCE, "private"), "!!!", "instances[0].private: not base64"),
        (("terraform_version",), 0, "terraform_version: expected a string, found a whole number"),
        (("outputs",), [], "outputs: expected an object, found a list"),
        ((*INSTANCE, "attributes"), "", "attributes: expected an object, found a string"),
    ],
)
def test_a_field_of_the_wrong_type_is_refused_even_when_empty(path, value, problem):
    with pytest.raises(StateError) as caught:
        decode_state(_applied_with(_set(path, value)), source="terraform.tfstate")
    assert caught.value.summary.startswith("terraform.tfstate: ")
    assert problem in caught.value.summary


@pytest.mark.parametrize(
    "path",
    [("resources",), ("resources", 0, "instances"), ("outputs",), (*INSTANCE, "sensitive_attributes")],
)
def test_null_is_empty_as_terraform_reads_it(path):
    state = decode_state(_applied_with(_set(path, None)), source="terraform.tfstate")
    assert state.lineage == "a5a985fd-8b3f-f055-f136-660492e5559a"


def test_vaultform_plans_no_changes_over_a_state_terraform_wrote(tmp_path):
    work = tmp_path / "work"
    shutil.copytree(TERRAFORM_FIXTURES / "applied", work)
    before = (work / "terraform.tfstate").read_bytes()
    result = _vaultform(["plan", "-state=terraform.tfstate", "-no-color"], work)
    assert result.returncode == 0, result.stderr
    assert "No changes." in result.stdout
    assert (work / "terraform.tfstate").read_bytes() == before


def test_vaultform_plans_no_changes_after_terraform_applies(tmp_path):
    work = tmp_path / "work"
    shutil.copytree(TERRAFORM_FIXTURES / "applied", work, ignore=shutil.ignore_patterns("*.tfstate"))
    assert _terraform(["init", "-input=false", "-no-color"], work).returncode == 0
    applied = _terraform(["apply", "-auto-approve", "-input=false", "-no-color"], work)
    assert applied.returncode == 0, applied.stderr
    shutil.copy(work / "terraform.tfstate", work / "vaultform.tfstate")
    result = _vaultform(["plan", "-no-color"], work)
    assert result.returncode == 0, result.stderr
    assert "No changes." in result.stdout


def test_terraform_plans_no_changes_over_a_state_vaultform_wrote(tmp_path):
    work = tmp_path / "work"
    shutil.copytree(TERRAFORM_FIXTURES / "applied", work, ignore=shutil.ignore_patterns("*.tfstate"))
    applied = _vaultform(["apply", "-auto-approve", "-no-color"], work)
    assert applied.returncode == 0, applied.stderr
    shutil.copy(work / "vaultform.tfstate", work / "terraform.tfstate")
    (work / "vaultform.tfstate").unlink()
    assert _terraform(["init", "-input=false", "-no-color"], work).returncode == 0
    planned = _terraform(["plan", "-detailed-exitcode", "-input=false", "-no-color"], work)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "No changes." in planned.stdout
    shown = _terraform(["show", "-json"], work)
    assert shown.returncode == 0, shown.stderr
    values = json.loads(shown.stdout)["values"]
    assert values["outputs"]["s"] == {"sensitive": True, "value": "secret", "type": "string"}
    addresses = {r["address"] for r in values["root_module"]["resources"]}
    assert addresses == {
        "terraform_data.a",
        "terraform_data.c[0]",
        "terraform_data.c[1]",
        'terraform_data.e["k1"]',
        'terraform_data.e["k2"]',
    }


def _typed_outputs_state(output_type) -> str:
    return json.dumps(
        {
            "version": 4,
            "terraform_version": "1.11.0",
            "serial": 1,
            "lineage": "5f6c7a2e-1b9d-4c3e-8a7f-0d2e4b6c8a1f",
            "outputs": {"ids": {"value": ["b", "a"], "type": output_type}},
            "resources": [],
            "check_results": None,
        }
    )


def test_an_output_keeps_the_list_set_or_map_type_terraform_recorded():
    state = decode_state(_typed_outputs_state(["set", "string"]), source="terraform.tfstate")
    assert state.outputs["ids"].type == ["set", "string"]
    # the type the value alone gives is not repeated
    plain = decode_state(_typed_outputs_state(["tuple", ["string", "string"]]), source="terraform.tfstate")
    assert plain.outputs["ids"].type is None


def test_an_output_type_that_is_no_type_is_named_with_its_place():
    with pytest.raises(StateError) as caught:
        decode_state(_typed_outputs_state(["list"]), source="terraform.tfstate")
    assert "outputs.ids.type" in str(caught.value) and "is not a type" in str(caught.value)


def test_json_numbers_are_plain_decimal_as_terraform_writes_them():
    from state.format import go_json

    assert go_json(1e-07) == "0.0000001"
    assert go_json({"n": [1e-07, 2.5e21], "id": "7f3c1a52-0e5d"}) == (
        '{"n":[0.0000001,2500000000000000000000],"id":"7f3c1a52-0e5d"}'
    )
    assert go_json({"n": [1e-07]}, indent=True) == '{\n  "n": [\n    0.0000001\n  ]\n}'


def test_a_providers_kept_facts_travel_in_the_instances_private(tmp_path):
    # a vault's earlier keys (which Azure doesn't remember) live in the instance's opaque private
    # bytes, never among terraform's attributes, and come back as they went
    import base64

    from state.backends.local import LocalBackend
    from state.model import InstanceState, State

    facts = {
        "_previous_keys": [
            {"key_id": "https://kv.vault.azure.net/keys/a", "points_until": "2026-01-01T00:00:00Z"}
        ]
    }
    state = State.new(lineage="l").with_instance(
        "azurerm_recovery_services_vault.v",
        InstanceState(attributes={"id": "/v"}, private=facts),
        provider="registry.terraform.io/hashicorp/azurerm",
    )
    LocalBackend(tmp_path / "s.tfstate").write(state)
    written = json.loads((tmp_path / "s.tfstate").read_text())["resources"][0]["instances"][0]
    assert written["attributes"] == {"id": "/v"}
    assert json.loads(base64.b64decode(written["private"]))["vaultform"]["private"] == facts
    assert (
        LocalBackend(tmp_path / "s.tfstate").read().instance("azurerm_recovery_services_vault.v").private
        == facts
    )


def _dynamic_attributes(state: dict) -> dict[str, dict]:
    """terraform_data's value attributes, wrappers and all, by instance, and the outputs."""
    found: dict[str, dict] = {"outputs": state["outputs"]}
    for r in state["resources"]:
        for inst in r["instances"]:
            key = json.dumps(inst["index_key"]) if "index_key" in inst else ""
            names = ("input", "output", "triggers_replace")
            found[r["name"] + key] = {n: inst["attributes"][n] for n in names}
    return found


def test_terraform_data_records_lists_sets_and_maps_as_terraform_does(tmp_path):
    fixture = TERRAFORM_FIXTURES / "dynamic_types"
    ours, theirs = tmp_path / "vf", tmp_path / "tf"
    shutil.copytree(fixture, ours)
    shutil.copytree(fixture, theirs)
    assert _terraform(["init", "-input=false", "-no-color"], theirs).returncode == 0
    for step in (["-target=terraform_data.set"], []):  # for_each over the set's output: known once it is
        done = _terraform(["apply", "-auto-approve", "-input=false", "-no-color", *step], theirs)
        assert done.returncode == 0, done.stdout + done.stderr
        done = _vaultform(["apply", "-auto-approve", "-no-color", *step], ours)
        assert done.returncode == 0, done.stdout + done.stderr
    written = json.loads((ours / "vaultform.tfstate").read_text())
    assert _dynamic_attributes(written) == _dynamic_attributes(
        json.loads((theirs / "terraform.tfstate").read_text())
    )
    assert written["outputs"]["m"]["type"] == ["map", "string"]
    # read back, the types change no plan of vaultform's, and terraform plans nothing over the state
    planned = _vaultform(["plan", "-detailed-exitcode", "-no-color"], ours)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    (theirs / "terraform.tfstate").write_text(json.dumps(written))
    planned = _terraform(["plan", "-detailed-exitcode", "-input=false", "-no-color"], theirs)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "No changes." in planned.stdout


def test_a_dynamic_attributes_recorded_type_is_read_and_written_back():
    typed = {"value": ["a", "b"], "type": ["set", "string"]}
    doc = {
        "version": 4,
        "terraform_version": "1.11.0",
        "serial": 1,
        "lineage": "5f6c7a2e-1b9d-4c3e-8a7f-0d2e4b6c8a1f",
        "outputs": {},
        "resources": [
            {
                "mode": "managed",
                "type": "terraform_data",
                "name": "s",
                "provider": 'provider["terraform.io/builtin/terraform"]',
                "instances": [
                    {
                        "schema_version": 0,
                        "attributes": {"id": "x", "input": typed, "output": typed, "triggers_replace": None},
                        "sensitive_attributes": [],
                    }
                ],
            }
        ],
        "check_results": None,
    }
    state = decode_state(json.dumps(doc), source="terraform.tfstate")
    inst = state.instance("terraform_data.s")
    assert inst is not None
    assert inst.attributes["input"] == ["a", "b"]
    assert inst.types == {"input": ["set", "string"], "output": ["set", "string"]}
    again = json.loads(encode_state(state))["resources"][0]["instances"][0]["attributes"]
    assert again["input"] == typed and again["output"] == typed

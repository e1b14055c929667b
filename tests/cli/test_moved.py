"""moved blocks rename objects in state instead of destroying and creating them."""

from __future__ import annotations

import io
import json

from reconciler.cli.main import main
from reconciler.cli.output import Output


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), output=Output(out=out, err=out))
    return code, out.getvalue()


def state_names(path) -> list[str]:
    return sorted(r["name"] for r in json.loads((path / "vaultform.tfstate").read_text())["resources"])


def test_moved_resource_keeps_its_objects(tmp_path):
    (tmp_path / "main.tf").write_text(
        'resource "terraform_data" "a" {\n  count = 2\n  input = "x${count.index}"\n}\n'
    )
    assert run("apply", "-auto-approve", str(tmp_path))[0] == 0
    ids_before = json.loads((tmp_path / "vaultform.tfstate").read_text())["resources"][0]["instances"]

    (tmp_path / "main.tf").write_text(
        'resource "terraform_data" "b" {\n  count = 2\n  input = "x${count.index}"\n}\n'
        "moved {\n  from = terraform_data.a\n  to   = terraform_data.b\n}\n"
    )
    code, text = run("plan", "-detailed-exitcode", str(tmp_path))
    assert code == 2, text  # a rename is a change to apply
    assert "terraform_data.a has moved to terraform_data.b" in text
    assert "to add" not in text or "0 to add" in text

    assert run("apply", "-auto-approve", str(tmp_path))[0] == 0
    assert state_names(tmp_path) == ["b"]
    ids_after = json.loads((tmp_path / "vaultform.tfstate").read_text())["resources"][0]["instances"]
    assert [i["attributes"]["id"] for i in ids_after] == [i["attributes"]["id"] for i in ids_before]
    assert run("plan", "-detailed-exitcode", str(tmp_path))[0] == 0


def test_moved_onto_an_existing_object_is_ignored_with_a_warning(tmp_path):
    (tmp_path / "main.tf").write_text(
        'resource "terraform_data" "a" {\n  input = 1\n}\nresource "terraform_data" "b" {\n  input = 2\n}\n'
    )
    assert run("apply", "-auto-approve", str(tmp_path))[0] == 0
    (tmp_path / "main.tf").write_text(
        'resource "terraform_data" "b" {\n  input = 2\n}\n'
        "moved {\n  from = terraform_data.a\n  to   = terraform_data.b\n}\n"
    )
    code, text = run("plan", str(tmp_path))
    assert code == 0
    assert "already exists" in text
    assert "terraform_data.a will be destroyed" in text


def test_a_move_to_the_same_address_is_refused_by_plan_once_per_module_instance(tmp_path):
    # terraform 1.11: validate lets it pass; plan says "Redundant move statement" for each
    # instance of the module that declares it, pointing at the moved keyword
    redundant = 'resource "terraform_data" "a" {}\n\nmoved {\n  from = terraform_data.a\n  to   = terraform_data.a\n}\n'
    (tmp_path / "main.tf").write_text(
        redundant
        + 'module "m" {\n  source = "./m"\n  count  = 2\n}\nmodule "none" {\n  source = "./m"\n  count  = 0\n}\n'
    )
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "main.tf").write_text(redundant)
    assert run("validate", "-no-color", str(tmp_path))[0] == 0
    code, text = run("plan", "-no-color", str(tmp_path))
    assert code == 1, text
    assert text.count("Error: Redundant move statement") == 3, text
    for address in ("terraform_data.a", "module.m[0].terraform_data.a", "module.m[1].terraform_data.a"):
        assert (
            f"declares a move from {address} to the same address, which is the same as not declaring" in text
        )
    assert "module.none" not in text
    assert "main.tf line 3:" in text and "m/main.tf line 3, in module.m[1]:" in text  # the moved keyword
    assert run("apply", "-auto-approve", "-no-color", str(tmp_path))[0] == 1


def test_a_move_from_an_address_still_declared_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the files shown as terraform shows them, from the working directory
    # terraform 1.11: "Moved object still exists" at plan (validate lets it pass); moving the object
    # and planning a new one at the old address would duplicate it
    (tmp_path / "main.tf").write_text('resource "terraform_data" "b" {\n  input = "b"\n}\n')
    assert run("apply", "-auto-approve")[0] == 0
    (tmp_path / "main.tf").write_text(
        'resource "terraform_data" "b" {\n  input = "b"\n}\nresource "terraform_data" "c" {\n  input = "b"\n}\n'
        "moved {\n  from = terraform_data.b\n  to   = terraform_data.c\n}\n"
    )
    assert run("validate")[0] == 0
    code, text = run("plan", "-no-color")
    assert code == 1, text
    assert "Error: Moved object still exists" in text
    assert "main.tf line 7:" in text  # the moved block
    assert (
        "This statement declares a move from terraform_data.b, but that resource is still declared at main.tf:1,1."
        "\n\n  Change your configuration so that this resource will be declared as terraform_data.c instead."
    ) in text
    assert run("apply", "-auto-approve")[0] == 1
    assert state_names(tmp_path) == ["b"]


def test_a_chain_through_an_address_still_declared_is_refused_at_its_link(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the files shown as terraform shows them, from the working directory
    (tmp_path / "main.tf").write_text(
        'resource "terraform_data" "c" {}\nresource "terraform_data" "b" {}\n'
        "moved {\n  from = terraform_data.a\n  to   = terraform_data.b\n}\n"
        "moved {\n  from = terraform_data.b\n  to   = terraform_data.c\n}\n"
    )
    code, text = run("plan", "-no-color")
    assert code == 1, text
    assert text.count("Error: Moved object still exists") == 1, text
    assert "main.tf line 7:" in text and "is still declared at main.tf:2,1." in text


def test_a_move_from_an_instance_still_declared_blames_its_count(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the files shown as terraform shows them, from the working directory
    (tmp_path / "main.tf").write_text(
        'resource "terraform_data" "c" {\n  count = 2\n}\n'
        "moved {\n  from = terraform_data.c[1]\n  to   = terraform_data.c[2]\n}\n"
        "moved {\n  from = terraform_data.c[5]\n  to   = terraform_data.c[6]\n}\n"
    )
    code, text = run("plan", "-no-color")
    assert code == 1, text
    assert text.count("Error: Moved object still exists") == 1, text  # c[5] is not declared
    assert (
        "move from terraform_data.c[1], but that resource instance is still declared at main.tf:2,11." in text
    )
    assert "so that this instance will be declared as terraform_data.c[2] instead." in text


def test_a_move_from_a_module_call_or_instance_still_declared_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the files shown as terraform shows them, from the working directory
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "main.tf").write_text('resource "terraform_data" "p" {}\n')
    (tmp_path / "main.tf").write_text(
        'module "m" {\n  source   = "./m"\n  for_each = toset(["a"])\n}\n'
        'module "n" {\n  source = "./m"\n}\n'
        'moved {\n  from = module.m["a"]\n  to   = module.z\n}\n'
        "moved {\n  from = module.n\n  to   = module.w\n}\n"
    )
    code, text = run("plan", "-no-color")
    assert code == 1, text
    assert 'move from module.m["a"], but that module instance is still declared at main.tf:3,14.' in text
    assert "so that this instance will be declared as module.z instead." in text
    assert "move from module.n, but that module call is still declared at main.tf:5,1." in text
    assert "so that this call will be declared as module.w instead." in text


def test_two_moves_from_one_address_or_to_one_address_are_ambiguous(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.tf").write_text(
        'resource "terraform_data" "b" {}\n'
        "moved {\n  from = terraform_data.q\n  to   = terraform_data.b\n}\n"
        "moved {\n  from = terraform_data.q\n  to   = terraform_data.r\n}\n"
        "moved {\n  from = terraform_data.s\n  to   = terraform_data.b\n}\n"
    )
    assert run("validate")[0] == 0  # as terraform 1.11's validate, only plan checks moves
    code, text = run("plan", "-no-color")
    assert code == 1, text
    assert text.count("Error: Ambiguous move statements") == 2, text
    assert (
        "A statement at main.tf:2,1 declared that terraform_data.q moved to terraform_data.b, but this "
        "statement instead declares that it moved to terraform_data.r.\n\n"
        "  Each resource can move to only one destination resource."
    ) in text
    assert (
        "A statement at main.tf:2,1 declared that terraform_data.q moved to terraform_data.b, but this "
        "statement instead declares that terraform_data.s moved there.\n\n"
        "  Each resource can have moved from only one source resource."
    ) in text
    assert "main.tf line 6:" in text and "main.tf line 10:" in text


def test_moves_chained_into_a_cycle_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "main.tf").write_text(
        'moved {\n  from = terraform_data.p[0]\n  to   = terraform_data.q["k"]\n}\n'
        'moved {\n  from = terraform_data.q["k"]\n  to   = terraform_data.p[0]\n}\n'
    )
    (tmp_path / "main.tf").write_text(
        'module "m" {\n  source = "./m"\n  count  = 2\n}\nresource "terraform_data" "y" {}\n'
        "moved {\n  from = terraform_data.b\n  to   = terraform_data.z\n}\n"
        "moved {\n  from = terraform_data.z\n  to   = terraform_data.b\n}\n"
    )
    assert run("validate")[0] == 0
    code, text = run("plan", "-no-color")
    assert code == 1, text
    assert text.count("Error: Cyclic dependency in move statements") == 2, text
    assert (
        (
            "\n    - main.tf:10,1: terraform_data.z[*] \u2192 terraform_data.b[*]"
            "\n    - main.tf:6,1: terraform_data.b[*] \u2192 terraform_data.z[*]\n"  # sorted as text, as terraform's
        )
        in text
    )
    assert (
        '\n    - m/main.tf:1,1: module.m[*].terraform_data.p[0] \u2192 module.m[*].terraform_data.q["k"]'
        '\n    - m/main.tf:5,1: module.m[*].terraform_data.q["k"] \u2192 module.m[*].terraform_data.p[0]\n'
    ) in text


def test_a_move_to_another_resource_type_is_refused_and_moves_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.tf").write_text('resource "terraform_data" "b" {\n  count = 2\n}\n')
    assert run("apply", "-auto-approve")[0] == 0
    (tmp_path / "main.tf").write_text(
        'resource "random_string" "b" {\n  count  = 2\n  length = 3\n}\n'
        "moved {\n  from = terraform_data.b\n  to   = random_string.b\n}\n"
    )
    code, text = run("plan", "-no-color")
    assert code == 1, text
    # terraform 1.11: the provider of the new type must convert the object; none of vaultform's can
    assert text.count("Error: Move Resource State Not Supported") == 2, text
    assert (
        'The "random_string" resource type does not support moving resource state across resource types.'
        in text
    )
    assert "Refreshing random_string.b" not in text and "UnknownResourceType" not in text
    assert run("apply", "-auto-approve")[0] == 1
    assert state_names(tmp_path) == ["b"]
    types = {r["type"] for r in json.loads((tmp_path / "vaultform.tfstate").read_text())["resources"]}
    assert types == {"terraform_data"}

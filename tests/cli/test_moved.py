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

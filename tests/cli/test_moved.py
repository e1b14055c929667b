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

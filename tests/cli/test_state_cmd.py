"""`vaultform state ...`, `show`, `force-unlock` on fixture states (no cloud needed)."""

from __future__ import annotations

import io
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler.cli.cmd_state_edit import move, parse_target, remove
from reconciler.cli.main import main
from reconciler.cli.output import Output
from state.format import decode_state, encode_state
from state.lock import LockInfo, acquire, lock_path_for

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cli_state"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def state_file(tmp_path) -> Path:
    path = tmp_path / "vaultform.tfstate"
    shutil.copy(FIXTURES / "basic" / "vaultform.tfstate", path)
    return path


def stored(path: Path):
    return decode_state(path.read_bytes())


# --------------------------------------------------------------------------- reading


def test_list_shows_every_instance(state_file):
    code, out, _ = run("state", "list", "-state", str(state_file))
    assert code == 0
    assert out == (FIXTURES / "basic" / "list.txt").read_text()


@pytest.mark.parametrize(
    "filters, expected",
    [
        (
            ["azurerm_user_assigned_identity.id"],
            ["azurerm_user_assigned_identity.id[0]", "azurerm_user_assigned_identity.id[1]"],
        ),
        (["azurerm_user_assigned_identity.id[1]"], ["azurerm_user_assigned_identity.id[1]"]),
        (["module.vault"], ['module.vault.azurerm_resource_group.inner["a"]']),
        (
            ["terraform_data.secret", "module.vault"],
            ["terraform_data.secret", 'module.vault.azurerm_resource_group.inner["a"]'],
        ),
    ],
)
def test_list_filters_by_address(state_file, filters, expected):
    code, out, _ = run("state", "list", "-state", str(state_file), *filters)
    assert code == 0
    assert out.splitlines() == expected


def test_list_of_an_address_state_lacks_is_an_error(state_file):
    code, out, err = run(
        "state", "list", "-state", str(state_file), "terraform_data.secret", "azurerm_key_vault.none"
    )
    assert (code, out) == (1, "")
    assert "Unknown resource" in err and "no resource azurerm_key_vault.none" in err


def test_list_by_id(state_file):
    code, out, _ = run("state", "list", "-state", str(state_file), "-id", "d-1")
    assert (code, out) == (0, "terraform_data.secret\n")


def test_show_state_as_terraform_prints_it_with_secrets_hidden(state_file):
    code, out, _ = run("show", "-state", str(state_file))
    assert code == 0
    assert out == (FIXTURES / "basic" / "show.txt").read_text()
    assert "hunter2" not in out


def test_show_json_is_terraforms_state_representation(state_file):
    code, out, _ = run("show", "-json", "-state", str(state_file))
    assert code == 0
    assert "hunter2" not in out
    doc = json.loads(out)
    assert doc["format_version"] == "1.0"
    root = doc["values"]["root_module"]
    by_address = {r["address"]: r for r in root["resources"]}
    ident = by_address["azurerm_user_assigned_identity.id[1]"]
    assert ident["index"] == 1 and ident["mode"] == "managed" and ident["name"] == "id"
    assert ident["provider_name"].endswith("hashicorp/azurerm")
    assert ident["values"]["principal_id"] == "p-1"
    secret = by_address["terraform_data.secret"]
    assert secret["values"]["input"] is None and secret["sensitive_values"] == {"input": True, "output": True}
    assert by_address["data.azurerm_client_config.current"]["mode"] == "data"
    child = root["child_modules"][0]
    assert child["address"] == "module.vault"
    assert child["resources"][0]["index"] == "a"
    outputs = doc["values"]["outputs"]
    assert outputs["password"] == {"sensitive": True, "value": None, "type": "string"}
    assert outputs["ids"]["value"] == ["id0", "id1"]


def test_show_json_lists_dependencies_as_terraform_records_them():
    # vaultform remembers the exact instances (its own facts in the file); terraform 1.11's
    # show -json, like the state file, names the resources without instance keys
    path = FIXTURES / "module_dependencies" / "vaultform.tfstate"
    code, out, _ = run("show", "-json", "-state", str(path))
    assert code == 0
    root = json.loads(out)["values"]["root_module"]
    assert root["resources"][0]["depends_on"] == ["module.m.terraform_data.r", "module.m.terraform_data.s"]
    for child in root["child_modules"]:
        (s,) = [r for r in child["resources"] if r["name"] == "s"]
        assert s["depends_on"] == ["module.m.terraform_data.r"]


def test_state_show_one_instance(state_file):
    code, out, _ = run("state", "show", "-state", str(state_file), "terraform_data.secret")
    assert code == 0
    assert out.startswith('# terraform_data.secret:\nresource "terraform_data" "secret" {\n')
    assert "input  = (sensitive value)" in out and "hunter2" not in out


def test_state_show_needs_one_instance(state_file):
    code, out, err = run("state", "show", "-state", str(state_file), "azurerm_user_assigned_identity.id")
    assert code == 1 and not out
    assert "Error: No instance found for the given address!" in err
    assert (
        "azurerm_user_assigned_identity.id has the instances azurerm_user_assigned_identity.id[0], "
        "azurerm_user_assigned_identity.id[1]."
    ) in err


def test_state_show_without_the_key_of_a_single_counted_instance_shows_none(state_file):
    # terraform 1.11: "No instance found for the given address!", exit 1 - not the [0] instance
    doc = json.loads(state_file.read_text())
    (identity,) = [r for r in doc["resources"] if r["type"] == "azurerm_user_assigned_identity"]
    identity["instances"] = [i for i in identity["instances"] if i["index_key"] == 0]
    state_file.write_text(json.dumps(doc))
    address = "azurerm_user_assigned_identity.id"
    code, out, err = run("state", "show", "-state", str(state_file), address)
    assert code == 1 and not out
    assert "Error: No instance found for the given address!" in err
    assert "This command requires that the address references one specific instance." in err
    assert f"{address} has the instances {address}[0]." in err
    code, out, _ = run("state", "show", "-state", str(state_file), f"{address}[0]")
    assert code == 0 and out.startswith(f"# {address}[0]:")


def test_state_show_unknown_address(state_file):
    code, _, err = run("state", "show", "-state", str(state_file), "azurerm_key_vault.kv")
    assert code == 1 and "No instance found for the given address!" in err
    assert "has the instances" not in err


def test_invalid_address_is_a_diagnostic(state_file):
    code, _, err = run("state", "show", "-state", str(state_file), "azurerm_key_vault")
    assert code == 1
    assert "Invalid address" in err and "Traceback" not in err


def test_pull_prints_the_stored_state(state_file):
    code, out, _ = run("state", "pull", "-state", str(state_file))
    assert code == 0
    assert decode_state(out) == stored(state_file)


def test_missing_state(tmp_path):
    missing = str(tmp_path / "none.tfstate")
    code, out, err = run("state", "list", "-state", missing)  # as terraform: no state is an error
    assert (code, out) == (1, "") and "No state file was found" in err
    code, out, _ = run("show", "-state", missing)
    assert code == 0 and "No state" in out
    code, _, err = run("state", "rm", "-state", missing, "terraform_data.x")
    assert code == 1 and "No state at" in err


# --------------------------------------------------------------------------- rm


def test_rm_forgets_even_a_protected_object(state_file):
    before = stored(state_file)
    assert before.resource("terraform_data.secret").prevent_destroy
    code, out, _ = run("state", "rm", "-state", str(state_file), "terraform_data.secret", "module.vault")
    assert code == 0
    assert "Removed terraform_data.secret" in out and "Successfully removed 2 resource instance(s)" in out
    after = stored(state_file)
    assert after.instance("terraform_data.secret") is None
    assert after.addresses() == [
        a
        for a in before.addresses()
        if a not in ("terraform_data.secret", 'module.vault.azurerm_resource_group.inner["a"]')
    ]
    assert after.serial == before.serial + 1 and after.lineage == before.lineage
    assert Path(str(state_file) + ".backup").exists()


def test_rm_dry_run_changes_nothing(state_file):
    text = state_file.read_text()
    code, out, _ = run(
        "state", "rm", "-dry-run", "-state", str(state_file), "azurerm_user_assigned_identity.id"
    )
    assert code == 0 and out.count("Would remove") == 2
    assert state_file.read_text() == text


def test_rm_of_nothing_changes_nothing(state_file):
    text = state_file.read_text()
    code, out, err = run("state", "rm", "-state", str(state_file), "terraform_data.nope", "terraform_data.zz")
    assert code == 1 and not out
    assert "Error: Invalid target address [state_no_match]" in err and "No matching objects found" in err
    assert state_file.read_text() == text
    assert not Path(str(state_file) + ".backup").exists()


def test_rm_removes_what_matches_and_passes_over_the_rest(state_file):
    """As terraform 1.11: an address that matches nothing is no error while another one matched."""
    before = stored(state_file)
    code, out, _ = run(
        "state", "rm", "-state", str(state_file), "terraform_data.secret", "terraform_data.nope"
    )
    assert code == 0
    assert out.startswith("Removed terraform_data.secret\nSuccessfully removed 1 resource instance(s).")
    assert stored(state_file).addresses() == [a for a in before.addresses() if a != "terraform_data.secret"]


# --------------------------------------------------------------------------- mv


def test_mv_renames_a_resource_and_follows_dependencies(state_file):
    code, out, _ = run(
        "state",
        "mv",
        "-state",
        str(state_file),
        "azurerm_user_assigned_identity.id",
        "azurerm_user_assigned_identity.ident",
    )
    assert code == 0
    assert 'Move "azurerm_user_assigned_identity.id" to "azurerm_user_assigned_identity.ident"' in out
    after = stored(state_file)
    assert after.resource("azurerm_user_assigned_identity.id") is None
    assert after.instance("azurerm_user_assigned_identity.ident[1]").attributes["name"] == "id1"
    assert tuple(str(d) for d in after.instance("terraform_data.secret").dependencies) == (
        "azurerm_resource_group.rg",
        "azurerm_user_assigned_identity.ident[0]",
    )


def test_mv_instance_into_a_module_and_keeps_lifecycle(state_file):
    code, _, _ = run(
        "state",
        "mv",
        "-state",
        str(state_file),
        "terraform_data.secret",
        "module.vault.terraform_data.secret",
    )
    assert code == 0
    after = stored(state_file)
    res = after.resource("module.vault.terraform_data.secret")
    assert res is not None and res.prevent_destroy and res.provider == "terraform"
    assert res.instances[0].sensitive_paths == (("input",), ("output",))


def test_mv_module(state_file):
    code, out, _ = run("state", "mv", "-state", str(state_file), "module.vault", "module.keys")
    assert code == 0, out
    after = stored(state_file)
    assert after.instance('module.keys.azurerm_resource_group.inner["a"]') is not None
    assert not [a for a in after.addresses() if a.startswith("module.vault")]


@pytest.mark.parametrize(
    "src, dst, message",
    [
        ("azurerm_resource_group.rg", "terraform_data.rg", "the types differ"),
        ("azurerm_user_assigned_identity.id[0]", "azurerm_user_assigned_identity.id[1]", "already exists"),
        ("azurerm_resource_group.rg", "module.vault.azurerm_resource_group.inner", "already exists"),
        ("azurerm_resource_group.nope", "azurerm_resource_group.other", "No object in state matches"),
        ("module.vault", "azurerm_resource_group.x", "Move a module to a module address"),
        (
            "azurerm_user_assigned_identity.id",
            "azurerm_user_assigned_identity.one[0]",
            "move them one by one",
        ),
    ],
)
def test_mv_refusals_leave_the_state_alone(state_file, src, dst, message):
    text = state_file.read_text()
    code, _, err = run("state", "mv", "-state", str(state_file), src, dst)
    assert code == 1
    assert message in err
    assert state_file.read_text() == text


def test_move_instance_to_a_new_key_is_pure():
    state = decode_state((FIXTURES / "basic" / "vaultform.tfstate").read_bytes())
    new, pairs = move(state, "azurerm_user_assigned_identity.id[1]", 'azurerm_user_assigned_identity.id["b"]')
    assert pairs == [("azurerm_user_assigned_identity.id[1]", 'azurerm_user_assigned_identity.id["b"]')]
    assert state.instance("azurerm_user_assigned_identity.id[1]") is not None  # the input is untouched
    assert new.instance('azurerm_user_assigned_identity.id["b"]').attributes["principal_id"] == "p-1"


def test_remove_passes_over_an_unknown_target_and_names_each_instance_once():
    state = decode_state((FIXTURES / "basic" / "vaultform.tfstate").read_bytes())
    assert remove(state, [parse_target("azurerm_key_vault.kv")]) == (state, [])
    new, removed = remove(
        state,
        [
            parse_target(t)
            for t in ("azurerm_user_assigned_identity.id", "azurerm_user_assigned_identity.id[0]")
        ],
    )
    assert removed == ["azurerm_user_assigned_identity.id[0]", "azurerm_user_assigned_identity.id[1]"]
    assert new.addresses() == [a for a in state.addresses() if a not in removed]


# --------------------------------------------------------------------------- push


def _variant(state_file: Path, tmp_path: Path, **changes) -> Path:
    state = stored(state_file)
    if "lineage" in changes:
        from dataclasses import replace

        state = replace(state, lineage=changes["lineage"])
    if "serial" in changes:
        state = state.with_serial(changes["serial"])
    state = state.without_output("rg_name")
    path = tmp_path / "pushed.tfstate"
    path.write_text(encode_state(state))
    return path


def test_push_replaces_the_state(state_file, tmp_path):
    pushed = _variant(state_file, tmp_path, serial=5)
    code, out, _ = run("state", "push", "-state", str(state_file), str(pushed))
    assert code == 0, out
    after = stored(state_file)
    assert "rg_name" not in after.outputs and after.serial == 5


def test_push_of_the_same_state_at_the_same_serial_is_accepted(state_file, tmp_path):
    """As terraform 1.11: the same objects written otherwise (here without indentation) are no conflict."""
    pushed = tmp_path / "pushed.tfstate"
    pushed.write_text(json.dumps(json.loads(state_file.read_text())))
    code, out, err = run("state", "push", "-state", str(state_file), str(pushed))
    assert code == 0, err
    assert stored(state_file).same_content(decode_state(pushed.read_bytes()))


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"lineage": "0a0a0a0a-0000-4000-8000-000000000000"}, "another lineage"),
        ({"serial": 2}, "older state"),
        (  # terraform 1.11's words
            {"serial": 4},
            "cannot overwrite existing state with serial 4 with a different state that has the same serial",
        ),
    ],
)
def test_push_refuses_unless_forced(state_file, tmp_path, changes, message):
    pushed = _variant(state_file, tmp_path, **changes)
    text = state_file.read_text()
    code, _, err = run("state", "push", "-state", str(state_file), str(pushed))
    assert code == 1 and message in err and "-force" in err
    assert state_file.read_text() == text
    code, _, _ = run("state", "push", "-force", "-state", str(state_file), str(pushed))
    assert code == 0
    assert "rg_name" not in stored(state_file).outputs


def test_push_of_a_broken_file_is_a_diagnostic(state_file, tmp_path):
    bad = tmp_path / "bad.tfstate"
    bad.write_text("{not json")
    code, _, err = run("state", "push", "-state", str(state_file), str(bad))
    assert code == 1 and "not valid JSON" in err and "Traceback" not in err


# --------------------------------------------------------------------------- locks


def test_writes_wait_for_the_lock(state_file):
    text = state_file.read_text()
    with acquire(str(state_file), "apply"):
        code, _, err = run("state", "rm", "-state", str(state_file), "terraform_data.secret")
    assert code == 1 and "locked" in err
    assert state_file.read_text() == text


def _stale_lock(state_file: Path) -> LockInfo:
    info = LockInfo(
        id="2c1f0d2e-5b7a-4d3c-9e8f-0123456789ab",
        who="someone@host",
        operation="apply",
        created=datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
        pid=2**22 + 12345,
        host="ci-runner-7",  # another host: vaultform cannot tell whether that run still goes on
        version="0.1.0",
        path=str(state_file),
    )
    Path(lock_path_for(str(state_file))).write_text(info.to_json())
    return info


def test_force_unlock_removes_a_lock_left_behind(state_file):
    info = _stale_lock(state_file)
    code, _, err = run("state", "rm", "-state", str(state_file), "terraform_data.secret")
    assert code == 1 and f"vaultform force-unlock -state={state_file} {info.id}" in err
    code, _, err = run("force-unlock", "-state", str(state_file), "wrong-id", "-force")
    assert code == 1 and "does not match" in err
    code, _, err = run("force-unlock", "-state", str(state_file), info.id, "-input=false")
    assert code == 1 and "-force" in err
    code, out, _ = run("force-unlock", "-state", str(state_file), info.id, "-force")
    assert code == 0 and "unlocked" in out
    assert not os.path.exists(lock_path_for(str(state_file)))
    assert run("state", "rm", "-state", str(state_file), "terraform_data.secret")[0] == 0


def test_force_unlock_never_takes_a_live_lock(state_file):
    with acquire(str(state_file), "apply") as lock:
        code, _, err = run("force-unlock", "-state", str(state_file), lock.id, "-force")
        assert code == 1 and "still running" in err
        assert os.path.exists(lock_path_for(str(state_file)))

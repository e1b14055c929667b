"""`vaultform cloud` subcommands, run through vaultform's own command line."""

from __future__ import annotations

import io
import json
import sqlite3

import pytest

from providers.azurelocal import cli
from providers.azurelocal.store import Kind
from reconciler.cli.main import main
from reconciler.cli.output import Output
from tests.azurelocal.kvhelpers import make_cmk_vault


@pytest.fixture
def cmk(env, keyvault_mgmt, resource_client, rs_client, key_client):
    return make_cmk_vault(env, keyvault_mgmt, resource_client, rs_client, key_client)


@pytest.fixture
def run(env):
    def invoke(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(["cloud", *argv, "-db", str(env.store.path)], output=Output(out=out, err=err))
        return code, out.getvalue(), err.getvalue()

    return invoke


def test_durations():
    assert cli.parse_duration("50ms") == pytest.approx(0.05)
    assert cli.parse_duration("1h") == 3600 and cli.parse_duration("90") == 90


def test_show_backup_disable_enable_restore(env, cmk, run):
    code, out, _ = run("show", "inventory")
    assert code == 0 and "kv-backup" in out and "rsv" in out and "vm-app-01" in out
    code, out, _ = run("backup", "rsv", "-vm", "vm-app-01")
    assert code == 0 and "Completed" in out
    code, out, _ = run("show", "recovery-points", "-json")
    points = json.loads(out)
    assert code == 0 and points[0]["key_version_id"] == cmk.key.id
    code, out, _ = run("disable-key", cmk.key.id)
    assert code == 0 and "disabled" in out
    code, out, _ = run("backup", "rsv", "-vm", "vm-app-01")
    assert code == 1 and "UserErrorCMKKeyNotEnabled" in out
    code, out, _ = run("show", "keys")
    assert "DISABLED" in out
    assert run("enable-key", cmk.key.id)[0] == 0
    code, out, _ = run("restore", points[0]["name"])
    assert code == 0 and "restored disk:" in out
    code, out, _ = run("show", "jobs")
    assert "Failed" in out and "Restore" in out
    code, out, _ = run("show", "activity")
    assert "KeyUpdate (out of band)" in out


def test_out_of_band_grant_removal_and_identity_disable_fail_backups(env, cmk, run):
    assert run("backup", "rsv", "-vm", "vm-app-01")[0] == 0
    code, out, _ = run("remove-access-policy", "kv-backup", cmk.principal)
    assert code == 0 and cmk.principal in out
    code, out, _ = run("backup", "rsv", "-vm", "vm-app-01")
    assert code == 1 and "UserErrorCMKMissingMangedIdentityPermissionOnKeyVault" in out
    code, out, _ = run("disable-identity", "rsv")
    assert code == 0 and "system-assigned" in out
    vault = env.store.get(Kind.RS_VAULT, cmk.vault_id)
    assert vault["identity"]["type"] == "None" and env.principal(cmk.principal)["enabled"] is False


def test_configure_advance_network_rules_and_touch(env, cmk, run):
    code, out, _ = run(
        "configure", "-latency", "5ms", "-grant-delay", "10s", "-rotation-delay", "2h", "-json"
    )
    data = json.loads(out)
    assert code == 0 and data["latency_ms"] == 5 and data["grant_propagation_seconds"] == 10
    assert data["rotation_delay_seconds"] == 7200
    assert run("configure", "-reset")[0] == 0 and env.faults.latency_ms == 0
    before = env.clock.now()
    code, out, _ = run("advance", "1h")
    assert code == 0 and (env.clock.now() - before).total_seconds() >= 3600
    code, out, _ = run("set-network-rules", "kv-backup", "-default-action", "Deny", "-bypass", "None")
    assert code == 0 and "Deny" in out
    code, out, _ = run("backup", "rsv", "-vm", "vm-app-01")
    assert code == 1 and "UserErrorCMKKeyVaultAuthFailure" in out and "firewall" in out
    code, out, _ = run("touch", "vm-app-01")
    assert code == 0 and "generation 1" in out


def test_create_des_and_restore_with_it(env, cmk, run):
    assert run("backup", "rsv", "-vm", "vm-app-01")[0] == 0
    code, out, _ = run("create-des", "des-1", "-key-id", cmk.key.id, "-json")
    assert code == 0 and json.loads(out)["identity"]["principalId"]
    rp = env.store.list(Kind.RECOVERY_POINT)[0]
    code, out, _ = run("restore", rp["id"], "-des", "des-1")
    assert code == 1 and "UserErrorCMKMissingMangedIdentityPermissionOnKeyVault" in out


def test_user_errors_are_messages_not_tracebacks(env, run):
    code, out, err = run("backup", "nosuch", "-vm", "vm-app-01")
    assert code == 1 and err.startswith("Error: no Recovery Services vault named 'nosuch'")
    code, _, err = run("disable-key", "https://kv.vault.azure.net/keys/none/" + "0" * 32)
    assert code == 1 and "no key version" in err
    code, _, err = run("configure", "-latency", "soon")
    assert code == 1 and "not a duration" in err
    code, _, err = run("configure", "-throttle-rate", "2")
    assert code == 1 and "between 0 and 1" in err
    assert "Traceback" not in err


def test_reset_asks_unless_forced(env, run, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    code, _, err = run("reset")
    assert code == 1 and "cancelled" in err and env.store.path.exists()
    env.store.close()
    code, out, _ = run("reset", "-force")
    assert code == 0 and not env.store.path.exists()


@pytest.mark.parametrize("kind", ["state file", "directory", "another database"])
def test_reset_deletes_nothing_but_a_local_azure(tmp_path, kind):
    """A path named by mistake (the state file, a project directory, another application's
    database) is refused by reset, even with -force, and left as it was."""
    path = tmp_path / "target"
    if kind == "directory":
        (path / "src").mkdir(parents=True)
        (path / "src" / "code.py").write_text("important\n")
    elif kind == "another database":
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE invoices (n INTEGER)")
        con.commit()
        con.close()
    else:
        path.write_text('{"version": 4, "serial": 3, "lineage": "x", "resources": []}\n')
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    for argv in (["reset", "-force"], ["show", "keys"]):
        out, err = io.StringIO(), io.StringIO()
        code = main(["cloud", *argv, "-db", str(path)], output=Output(out=out, err=err))
        assert code == 1 and str(path) in err.getvalue() and "Traceback" not in err.getvalue()
        assert "nothing was" in err.getvalue()
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    if kind == "another database":
        assert [r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")] == ["invoices"]


def test_removed_role_assignment_fails_backup_on_an_rbac_key_vault(
    env, run, keyvault_mgmt, resource_client, rs_client, auth_client, key_client
):
    from tests.azurelocal.kvhelpers import make_key_vault, rs_vault_body

    kv = make_key_vault(env, keyvault_mgmt, resource_client, "kv-rbac", group="rg-backup", rbac=True)
    roles = f"{kv['id']}/providers/Microsoft.Authorization/roleDefinitions/"
    officer, service_user = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603", "e147488a-f6f5-4113-8e2d-b22465e65bf6"
    auth_client.role_assignments.create(
        kv["id"],
        "0b6f4c1e-0000-4000-8000-000000000001",
        {
            "role_definition_id": roles + officer,
            "principal_id": env.deployer_object_id,
            "principal_type": "User",
        },
    )
    key = key_client("kv-rbac").create_rsa_key("cmk", size=2048)
    vault = rs_client.vaults.begin_create_or_update("rg-backup", "rsv-rbac", rs_vault_body(env)).result()
    grant_name = "0b6f4c1e-0000-4000-8000-000000000002"
    auth_client.role_assignments.create(
        kv["id"],
        grant_name,
        {
            "role_definition_id": roles + service_user,
            "principal_id": vault.identity.principal_id,
            "principal_type": "ServicePrincipal",
        },
    )
    enc = {"keyVaultProperties": {"keyUri": key.id}, "kekIdentity": {"useSystemAssignedIdentity": True}}
    rs_client.vaults.begin_create_or_update(
        "rg-backup", "rsv-rbac", rs_vault_body(env, encryption=enc)
    ).result()
    assert run("backup", "rsv-rbac", "-vm", "vm-app-02")[0] == 0
    code, out, _ = run("remove-role-assignment", grant_name)
    assert code == 0 and grant_name in out
    code, out, _ = run("backup", "rsv-rbac", "-vm", "vm-app-02")
    assert (
        code == 1
        and "UserErrorCMKMissingMangedIdentityPermissionOnKeyVault" in out
        and "ForbiddenByRbac" in out
    )


def test_cloud_commands_take_no_color_as_every_command_does(env, cmk, run):
    code, out, err = run("show", "-no-color", "inventory")
    assert code == 0 and "kv-backup" in out, err


def test_a_refusal_quoting_a_sentence_ends_it_once(env, cmk, run):
    from providers.azurelocal.rules import Refusal

    err = Refusal.CMK_KEY_VAULT_AUTH.error(
        principal="p", permission="get", key="k", reason="does not have keys get permission. Add a policy."
    )
    assert "Add a policy. Grant it Get" in err.message and ".." not in err.message

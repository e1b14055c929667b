"""The drift report's JSON schema (format_version, keys, types), its markdown summary table,
unmanaged objects in scope, and `apply -refresh-only` accepting drift into state."""

from __future__ import annotations

import json
from datetime import UTC

REPORT_KEYS = {
    "format_version": str,
    "generated_at": str,
    "cloud": str,
    "summary": dict,
    "drift": list,
    "unmanaged": list,
    "unreadable": list,
}
SUMMARY_KEYS = {
    "drifted": bool,
    "objects_checked": int,
    "objects_drifted": int,
    "critical": int,
    "warning": int,
    "info": int,
    "unmanaged": int,
    "unreadable": int,
    "exit_code": int,
}
RECORD_KEYS = {
    "address": str,
    "type": str,
    "attribute": str,
    "change": str,
    "severity": str,
    "why": str,
    "baseline": str,
    "plan_action": str,
    "fix": dict,
}
CHANGES = {"deleted", "added", "removed", "enabled", "disabled", "narrowed", "broadened", "changed"}


def _typed(doc: dict, keys: dict) -> None:
    for key, type_ in keys.items():
        assert key in doc, f"missing {key}"
        assert isinstance(doc[key], type_), f"{key} is {type(doc[key]).__name__}, not {type_.__name__}"


def test_json_schema(world):
    world.ok("cloud disable-key {key_id}")
    world.ok("cloud remove-access-policy kv-drift-sys {principal}")
    code, report = world.drift("system-identity")
    assert code == 2
    _typed(report, REPORT_KEYS)
    assert report["format_version"] == "1.0"
    _typed(report["summary"], SUMMARY_KEYS)
    assert report["summary"]["critical"] == 2 and report["summary"]["objects_drifted"] == 2
    assert len(report["drift"]) == 2
    for record in report["drift"]:
        _typed(record, RECORD_KEYS)
        assert {"recorded", "actual", "desired"} <= set(record)
        assert record["change"] in CHANGES
        assert record["severity"] in {"critical", "warning", "info"}
        assert record["baseline"] in {"recorded", "desired"}
        assert record["fix"]["kind"] in {"plan", "out-of-band", "accept"} and record["fix"]["detail"]
    assert "public_key_pem" not in json.dumps(report)


def test_markdown_summary_table(world, tmp_path):
    world.ok("cloud disable-key {key_id}")
    md = tmp_path / "drift.md"
    code, _, _ = world.run(f"drift {{dir}} -markdown {md}")
    assert code == 2
    text = md.read_text()
    lines = text.splitlines()
    header = lines.index("| Severity | Findings |")
    assert lines[header + 1] == "|---|---:|"
    assert any(line.endswith("critical | 1 |") for line in lines[header : header + 7])
    assert any(line.endswith("warning | 0 |") for line in lines[header : header + 7])
    assert "| Severity | Object | Attribute | Change | Recorded | Actual | Desired | Fix |" in text
    assert "`azurerm_key_vault_key.cmk`" in text and "`enabled`" in text


def test_no_drift_markdown_and_exit_zero(world, tmp_path):
    md = tmp_path / "drift.md"
    code, out, _ = world.run(f"drift {{dir}} -markdown {md}", "user-identity")
    assert code == 0
    assert out.strip().endswith("match state and configuration.")
    assert "| unmanaged objects | 0 |" in md.read_text()


def test_unmanaged_objects_in_scope(with_stray):
    code, report = with_stray.drift("system-identity")
    assert code == 2
    assert report["drift"] == []
    found = {(u["type"], u["name"]) for u in report["unmanaged"]}
    assert ("azurerm_recovery_services_vault", "rsv-drift-stray") in found
    assert report["summary"]["unmanaged"] == len(report["unmanaged"])


def test_unmanaged_grant_in_key_vault(world):
    # a grant added in the portal for someone vaultform doesn't know
    from providers.azurelocal.app import Emulator

    env = Emulator(world.db)
    try:
        doc = next(d for d in env.store.list("keyvault") if d["name"] == "kv-drift-sys")
        doc["properties"]["accessPolicies"].append(
            {
                "tenantId": env.tenant_id,
                "objectId": "0000aaaa-1111-2222-3333-444455556666",
                "permissions": {"keys": ["Get", "Decrypt"]},
            }
        )
        env.store.put("keyvault", doc["id"], doc)
    finally:
        env.store.close()
    code, report = world.drift("system-identity")
    assert code == 2
    grants = [u for u in report["unmanaged"] if u["type"] == "azurerm_key_vault_access_policy"]
    assert [g["name"] for g in grants] == ["0000aaaa-1111-2222-3333-444455556666"]
    assert "Decrypt" in grants[0]["detail"]


def test_refresh_only_accepts_drift_into_state(world):
    world.ok("cloud disable-key {key_id}")
    world.ok("apply {dir} -refresh-only -auto-approve")
    assert world.state("system-identity")["azurerm_key_vault_key.cmk"]["enabled"] is False
    code, report = world.drift("system-identity")
    # state now agrees with the cloud, but a disabled key is still not what the configuration needs
    assert code == 2
    [record] = report["drift"]
    assert (record["attribute"], record["baseline"], record["severity"]) == ("enabled", "desired", "critical")
    assert record["recorded"] is False and record["actual"] is False and record["desired"] is True


def test_refresh_only_forgets_what_was_deleted(world):
    world.ok("cloud remove-access-policy kv-drift-sys {principal}")
    world.ok("apply {dir} -refresh-only -auto-approve")
    assert "azurerm_key_vault_access_policy.rsv" not in world.state("system-identity")
    code, report = world.drift("system-identity")
    # no object differs from state any more, but the vault's identity still can't reach its key
    assert code == 2
    [record] = report["drift"]
    assert (record["address"], record["attribute"], record["severity"]) == (
        "azurerm_recovery_services_vault.rsv",
        "encryption[0]",
        "critical",
    )
    assert "no access policy" in record["actual"]


def test_objects_that_cannot_be_read_are_reported(world):
    # the firewall now admits only 10.0.0.0/8 and no trusted services: vaultform can't read the key
    world.ok("cloud set-network-rules kv-drift-sys -default-action Deny -bypass None -ip-rule 10.0.0.0/8")
    code, report = world.drift("system-identity")
    assert code == 2
    assert [u["address"] for u in report["unreadable"] if not u["address"].startswith("(")] == [
        "azurerm_key_vault_key.cmk"
    ]
    assert "ForbiddenByFirewall" in report["unreadable"][0]["message"] + report["unreadable"][0]["code"]
    severities = {r["attribute"]: r["severity"] for r in report["drift"]}
    assert severities["network_acls[0].default_action"] == "critical"


def test_bad_configuration_is_a_diagnostic_with_exit_1(tmp_path, cli):
    (tmp_path / "main.tf").write_text('resource "azurerm_key_vault" "kv" {\n  nmae = "x"\n}\n')
    code, out, err = cli(["drift", str(tmp_path)])
    assert code == 1
    assert "main.tf" in err and "Traceback" not in err


def test_empty_state_has_no_drift(tmp_path, monkeypatch, cli):
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "azure.db"))
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "main.tf").write_text('resource "terraform_data" "x" {\n  input = "a"\n}\n')
    code, out, _ = cli(["drift", str(tmp_path / "cfg")])
    assert code == 0 and "No drift: 0 managed object(s)" in out


def test_expired_key_and_a_stray_key(world):
    from datetime import datetime, timedelta

    keys = world.key_client("kv-drift-sys")
    version = keys.get_key("cmk").properties.version
    keys.update_key_properties("cmk", version, expires_on=datetime.now(UTC) - timedelta(days=1))
    keys.create_rsa_key("someone-elses-key", size=2048)
    code, report = world.drift("system-identity")
    assert code == 2
    [record] = report["drift"]
    assert (record["address"], record["attribute"], record["change"], record["severity"]) == (
        "azurerm_key_vault_key.cmk",
        "expiration_date",
        "added",
        "critical",
    )
    # Azure can't take an expiry off a key, so the plan doesn't pretend to (an unset expiration_date
    # keeps what Azure holds): the fix is to set a later one, or rotate
    assert (record["plan_action"], record["fix"]["kind"]) == ("no-op", "out-of-band")
    assert "set expiration_date in the configuration" in str(record["fix"])
    assert [(u["type"], u["name"]) for u in report["unmanaged"]] == [
        ("azurerm_key_vault_key", "someone-elses-key")
    ]


def test_unmanaged_role_assignment_on_the_key_vault(world):
    import shutil
    from pathlib import Path

    estates = Path(__file__).parent.parent / "fixtures" / "drift" / "estates"
    shutil.copytree(estates / "broader-grant", world.root / "broader-grant")
    world.ok("apply {dir} -auto-approve", "broader-grant")
    code, report = world.drift("user-identity")
    assert code == 2 and report["drift"] == []
    [grant] = report["unmanaged"]
    assert (grant["type"], grant["scope"]) == ("azurerm_role_assignment", "kv-drift-uai")
    assert grant["detail"].startswith("Key Vault Crypto Officer for ")


def test_an_objects_header_shows_the_plans_action_even_when_a_finding_comes_first():
    from providers.drift_protocol import ChangeKind, Severity
    from reconciler.drift.model import DriftRecord, DriftReport, Fix, FixKind
    from reconciler.drift.render import render_text

    vault = "azurerm_recovery_services_vault.rsv"
    finding = DriftRecord(
        vault, "azurerm_recovery_services_vault", "encryption[0]", ChangeKind.REMOVED, "usable", "lost",
        "usable", Severity.CRITICAL, "backups fail", Fix(FixKind.OUT_OF_BAND, "grant it again."),
    )  # fmt: skip
    attribute = DriftRecord(
        vault, "azurerm_recovery_services_vault", "tags.team", ChangeKind.CHANGED, "a", "b", "a",
        Severity.INFO, "a tag", Fix(FixKind.PLAN, "apply."), plan_action="update",
    )  # fmt: skip
    text = render_text(DriftReport(records=[finding, attribute], cloud="local Azure"))
    assert f"{vault} (plan: update)" in text
    alone = render_text(DriftReport(records=[finding], cloud="local Azure"))
    assert f"{vault} (plan: no-op)" in alone


def test_a_long_value_is_cut_but_still_reads_as_an_object_or_a_list():
    from reconciler.drift.render import show_value

    identity = {
        "identity_ids": [],
        "principal_id": "6ee2c78b-7f6d-47af-a646-bbf5c65b24dc",
        "tenant_id": "t" * 40,
    }
    shown = show_value(identity)
    assert len(shown) == 80 and shown.endswith(",...}") and shown.startswith('{"identity_ids"')
    assert show_value(list(range(50))).endswith("...]")
    assert show_value("x" * 100) == '"' + "x" * 76 + "..."

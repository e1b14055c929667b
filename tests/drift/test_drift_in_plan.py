"""plan shows what changed outside vaultform (terraform's note), and a CMK-critical change as a
warning with its fix, even when the configuration has nothing to change."""

from __future__ import annotations

import json

from tests.e2e.harness import EXAMPLES, Workspace


def _quickstart(tmp_path) -> Workspace:
    ws = Workspace(tmp_path, EXAMPLES / "quickstart")
    ws.ok("apply", "-auto-approve")
    return ws


def test_a_key_disabled_out_of_band_is_noted_and_warned_about(tmp_path):
    ws = _quickstart(tmp_path)
    key_id = next(
        i["attributes"]["id"]
        for r in ws.state()["resources"]
        if r["type"] == "azurerm_key_vault_key"
        for i in r["instances"]
    )
    ws.cloud_ok("disable-key", key_id)
    planned = ws.ok("plan")
    out = planned.out
    assert "Note: Objects have changed outside of vaultform" in out
    assert "# azurerm_key_vault_key.backup has changed" in out
    assert "~ enabled = true -> false [critical]" in out
    assert "[critical_drift]" in out and "enable-key" in out
    assert out.index("Objects have changed outside") < out.index("Warnings and advisories")

    streamed = [json.loads(line) for line in ws.ok("plan", "-json").out.splitlines()]
    drift = [m for m in streamed if m["type"] == "resource_drift"]
    assert [m["change"]["resource"]["addr"] for m in drift] == ["azurerm_key_vault_key.backup"]
    assert any(m["type"] == "diagnostic" and m["diagnostic"]["code"] == "critical_drift" for m in streamed)


def test_nothing_changed_outside_means_no_note_and_refresh_only_asks_nothing(tmp_path):
    ws = _quickstart(tmp_path)
    assert "changed outside" not in ws.ok("plan").out
    done = ws.ok("apply", "-refresh-only")  # no terminal, no -auto-approve: still fine, nothing to ask
    assert "still matches the configuration" in done.out


def _vault_grant_removed(ws: Workspace) -> None:
    """The vault identity's access policy taken away in Azure: backups can't unwrap their key."""
    policy = next(
        i["attributes"]
        for r in ws.state()["resources"]
        if r["type"] == "azurerm_key_vault_access_policy" and r["name"] == "vault"
        for i in r["instances"]
    )
    ws.cloud_ok("remove-access-policy", policy["key_vault_id"], policy["object_id"])


def _critical_details(run) -> list[str]:
    streamed = [json.loads(line) for line in run.out.splitlines()]
    return [
        m["diagnostic"]["detail"]
        for m in streamed
        if m["type"] == "diagnostic" and m["diagnostic"]["code"] == "critical_drift"
    ]


def test_a_critical_change_the_plan_undoes_says_so_in_one_sentence(tmp_path):
    ws = _quickstart(tmp_path)
    _vault_grant_removed(ws)
    details = _critical_details(ws.vf("plan", "-json"))
    assert details and all(d.endswith(". This plan undoes it.") for d in details), details
    assert not any("vaultform plan" in d for d in details)  # the reader is looking at the plan


def test_a_critical_change_in_a_refused_plan_is_not_said_to_be_undone(tmp_path):
    ws = _quickstart(tmp_path)
    _vault_grant_removed(ws)
    # R1: dropping the encryption block would take the vault back to platform keys
    main = ws.dir / "main.tf"
    text = main.read_text()
    start = text.index("  encryption {")
    main.write_text(text[:start] + text[text.index("  }\n", start) + 4 :])
    run = ws.vf("plan", "-json")
    assert run.code == 1
    details = _critical_details(run)
    assert details and all(
        d.endswith("This plan would undo it, but it is refused: the errors below say why.") for d in details
    ), details


def test_a_plan_without_refresh_does_not_claim_it_read_the_real_objects(tmp_path):
    ws = _quickstart(tmp_path)
    assert "with the stored state and the real objects" in ws.ok("plan").out
    unread = ws.ok("plan", "-refresh=false").out
    assert "with the stored state (not with the real objects: -refresh=false)" in unread

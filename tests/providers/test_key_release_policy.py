"""azurerm_key_vault_key's release_policy (documented in azurerm's website/docs/r/key_vault_key.html.markdown)
is applied and compared: the key is created exportable with the policy (azurerm's
key_vault_key_resource.go), the local Key Vault keeps and returns it as the data plane does
(KeyBundle.release_policy {contentType, immutable, data}), a re-plan finds no change, and a new
policy replaces the key (ForceNew)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.harness import Workspace

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "key_release"


def test_a_release_policy_is_applied_read_back_and_a_change_would_replace_the_key(tmp_path):
    ws = Workspace(tmp_path, FIXTURE)
    applied = ws.vf("apply", "-auto-approve")
    assert applied.code == 0, applied.explain()
    assert "unreconciled" not in applied.text and "not reconciled" not in applied.text
    state = json.loads((ws.dir / "vaultform.tfstate").read_text())
    key = next(r for r in state["resources"] if r["type"] == "azurerm_key_vault_key")
    policy = key["instances"][0]["attributes"]["release_policy"]
    assert len(policy) == 1 and policy[0]["immutable"] is False
    assert json.loads(policy[0]["json"])["anyOf"][0]["authority"] == "https://sharedeus.eus.attest.azure.net"

    again = ws.vf("plan", "-detailed-exitcode")
    assert again.code == 0, again.explain()

    # the key as Key Vault's data plane shows it: exportable, with the policy (refresh reads it)
    changed = ws.vf("plan", "-var", "authority=https://other.attest.azure.net")
    assert "azurerm_key_vault_key.released must be replaced" in changed.out
    assert "forces replacement" in changed.out
    # and refused: the key vault's purge protection keeps the old key soft-deleted under its name, so
    # creating it again would recover the old key with the old policy
    assert changed.code == 1 and "[key_replaced_under_its_name]" in changed.text, changed.explain()

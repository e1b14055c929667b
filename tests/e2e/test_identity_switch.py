"""Switching a vault's encryption to a new user-assigned identity, then removing the old one
(examples/user-assigned-identity, changed as the R6 refusal tells a user to).

The last step updates the vault to drop the old identity and deletes that identity and its role.
The vault's configuration no longer names the old identity, but its recorded dependencies do: the
update must finish before the deletions start, or Azure would delete an identity the vault still
lists.
"""

from __future__ import annotations

import re

from tests.e2e.harness import EXAMPLES, Workspace

NEW_IDENTITY = """resource "azurerm_user_assigned_identity" "backup2" {
  name                = "id-vfuai-backup-v2"
  location            = azurerm_resource_group.backup.location
  resource_group_name = azurerm_resource_group.backup.name
}

resource "azurerm_role_assignment" "backup2_key_user" {
  scope                = azurerm_key_vault.cmk.id
  role_definition_name = "Key Vault Crypto Service Encryption User"
  principal_id         = azurerm_user_assigned_identity.backup2.principal_id
  principal_type       = "ServicePrincipal"
}

"""


def _both(text: str) -> str:
    text = text.replace(
        'resource "azurerm_role_assignment" "backup_key_user" {',
        NEW_IDENTITY + 'resource "azurerm_role_assignment" "backup_key_user" {',
    )
    text = text.replace(
        "identity_ids = [azurerm_user_assigned_identity.backup.id]",
        "identity_ids = [azurerm_user_assigned_identity.backup.id, azurerm_user_assigned_identity.backup2.id]",
    )
    return text.replace(
        "user_assigned_identity_id         = azurerm_user_assigned_identity.backup.id",
        "user_assigned_identity_id         = azurerm_user_assigned_identity.backup2.id",
    )


def _new_only(text: str) -> str:
    text = text.replace(
        "identity_ids = [azurerm_user_assigned_identity.backup.id, azurerm_user_assigned_identity.backup2.id]",
        "identity_ids = [azurerm_user_assigned_identity.backup2.id]",
    )
    for block in (
        'resource "azurerm_role_assignment" "backup_key_user"',
        'resource "azurerm_user_assigned_identity" "backup"',
    ):
        text = re.sub(re.escape(block) + r" \{.*?\n\}\n", "", text, flags=re.S)
    return text


def test_the_vault_lets_go_of_the_old_identity_before_it_is_deleted(tmp_path):
    ws = Workspace(tmp_path, EXAMPLES / "user-assigned-identity")
    main = ws.dir / "main.tf"
    ws.ok("apply", "-auto-approve")
    main.write_text(_both(main.read_text()))
    ws.ok("apply", "-auto-approve")
    main.write_text(_new_only(main.read_text()))
    # with latency the vault's update (several calls) outlasts the role's deletion (one), so an
    # identity deletion that doesn't wait for the update starts while the update is in flight
    ws.cloud_ok("configure", "-latency", "200ms")
    last = ws.ok("apply", "-auto-approve")
    assert "Resources: 0 added, 1 changed, 2 destroyed." in last.text, last.explain()
    lines = last.out.splitlines()

    def first(prefix: str) -> int:
        return next(i for i, line in enumerate(lines) if line.startswith(prefix))

    updated = first("azurerm_recovery_services_vault.vault: Modifications complete")
    deleting = first("azurerm_user_assigned_identity.backup: Destroying...")
    assert updated < deleting, last.explain()
    assert "No changes" in ws.ok("plan", "-detailed-exitcode").text

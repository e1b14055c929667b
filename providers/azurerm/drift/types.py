"""The azurerm types drift knows something about, by their Terraform names."""

from __future__ import annotations

KV = "azurerm_key_vault"
KEY = "azurerm_key_vault_key"
POLICY = "azurerm_key_vault_access_policy"
ROLE = "azurerm_role_assignment"
RSV = "azurerm_recovery_services_vault"
UAI = "azurerm_user_assigned_identity"
RESOURCE_GROUP = "azurerm_resource_group"
PROTECTED_VM = "azurerm_backup_protected_vm"
BACKUP_POLICY = "azurerm_backup_policy_vm"

"""The azurerm handlers, one per type: the provider dispatches through these tables."""

from __future__ import annotations

from providers.azurerm.resources.backup_policy_vm import BackupPolicyVM
from providers.azurerm.resources.backup_protected_vm import BackupProtectedVM
from providers.azurerm.resources.base import Context, DataSource, Handler
from providers.azurerm.resources.data_sources import ClientConfigData, VirtualMachineData
from providers.azurerm.resources.disk_encryption_set import DiskEncryptionSet
from providers.azurerm.resources.key_vault import KeyVault, KeyVaultData
from providers.azurerm.resources.key_vault_access_policy import KeyVaultAccessPolicy
from providers.azurerm.resources.key_vault_key import KeyVaultKey, KeyVaultKeyData
from providers.azurerm.resources.recovery_services_vault import RecoveryServicesVault
from providers.azurerm.resources.resource_group import ResourceGroup, ResourceGroupData
from providers.azurerm.resources.role_assignment import RoleAssignment
from providers.azurerm.resources.user_assigned_identity import UserAssignedIdentity, UserAssignedIdentityData

HANDLERS: dict[str, Handler] = {
    h.type_name: h
    for h in (
        ResourceGroup(),
        UserAssignedIdentity(),
        KeyVault(),
        KeyVaultAccessPolicy(),
        KeyVaultKey(),
        RoleAssignment(),
        RecoveryServicesVault(),
        BackupPolicyVM(),
        BackupProtectedVM(),
        DiskEncryptionSet(),
    )
}

DATA_SOURCES: dict[str, DataSource] = {
    d.type_name: d
    for d in (
        ClientConfigData(),
        ResourceGroupData(),
        KeyVaultData(),
        KeyVaultKeyData(),
        UserAssignedIdentityData(),
        VirtualMachineData(),
    )
}

__all__ = ["HANDLERS", "DATA_SOURCES", "Context", "Handler", "DataSource"]

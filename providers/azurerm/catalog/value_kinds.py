"""What azurerm's id-like strings mean, so a reference to the wrong one is caught at validate.

A key vault's ``id`` is its ARM id, a key's ``id`` is the key URI the vault encryption needs,
an identity's ``client_id`` is not the ``principal_id`` a grant names: each is a string, so
the type system lets them through, and Azure fails at apply (for CMK, often after the vault
exists). Facts from azurerm's attribute docs (website/docs/r/*.html.markdown).
"""

from __future__ import annotations

from providers.schema import ValueKind, ValueKinds

_KINDS = (
    ValueKind(
        "key_uri",
        "a Key Vault key URI (https://VAULT.vault.azure.net/keys/NAME[/VERSION])",
        "azurerm_key_vault_key.NAME.id (pinned to a version) or .versionless_id (rotates)",
    ),
    ValueKind(
        "key_resource_id",
        "a key's ARM resource id (/subscriptions/.../vaults/VAULT/keys/NAME)",
        "azurerm_key_vault_key.NAME.resource_id",
    ),
    ValueKind(
        "key_vault_id", "a key vault's ARM id (/subscriptions/.../vaults/NAME)", "azurerm_key_vault.NAME.id"
    ),
    ValueKind(
        "key_vault_uri",
        "a key vault's URI (https://NAME.vault.azure.net/)",
        "azurerm_key_vault.NAME.vault_uri",
    ),
    ValueKind("resource_group_id", "a resource group's ARM id", "azurerm_resource_group.NAME.id"),
    ValueKind("resource_group_name", "a resource group's name", "azurerm_resource_group.NAME.name"),
    ValueKind(
        "principal_id",
        "an Entra object (principal) id",
        "azurerm_user_assigned_identity.NAME.principal_id, a vault's identity[0].principal_id, "
        "or data.azurerm_client_config.current.object_id",
    ),
    ValueKind("client_id", "an application (client) id", "azurerm_user_assigned_identity.NAME.client_id"),
    ValueKind("tenant_id", "a tenant id", "data.azurerm_client_config.current.tenant_id"),
    ValueKind(
        "user_assigned_identity_id",
        "a user-assigned identity's ARM id",
        "azurerm_user_assigned_identity.NAME.id",
    ),
    ValueKind(
        "recovery_vault_id", "a Recovery Services vault's ARM id", "azurerm_recovery_services_vault.NAME.id"
    ),
    ValueKind(
        "recovery_vault_name", "a Recovery Services vault's name", "azurerm_recovery_services_vault.NAME.name"
    ),
    ValueKind("backup_policy_id", "a VM backup policy's ARM id", "azurerm_backup_policy_vm.NAME.id"),
    ValueKind("virtual_machine_id", "a virtual machine's ARM id", "data.azurerm_virtual_machine.NAME.id"),
    ValueKind("subscription_id", "a subscription id", "data.azurerm_client_config.current.subscription_id"),
    ValueKind(
        "disk_encryption_set_id", "a disk encryption set's ARM id", "azurerm_disk_encryption_set.NAME.id"
    ),
)

_PRODUCES = {
    ("azurerm_key_vault_key", "id"): "key_uri",
    ("azurerm_key_vault_key", "versionless_id"): "key_uri",
    ("azurerm_key_vault_key", "resource_id"): "key_resource_id",
    ("azurerm_key_vault_key", "resource_versionless_id"): "key_resource_id",
    ("azurerm_key_vault_key", "key_vault_id"): "key_vault_id",
    ("data.azurerm_key_vault_key", "id"): "key_uri",
    ("data.azurerm_key_vault_key", "versionless_id"): "key_uri",
    ("data.azurerm_key_vault_key", "resource_id"): "key_resource_id",
    ("data.azurerm_key_vault_key", "resource_versionless_id"): "key_resource_id",
    ("azurerm_key_vault", "id"): "key_vault_id",
    ("azurerm_key_vault", "vault_uri"): "key_vault_uri",
    ("azurerm_key_vault", "tenant_id"): "tenant_id",
    ("azurerm_key_vault", "resource_group_name"): "resource_group_name",
    ("data.azurerm_key_vault", "id"): "key_vault_id",
    ("data.azurerm_key_vault", "vault_uri"): "key_vault_uri",
    ("data.azurerm_key_vault", "tenant_id"): "tenant_id",
    ("azurerm_key_vault_access_policy", "key_vault_id"): "key_vault_id",
    ("azurerm_resource_group", "id"): "resource_group_id",
    ("azurerm_resource_group", "name"): "resource_group_name",
    ("data.azurerm_resource_group", "id"): "resource_group_id",
    ("data.azurerm_resource_group", "name"): "resource_group_name",
    ("azurerm_user_assigned_identity", "id"): "user_assigned_identity_id",
    ("azurerm_user_assigned_identity", "principal_id"): "principal_id",
    ("azurerm_user_assigned_identity", "client_id"): "client_id",
    ("azurerm_user_assigned_identity", "tenant_id"): "tenant_id",
    ("azurerm_user_assigned_identity", "resource_group_name"): "resource_group_name",
    ("data.azurerm_user_assigned_identity", "id"): "user_assigned_identity_id",
    ("data.azurerm_user_assigned_identity", "principal_id"): "principal_id",
    ("data.azurerm_user_assigned_identity", "client_id"): "client_id",
    ("data.azurerm_user_assigned_identity", "tenant_id"): "tenant_id",
    ("data.azurerm_client_config", "object_id"): "principal_id",
    ("data.azurerm_client_config", "client_id"): "client_id",
    ("data.azurerm_client_config", "tenant_id"): "tenant_id",
    ("data.azurerm_client_config", "subscription_id"): "subscription_id",
    ("azurerm_recovery_services_vault", "id"): "recovery_vault_id",
    ("azurerm_recovery_services_vault", "name"): "recovery_vault_name",
    ("azurerm_recovery_services_vault", "resource_group_name"): "resource_group_name",
    ("azurerm_recovery_services_vault", "identity.principal_id"): "principal_id",
    ("azurerm_recovery_services_vault", "identity.tenant_id"): "tenant_id",
    ("azurerm_backup_policy_vm", "id"): "backup_policy_id",
    ("data.azurerm_virtual_machine", "id"): "virtual_machine_id",
    ("azurerm_disk_encryption_set", "id"): "disk_encryption_set_id",
    ("azurerm_disk_encryption_set", "identity.principal_id"): "principal_id",
}

_ACCEPTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("azurerm_recovery_services_vault", "encryption.key_id"): ("key_uri",),
    ("azurerm_recovery_services_vault", "encryption.user_assigned_identity_id"): (
        "user_assigned_identity_id",
    ),
    ("azurerm_recovery_services_vault", "identity.identity_ids"): ("user_assigned_identity_id",),
    ("azurerm_recovery_services_vault", "resource_group_name"): ("resource_group_name",),
    ("azurerm_disk_encryption_set", "key_vault_key_id"): ("key_uri",),
    ("azurerm_disk_encryption_set", "identity.identity_ids"): ("user_assigned_identity_id",),
    ("azurerm_disk_encryption_set", "resource_group_name"): ("resource_group_name",),
    ("azurerm_key_vault_key", "key_vault_id"): ("key_vault_id",),
    ("azurerm_key_vault_access_policy", "key_vault_id"): ("key_vault_id",),
    ("azurerm_key_vault_access_policy", "object_id"): ("principal_id",),
    ("azurerm_key_vault_access_policy", "tenant_id"): ("tenant_id",),
    ("azurerm_key_vault", "tenant_id"): ("tenant_id",),
    ("azurerm_key_vault", "access_policy.object_id"): ("principal_id",),
    ("azurerm_key_vault", "access_policy.tenant_id"): ("tenant_id",),
    ("azurerm_key_vault", "resource_group_name"): ("resource_group_name",),
    ("azurerm_role_assignment", "principal_id"): ("principal_id",),
    ("azurerm_user_assigned_identity", "resource_group_name"): ("resource_group_name",),
    ("azurerm_backup_policy_vm", "recovery_vault_name"): ("recovery_vault_name",),
    ("azurerm_backup_policy_vm", "resource_group_name"): ("resource_group_name",),
    ("azurerm_backup_protected_vm", "recovery_vault_name"): ("recovery_vault_name",),
    ("azurerm_backup_protected_vm", "resource_group_name"): ("resource_group_name",),
    ("azurerm_backup_protected_vm", "backup_policy_id"): ("backup_policy_id",),
    ("azurerm_backup_protected_vm", "source_vm_id"): ("virtual_machine_id",),
}

VALUE_KINDS = ValueKinds(kinds={k.name: k for k in _KINDS}, produces=_PRODUCES, accepts=_ACCEPTS)

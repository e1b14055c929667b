# A Recovery Services vault that unwraps its data key with a user-assigned identity, granted
# through Azure RBAC with the least-privilege role "Key Vault Crypto Service Encryption User".

provider "azurerm" {
  features {}
}

data "azurerm_client_config" "current" {}

variable "location" {
  type    = string
  default = "westeurope"
}

resource "azurerm_resource_group" "backup" {
  name     = "rg-vfuai-backup"
  location = var.location
}

resource "azurerm_user_assigned_identity" "backup" {
  name                = "id-vfuai-backup"
  location            = azurerm_resource_group.backup.location
  resource_group_name = azurerm_resource_group.backup.name
}

resource "azurerm_key_vault" "cmk" {
  name                       = "kv-vfuai-cmk"
  location                   = azurerm_resource_group.backup.location
  resource_group_name        = azurerm_resource_group.backup.name
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "standard"
  rbac_authorization_enabled = true
  purge_protection_enabled   = true
  soft_delete_retention_days = 7
}

# The deployer creates keys through RBAC too.
resource "azurerm_role_assignment" "deployer_crypto_officer" {
  scope                = azurerm_key_vault.cmk.id
  role_definition_name = "Key Vault Crypto Officer"
  principal_id         = data.azurerm_client_config.current.object_id
}

resource "azurerm_key_vault_key" "backup" {
  name         = "backup-cmk"
  key_vault_id = azurerm_key_vault.cmk.id
  key_type     = "RSA"
  key_size     = 2048
  key_opts     = ["wrapKey", "unwrapKey"]

  depends_on = [azurerm_role_assignment.deployer_crypto_officer]
}

resource "azurerm_role_assignment" "backup_key_user" {
  scope                = azurerm_key_vault.cmk.id
  role_definition_name = "Key Vault Crypto Service Encryption User"
  principal_id         = azurerm_user_assigned_identity.backup.principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_recovery_services_vault" "vault" {
  name                = "rsv-vfuai"
  location            = azurerm_resource_group.backup.location
  resource_group_name = azurerm_resource_group.backup.name
  sku                 = "Standard"

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.backup.id]
  }

  encryption {
    key_id                            = azurerm_key_vault_key.backup.versionless_id
    infrastructure_encryption_enabled = false
    use_system_assigned_identity      = false
    user_assigned_identity_id         = azurerm_user_assigned_identity.backup.id
  }
}

output "rotation" {
  value = "versionless key id: the vault follows new key versions automatically"
}

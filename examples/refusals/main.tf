# A CMK vault set up correctly, plus a plain vault without CMK: the starting point of
# the refusals walkthrough (see README.md). Apply it once; every step then plans one refused change.

provider "azurerm" {
  features {}
}

data "azurerm_client_config" "current" {}

locals {
  tenant_id = var.key_vault_tenant_id != "" ? var.key_vault_tenant_id : data.azurerm_client_config.current.tenant_id
}

resource "azurerm_resource_group" "backup" {
  name     = "rg-vfref-backup"
  location = "westeurope"
}

resource "azurerm_resource_group" "other" {
  name     = "rg-vfref-other"
  location = "westeurope"
}

resource "azurerm_user_assigned_identity" "backup" {
  name                = "id-vfref-backup"
  location            = azurerm_resource_group.backup.location
  resource_group_name = azurerm_resource_group.backup.name
}

resource "azurerm_key_vault" "cmk" {
  name                       = "kv-vfref-cmk"
  location                   = azurerm_resource_group.backup.location
  resource_group_name        = azurerm_resource_group.backup.name
  tenant_id                  = local.tenant_id
  sku_name                   = "standard"
  soft_delete_retention_days = 7
  purge_protection_enabled   = var.purge_protection
}

resource "azurerm_key_vault_access_policy" "deployer" {
  key_vault_id    = azurerm_key_vault.cmk.id
  tenant_id       = data.azurerm_client_config.current.tenant_id
  object_id       = data.azurerm_client_config.current.object_id
  key_permissions = ["Get", "List", "Create", "Delete", "Update", "Recover", "Purge"]
}

resource "azurerm_key_vault_key" "backup" {
  name         = "backup-cmk"
  key_vault_id = azurerm_key_vault.cmk.id
  key_type     = "RSA"
  key_size     = var.key_size
  key_opts     = ["wrapKey", "unwrapKey"]
}

# The CMK vault: both identities on, encryption through the system-assigned one.
resource "azurerm_recovery_services_vault" "cmk" {
  name                = "rsv-vfref-cmk"
  location            = azurerm_resource_group.backup.location
  resource_group_name = var.vault_resource_group
  sku                 = var.vault_sku

  identity {
    type         = var.identity_type
    identity_ids = [azurerm_user_assigned_identity.backup.id]
  }

  dynamic "encryption" {
    for_each = var.encryption ? [1] : []
    content {
      key_id                            = azurerm_key_vault_key.backup.id
      infrastructure_encryption_enabled = false
      use_system_assigned_identity      = var.use_system_assigned_identity
    }
  }

  depends_on = [azurerm_resource_group.backup, azurerm_resource_group.other]
}

resource "azurerm_key_vault_access_policy" "cmk_vault" {
  key_vault_id    = azurerm_key_vault.cmk.id
  tenant_id       = azurerm_recovery_services_vault.cmk.identity[0].tenant_id
  object_id       = azurerm_recovery_services_vault.cmk.identity[0].principal_id
  key_permissions = var.vault_key_permissions
}

# A vault without CMK that backs a VM up with platform keys, and the key it would get if
# encrypt_plain_vault were true.
resource "azurerm_key_vault_key" "plain" {
  count        = var.encrypt_plain_vault ? 1 : 0
  name         = "plain-cmk"
  key_vault_id = azurerm_key_vault.cmk.id
  key_type     = var.plain_key_type
  key_size     = var.plain_key_type == "RSA" ? 2048 : null
  curve        = var.plain_key_type == "RSA" ? null : "P-256"
  key_opts     = var.plain_key_type == "RSA" ? ["wrapKey", "unwrapKey"] : ["sign", "verify"]
}

resource "azurerm_recovery_services_vault" "plain" {
  name                = "rsv-vfref-plain"
  location            = azurerm_resource_group.backup.location
  resource_group_name = azurerm_resource_group.backup.name
  sku                 = "Standard"

  identity {
    type = "SystemAssigned"
  }

  dynamic "encryption" {
    for_each = var.encrypt_plain_vault ? [1] : []
    content {
      key_id                            = azurerm_key_vault_key.plain[0].id
      infrastructure_encryption_enabled = false
      use_system_assigned_identity      = true
    }
  }
}

resource "azurerm_key_vault_access_policy" "plain_vault" {
  key_vault_id    = azurerm_key_vault.cmk.id
  tenant_id       = azurerm_recovery_services_vault.plain.identity[0].tenant_id
  object_id       = azurerm_recovery_services_vault.plain.identity[0].principal_id
  key_permissions = ["Get", "List", "WrapKey", "UnwrapKey"]
}

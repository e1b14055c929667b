# Quick start: a Recovery Services vault whose backups are encrypted with your own RSA key.
#
# The vault's system-assigned identity is granted Get, List, WrapKey and UnwrapKey on the key
# vault by an access policy that names the vault's own principal_id. In Terraform that is a
# cycle (the vault needs the grant before the key can be assigned, the grant needs the vault);
# vaultform plans the vault in two phases - the vault with its identity first, the key
# assignment after the grant and the key vault protections - so it just works.

terraform {
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.0"
    }
  }
}

provider "azurerm" {
  features {}
}

data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "backup" {
  name     = "rg-${var.prefix}-backup"
  location = var.location
  tags     = local.tags
}

resource "azurerm_key_vault" "cmk" {
  name                       = "kv-${var.prefix}-cmk"
  location                   = azurerm_resource_group.backup.location
  resource_group_name        = azurerm_resource_group.backup.name
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "premium"
  soft_delete_retention_days = 90
  purge_protection_enabled   = true

  tags = local.tags
}

# The deployer manages the key.
resource "azurerm_key_vault_access_policy" "deployer" {
  key_vault_id = azurerm_key_vault.cmk.id
  tenant_id    = data.azurerm_client_config.current.tenant_id
  object_id    = data.azurerm_client_config.current.object_id
  key_permissions = [
    "Get", "List", "Create", "Delete", "Update", "Recover", "Purge",
    "GetRotationPolicy", "SetRotationPolicy",
  ]
}

resource "azurerm_key_vault_key" "backup" {
  name         = "backup-cmk"
  key_vault_id = azurerm_key_vault.cmk.id
  key_type     = "RSA"
  key_size     = 3072
  key_opts     = ["wrapKey", "unwrapKey"]
}

resource "azurerm_recovery_services_vault" "vault" {
  name                = "rsv-${var.prefix}"
  location            = azurerm_resource_group.backup.location
  resource_group_name = azurerm_resource_group.backup.name
  sku                 = "Standard"
  storage_mode_type   = "GeoRedundant"
  soft_delete_enabled = true

  identity {
    type = "SystemAssigned"
  }

  encryption {
    key_id                            = azurerm_key_vault_key.backup.id
    infrastructure_encryption_enabled = false
    use_system_assigned_identity      = true
  }

  tags = local.tags
}

# The vault's own identity may read the key and wrap and unwrap data keys with it.
resource "azurerm_key_vault_access_policy" "vault" {
  key_vault_id    = azurerm_key_vault.cmk.id
  tenant_id       = azurerm_recovery_services_vault.vault.identity[0].tenant_id
  object_id       = azurerm_recovery_services_vault.vault.identity[0].principal_id
  key_permissions = ["Get", "List", "WrapKey", "UnwrapKey"]
}

resource "azurerm_backup_policy_vm" "daily" {
  name                = "daily-30d"
  resource_group_name = azurerm_resource_group.backup.name
  recovery_vault_name = azurerm_recovery_services_vault.vault.name
  timezone            = "UTC"

  backup {
    frequency = "Daily"
    time      = "23:00"
  }

  retention_daily {
    count = 30
  }
}

data "azurerm_virtual_machine" "app" {
  name                = var.vm_name
  resource_group_name = var.workload_resource_group
}

resource "azurerm_backup_protected_vm" "app" {
  resource_group_name = azurerm_resource_group.backup.name
  recovery_vault_name = azurerm_recovery_services_vault.vault.name
  source_vm_id        = data.azurerm_virtual_machine.app.id
  backup_policy_id    = azurerm_backup_policy_vm.daily.id
}

# Key rotation with a versionless key id: the vault follows new key versions on its own, and every
# recovery point remembers the key version that wrapped its data key - so restoring an older
# recovery point needs that older version enabled (rule R12). The README walks through it.

provider "azurerm" {
  features {}
}

data "azurerm_client_config" "current" {}

variable "location" {
  type    = string
  default = "westeurope"
}

resource "azurerm_resource_group" "backup" {
  name     = "rg-vfrot-backup"
  location = var.location
}

resource "azurerm_key_vault" "cmk" {
  name                       = "kv-vfrot-cmk"
  location                   = azurerm_resource_group.backup.location
  resource_group_name        = azurerm_resource_group.backup.name
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "standard"
  soft_delete_retention_days = 30
  purge_protection_enabled   = true
}

# The deployer creates and rotates the key.
resource "azurerm_key_vault_access_policy" "deployer" {
  key_vault_id = azurerm_key_vault.cmk.id
  tenant_id    = data.azurerm_client_config.current.tenant_id
  object_id    = data.azurerm_client_config.current.object_id
  key_permissions = [
    "Get", "List", "Create", "Delete", "Update", "Recover", "Purge", "Rotate",
    "GetRotationPolicy", "SetRotationPolicy",
  ]
}

resource "azurerm_key_vault_key" "backup" {
  name         = "backup-cmk"
  key_vault_id = azurerm_key_vault.cmk.id
  key_type     = "RSA"
  key_size     = 2048
  key_opts     = ["wrapKey", "unwrapKey"]
}

resource "azurerm_recovery_services_vault" "vault" {
  name                = "rsv-vfrot"
  location            = azurerm_resource_group.backup.location
  resource_group_name = azurerm_resource_group.backup.name
  sku                 = "Standard"

  identity {
    type = "SystemAssigned"
  }

  # Versionless: no version at the end of the id, so a new key version is picked up within
  # about an hour of its creation, without a change here (advisory A2).
  encryption {
    key_id                            = azurerm_key_vault_key.backup.versionless_id
    infrastructure_encryption_enabled = false
    use_system_assigned_identity      = true
  }
}

resource "azurerm_key_vault_access_policy" "vault" {
  key_vault_id    = azurerm_key_vault.cmk.id
  tenant_id       = azurerm_recovery_services_vault.vault.identity[0].tenant_id
  object_id       = azurerm_recovery_services_vault.vault.identity[0].principal_id
  key_permissions = ["Get", "List", "WrapKey", "UnwrapKey"]
}

resource "azurerm_backup_policy_vm" "daily" {
  name                = "daily-7d"
  resource_group_name = azurerm_resource_group.backup.name
  recovery_vault_name = azurerm_recovery_services_vault.vault.name
  timezone            = "UTC"

  backup {
    frequency = "Daily"
    time      = "22:00"
  }

  retention_daily {
    count = 7
  }
}

data "azurerm_virtual_machine" "app" {
  name                = "vm-app-01"
  resource_group_name = "rg-workloads"
}

resource "azurerm_backup_protected_vm" "app" {
  resource_group_name = azurerm_resource_group.backup.name
  recovery_vault_name = azurerm_recovery_services_vault.vault.name
  source_vm_id        = data.azurerm_virtual_machine.app.id
  backup_policy_id    = azurerm_backup_policy_vm.daily.id
}

output "versionless_key_id" {
  value = azurerm_key_vault_key.backup.versionless_id
}

# Restore with a disk encryption set: backups are encrypted with the vault's customer-managed key,
# and disks restored from a vault recovery point are encrypted with a second key through a disk
# encryption set (DES) that the restore names. The README walks through backup and restore.

provider "azurerm" {
  features {}
}

data "azurerm_client_config" "current" {}

variable "location" {
  type    = string
  default = "westeurope"
}

resource "azurerm_resource_group" "backup" {
  name     = "rg-vfdes-backup"
  location = var.location
}

resource "azurerm_key_vault" "cmk" {
  name                       = "kv-vfdes-cmk"
  location                   = azurerm_resource_group.backup.location
  resource_group_name        = azurerm_resource_group.backup.name
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "premium"
  soft_delete_retention_days = 30
  purge_protection_enabled   = true
}

resource "azurerm_key_vault_access_policy" "deployer" {
  key_vault_id    = azurerm_key_vault.cmk.id
  tenant_id       = data.azurerm_client_config.current.tenant_id
  object_id       = data.azurerm_client_config.current.object_id
  key_permissions = ["Get", "List", "Create", "Delete", "Update", "Recover", "Purge"]
}

# The key that wraps the vault's backup data.
resource "azurerm_key_vault_key" "backup" {
  name         = "backup-cmk"
  key_vault_id = azurerm_key_vault.cmk.id
  key_type     = "RSA"
  key_size     = 3072
  key_opts     = ["wrapKey", "unwrapKey"]
}

# The key that encrypts restored disks, through the disk encryption set.
resource "azurerm_key_vault_key" "disks" {
  name         = "restored-disks"
  key_vault_id = azurerm_key_vault.cmk.id
  key_type     = "RSA"
  key_size     = 2048
  key_opts     = ["wrapKey", "unwrapKey"]
}

resource "azurerm_recovery_services_vault" "vault" {
  name                = "rsv-vfdes"
  location            = azurerm_resource_group.backup.location
  resource_group_name = azurerm_resource_group.backup.name
  sku                 = "Standard"

  identity {
    type = "SystemAssigned"
  }

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

# A versionless key id with auto_key_rotation_enabled: the set follows new versions of its key.
resource "azurerm_disk_encryption_set" "restore" {
  name                      = "des-vfdes-restore"
  location                  = azurerm_resource_group.backup.location
  resource_group_name       = azurerm_resource_group.backup.name
  key_vault_key_id          = azurerm_key_vault_key.disks.versionless_id
  auto_key_rotation_enabled = true

  identity {
    type = "SystemAssigned"
  }
}

# The set's identity wraps and unwraps the restored disks' data keys.
resource "azurerm_key_vault_access_policy" "des" {
  key_vault_id    = azurerm_key_vault.cmk.id
  tenant_id       = azurerm_disk_encryption_set.restore.identity[0].tenant_id
  object_id       = azurerm_disk_encryption_set.restore.identity[0].principal_id
  key_permissions = ["Get", "WrapKey", "UnwrapKey"]
}

resource "azurerm_backup_policy_vm" "daily" {
  name                = "daily-14d"
  resource_group_name = azurerm_resource_group.backup.name
  recovery_vault_name = azurerm_recovery_services_vault.vault.name
  timezone            = "UTC"

  backup {
    frequency = "Daily"
    time      = "21:00"
  }

  retention_daily {
    count = 14
  }
}

data "azurerm_virtual_machine" "db" {
  name                = "vm-db-01"
  resource_group_name = "rg-workloads"
}

resource "azurerm_backup_protected_vm" "db" {
  resource_group_name = azurerm_resource_group.backup.name
  recovery_vault_name = azurerm_recovery_services_vault.vault.name
  source_vm_id        = data.azurerm_virtual_machine.db.id
  backup_policy_id    = azurerm_backup_policy_vm.daily.id
}

output "disk_encryption_set_id" {
  value = azurerm_disk_encryption_set.restore.id
}

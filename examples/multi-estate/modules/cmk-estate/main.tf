# One CMK estate: resource group, user-assigned identity, key vault (RBAC, purge protection),
# RSA key, the identity's grant on the key vault, a wait for the grant to reach Azure Backup,
# and the Recovery Services vault that encrypts its backups with the key.

terraform {
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
    time = {
      source  = "hashicorp/time"
      version = "~> 0.12"
    }
  }
}

variable "name" {
  type        = string
  description = "The estate's short name, part of every resource name."

  validation {
    condition     = can(regex("^[a-z]{2,6}$", var.name))
    error_message = "The estate name must be 2 to 6 lower-case letters."
  }
}

variable "location" {
  type = string
}

variable "tenant_id" {
  type = string
}

variable "deployer_object_id" {
  type        = string
  description = "Who creates the key: granted Key Vault Crypto Officer on the key vault."
}

# Key vault names are global: a random suffix per estate keeps them unique.
resource "random_string" "suffix" {
  length  = 6
  special = false
  upper   = false
}

locals {
  suffix = "${var.name}-${random_string.suffix.result}"
}

resource "azurerm_resource_group" "estate" {
  name     = "rg-backup-${local.suffix}"
  location = var.location
}

resource "azurerm_user_assigned_identity" "backup" {
  name                = "id-backup-${local.suffix}"
  location            = azurerm_resource_group.estate.location
  resource_group_name = azurerm_resource_group.estate.name
}

resource "azurerm_key_vault" "cmk" {
  name                       = "kv-${local.suffix}"
  location                   = azurerm_resource_group.estate.location
  resource_group_name        = azurerm_resource_group.estate.name
  tenant_id                  = var.tenant_id
  sku_name                   = "standard"
  rbac_authorization_enabled = true
  purge_protection_enabled   = true
  soft_delete_retention_days = 7
}

resource "azurerm_role_assignment" "deployer" {
  scope                = azurerm_key_vault.cmk.id
  role_definition_name = "Key Vault Crypto Officer"
  principal_id         = var.deployer_object_id
}

resource "azurerm_key_vault_key" "backup" {
  name         = "backup-cmk"
  key_vault_id = azurerm_key_vault.cmk.id
  key_type     = "RSA"
  key_size     = 3072
  key_opts     = ["wrapKey", "unwrapKey"]

  depends_on = [azurerm_role_assignment.deployer]
}

resource "azurerm_role_assignment" "backup_key_user" {
  scope                = azurerm_key_vault.cmk.id
  role_definition_name = "Key Vault Crypto Service Encryption User"
  principal_id         = azurerm_user_assigned_identity.backup.principal_id
  principal_type       = "ServicePrincipal"
}

# A new role assignment takes a while to reach every Azure service; assigning the key before
# it has would fail. The wait starts again whenever the grant is replaced.
resource "time_sleep" "grant_propagation" {
  create_duration = "60s"

  triggers = {
    grant = azurerm_role_assignment.backup_key_user.id
  }
}

resource "azurerm_recovery_services_vault" "vault" {
  name                = "rsv-${local.suffix}"
  location            = azurerm_resource_group.estate.location
  resource_group_name = azurerm_resource_group.estate.name
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

  depends_on = [time_sleep.grant_propagation]
}

output "vault_name" {
  value = azurerm_recovery_services_vault.vault.name
}

output "key_id" {
  value = azurerm_key_vault_key.backup.versionless_id
}

output "identity_principal_id" {
  value = azurerm_user_assigned_identity.backup.principal_id
}

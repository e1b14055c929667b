variable "prefix" {
  type        = string
  description = "Short name used in every resource name."
  default     = "vfqs"

  validation {
    condition     = can(regex("^[a-z0-9]{3,12}$", var.prefix))
    error_message = "The prefix must be 3 to 12 lower-case letters or digits."
  }
}

variable "location" {
  type    = string
  default = "westeurope"
}

variable "workload_resource_group" {
  type        = string
  description = "Resource group of the virtual machine to protect."
  default     = "rg-workloads"
}

variable "vm_name" {
  type        = string
  description = "The virtual machine to protect."
  default     = "vm-app-01"
}

locals {
  tags = {
    workload   = "backup"
    managed_by = "vaultform"
  }
}

output "vault_id" {
  value = azurerm_recovery_services_vault.vault.id
}

output "key_id" {
  value = azurerm_key_vault_key.backup.id
}

# Two CMK estates from one local module called with for_each: each estate is a Recovery
# Services vault whose backups are encrypted with its own RSA key, unwrapped by a user-assigned
# identity granted through Azure RBAC. Names get a random suffix per estate (random_string), and
# each vault waits for its grant to propagate (time_sleep) before the key is assigned.
#
# The estates are addressed as Terraform writes them: module.estate["prod"].azurerm_key_vault.cmk.

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

provider "azurerm" {
  features {}
}

data "azurerm_client_config" "current" {}

variable "estates" {
  type = map(object({
    location = string
    name     = optional(string) # the name in Azure, when it differs from the key (after a rename)
  }))
  description = "The CMK estates to run, by short name (3 to 6 lower-case letters)."
  default = {
    prod = { location = "westeurope" }
    dr   = { location = "northeurope" }
  }
}

module "estate" {
  source   = "./modules/cmk-estate"
  for_each = var.estates

  name               = coalesce(each.value.name, each.key)
  location           = each.value.location
  tenant_id          = data.azurerm_client_config.current.tenant_id
  deployer_object_id = data.azurerm_client_config.current.object_id
}

output "vaults" {
  description = "The Recovery Services vault of each estate."
  value       = { for name, estate in module.estate : name => estate.vault_name }
}

output "prod_key" {
  description = "The versionless key the prod vault follows."
  value       = module.estate["prod"].key_id
}

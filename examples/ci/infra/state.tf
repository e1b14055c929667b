# Where the pipeline keeps this configuration's state, and how it is sealed. Copy this file into the
# configuration directory (infra/) beside the .tf files it manages.
#
# The state is a blob in Azure Storage, reached with the pipeline's own Entra ID sign-in (OIDC, no
# secret): ARM_USE_AZUREAD=true and ARM_USE_OIDC=true come from the pipeline's environment, and the
# storage account, container and blob name from `vaultform init -backend-config=...`, so the same
# file serves every environment. Every job starts from an empty runner: `init` finds the state, and
# the blob lease is the lock.
#
# Before the state leaves the runner it is encrypted with a fresh AES-256-GCM data key, wrapped by an
# RSA key in Key Vault (RSA-OAEP-256) - the envelope Azure Backup's CMK uses. Saved plans are sealed
# the same way. The pipeline's identity needs wrapKey and unwrapKey on that key ("Key Vault Crypto
# User" on the key, or an access policy with wrapKey/unwrapKey); nothing else can read the state.
terraform {
  backend "azurerm" {}

  encryption {
    key_provider "azure_keyvault" "state" {
      vault_uri = var.state_key_vault_uri
      key_name  = var.state_key_name
    }

    method "aes_gcm" "state" {
      keys = key_provider.azure_keyvault.state
    }

    state {
      method   = method.aes_gcm.state
      enforced = true
    }

    plan {
      method   = method.aes_gcm.state
      enforced = true
    }
  }
}

variable "state_key_vault_uri" {
  type        = string
  description = "The key vault holding the state key, https://NAME.vault.azure.net/ (TF_VAR_state_key_vault_uri)."
}

variable "state_key_name" {
  type        = string
  description = "The RSA key that wraps the state's data keys."
  default     = "vaultform-state"
}

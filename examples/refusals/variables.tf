# Every variable's default is the configuration that applies cleanly. Each walkthrough step in the
# README overrides one of them with -var to make a change vaultform refuses.

variable "encryption" {
  type        = bool
  default     = true
  description = "false removes the encryption block from the CMK vault (R1)."
}

variable "vault_resource_group" {
  type        = string
  default     = "rg-vfref-backup"
  description = "The CMK vault's resource group; rg-vfref-other moves it (R2)."
}

variable "encrypt_plain_vault" {
  type        = bool
  default     = false
  description = "true adds customer-managed key encryption to the plain vault (R3 once it backed up)."
}

variable "plain_key_type" {
  type        = string
  default     = "RSA"
  description = "Type of the key created for the plain vault; EC is unfit for backup encryption (R4)."
}

variable "purge_protection" {
  type        = bool
  default     = true
  description = "false turns purge protection off on the key vault (R5, R10)."
}

variable "identity_type" {
  type        = string
  default     = "SystemAssigned, UserAssigned"
  description = "The CMK vault's identity type; dropping one turns an identity off (R6)."
}

variable "vault_key_permissions" {
  type        = list(string)
  default     = ["Get", "List", "WrapKey", "UnwrapKey"]
  description = "What the CMK vault's identity may do with keys (R7 when WrapKey/UnwrapKey go)."
}

variable "use_system_assigned_identity" {
  type        = bool
  default     = true
  description = "false without user_assigned_identity_id leaves encryption with no identity (R8)."
}

variable "vault_sku" {
  type        = string
  default     = "Standard"
  description = "The CMK vault's sku; it can't change while the key is on (R10)."
}

variable "key_size" {
  type        = number
  default     = 3072
  description = "Size of the key in use; a new size needs a new key, destroying the one in use (R11)."
}

variable "key_vault_tenant_id" {
  type        = string
  default     = ""
  description = "Empty: the caller's tenant. Another tenant id plays a tenant move (R13)."
}

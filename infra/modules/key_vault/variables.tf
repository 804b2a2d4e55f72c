variable "name" {
  type        = string
  description = "Key Vault name, 3-24 characters, letters, digits and hyphens (`<prefix>-<environment>-kv`)."

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$", var.name)) && !strcontains(var.name, "--")
    error_message = "Key Vault names are 3-24 characters: a letter first, letters, digits and single hyphens, no hyphen last."
  }
}

variable "location" {
  type        = string
  description = "Azure region of the resources."
}

variable "resource_group_name" {
  type        = string
  description = "Resource group that holds the resources."
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource; must include owner, environment, cost-center and application."

  validation {
    condition     = alltrue([for k in ["owner", "environment", "cost-center", "application"] : contains(keys(var.tags), k)])
    error_message = "tags must include the keys owner, environment, cost-center and application."
  }
}

variable "sku_name" {
  type        = string
  description = "standard or premium; premium keeps keys in HSMs."
  default     = "premium"

  validation {
    condition     = contains(["standard", "premium"], var.sku_name)
    error_message = "sku_name must be standard or premium."
  }
}

variable "purge_protection_enabled" {
  type        = bool
  description = "Purge protection: deleted vaults and keys cannot be purged before the retention ends."
  default     = true
}

variable "soft_delete_retention_days" {
  type        = number
  description = "Soft-delete retention in days (7-90)."
  default     = 90

  validation {
    condition     = var.soft_delete_retention_days >= 7 && var.soft_delete_retention_days <= 90
    error_message = "soft_delete_retention_days must be between 7 and 90."
  }
}

variable "public_network_access_enabled" {
  type        = bool
  description = "Public network access; off means private endpoint only."
  default     = false
}

variable "network_default_action" {
  type        = string
  description = "Firewall default action: Deny (only trusted IPs, subnets and Azure services) or Allow."
  default     = "Deny"

  validation {
    condition     = contains(["Allow", "Deny"], var.network_default_action)
    error_message = "network_default_action must be Allow or Deny."
  }
}

variable "trusted_ip_ranges" {
  type        = list(string)
  description = "Public IP ranges (CIDR) allowed through the firewall."
  default     = []
}

variable "trusted_subnet_ids" {
  type        = list(string)
  description = "Subnets allowed through the firewall (service endpoint Microsoft.KeyVault)."
  default     = []
}

variable "customer_managed_key_enabled" {
  type        = bool
  description = "Create the RSA-HSM key used as customer-managed key by Storage and the other services."
  default     = true
}

variable "key_expiration_date" {
  type        = string
  description = "Expiry (RFC 3339 UTC) of the first key version; the rotation policy renews it before expiry."
  default     = "2028-12-31T23:59:59Z"

  validation {
    condition     = can(regex("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$", var.key_expiration_date))
    error_message = "key_expiration_date must look like 2028-12-31T23:59:59Z."
  }
}

variable "secret_names" {
  type        = list(string)
  description = "Names of the secrets to store (values in secret_values); kept apart so for_each sees no sensitive value."
  default     = []
}

variable "secret_values" {
  type        = map(string)
  description = "Secret values by name, for every name in secret_names."
  default     = {}
  sensitive   = true
}

variable "role_propagation_wait" {
  type        = string
  description = "How long to wait after granting Key Vault roles before writing keys and secrets (role assignments reach the data plane after a delay)."
  default     = "60s"
}

variable "openai_key_enabled" {
  type        = bool
  description = "Create an RSA 2048 key for Azure OpenAI accounts in this vault's region (Azure OpenAI takes RSA 2048 only, from a vault in its own region)."
  default     = false
}

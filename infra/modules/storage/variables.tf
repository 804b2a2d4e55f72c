variable "name" {
  type        = string
  description = "Storage account name: 3-24 lowercase letters and digits (`<prefix><environment>st`)."

  validation {
    condition     = can(regex("^[a-z0-9]{3,24}$", var.name))
    error_message = "Storage account names are 3-24 lowercase letters and digits."
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

variable "replication_type" {
  type        = string
  description = "Replication: ZRS, GZRS or RAGZRS keep copies in three zones; LRS only for throwaway environments."
  default     = "GZRS"

  validation {
    condition     = contains(["LRS", "ZRS", "GRS", "RAGRS", "GZRS", "RAGZRS"], var.replication_type)
    error_message = "replication_type must be one of LRS, ZRS, GRS, RAGRS, GZRS, RAGZRS."
  }
}

variable "public_network_access_enabled" {
  type        = bool
  description = "Public network access; off means private endpoints only."
  default     = false
}

variable "network_default_action" {
  type        = string
  description = "Firewall default action, Deny or Allow."
  default     = "Deny"

  validation {
    condition     = contains(["Allow", "Deny"], var.network_default_action)
    error_message = "network_default_action must be Allow or Deny."
  }
}

variable "trusted_ip_ranges" {
  type        = list(string)
  description = "Public IP ranges allowed through the firewall."
  default     = []
}

variable "trusted_subnet_ids" {
  type        = list(string)
  description = "Subnets allowed through the firewall (service endpoint Microsoft.Storage)."
  default     = []
}

variable "versioning_enabled" {
  type        = bool
  description = "Blob versioning (and change feed) for recovering overwritten documents."
  default     = true
}

variable "soft_delete_retention_days" {
  type        = number
  description = "Blob and container soft-delete retention, in days."
  default     = 30

  validation {
    condition     = var.soft_delete_retention_days >= 7 && var.soft_delete_retention_days <= 365
    error_message = "soft_delete_retention_days must be between 7 and 365."
  }
}

variable "customer_managed_key_enabled" {
  type        = bool
  description = "Encrypt with the customer-managed key customer_managed_key_id."
  default     = true
}

variable "customer_managed_key_id" {
  type        = string
  description = "Versionless Key Vault key ID of the customer-managed key."
  default     = null
}

variable "customer_managed_key_identity_id" {
  type        = string
  description = "User-assigned identity that may wrap/unwrap with the key (Key Vault Crypto Service Encryption User)."
  default     = null
}

variable "documents_container_name" {
  type        = string
  description = "Blob container that holds the documents to ingest (AZURE_STORAGE_CONTAINER)."
  default     = "documents"
}

variable "conversations_table_name" {
  type        = string
  description = "Table that holds the conversations."
  default     = "conversations"
}

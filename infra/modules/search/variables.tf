variable "name" {
  type        = string
  description = "Search service name, `<prefix>-<environment>-search` (2-60 lowercase letters, digits, hyphens)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,58}[a-z0-9]$", var.name))
    error_message = "Search service names are 2-60 lowercase letters, digits and hyphens."
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

variable "sku" {
  type        = string
  description = "Tier: standard or higher for availability zones and an SLA; basic or free only for trials."
  default     = "standard"

  validation {
    condition     = contains(["free", "basic", "standard", "standard2", "standard3", "storage_optimized_l1", "storage_optimized_l2"], var.sku)
    error_message = "sku must be a valid Azure AI Search tier."
  }
}

variable "replica_count" {
  type        = number
  description = "Replicas; 3 or more gives the read/write SLA and spreads over availability zones."
  default     = 3

  validation {
    condition     = var.replica_count >= 1 && var.replica_count <= 12
    error_message = "replica_count must be between 1 and 12."
  }
}

variable "partition_count" {
  type        = number
  description = "Partitions (storage and indexing throughput): 1, 2, 3, 4, 6 or 12."
  default     = 2

  validation {
    condition     = contains([1, 2, 3, 4, 6, 12], var.partition_count)
    error_message = "partition_count must be 1, 2, 3, 4, 6 or 12."
  }
}

variable "semantic_search_sku" {
  type        = string
  description = "Semantic ranker plan: free or standard; null turns it off."
  default     = "standard"
}

variable "local_authentication_enabled" {
  type        = bool
  description = "API-key authentication; off means Entra ID (RBAC) only."
  default     = false
}

variable "public_network_access_enabled" {
  type        = bool
  description = "Public network access; off means private endpoints only."
  default     = false
}

variable "trusted_ip_ranges" {
  type        = list(string)
  description = "Public IP ranges allowed when public access is on."
  default     = []
}

variable "index_schema_role_enabled" {
  type        = bool
  description = "Define the custom role `chatref index schema (<name>)` (output index_schema_role_id): read, create and update index definitions, nothing else. For the identity whose first ingest creates the index (the sync job); Search Service Contributor would also let it read admin keys and change network and authentication settings."
  default     = false
}

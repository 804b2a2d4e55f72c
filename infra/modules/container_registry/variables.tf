variable "name" {
  type        = string
  description = "Registry name: 5-50 letters and digits (`<prefix><environment>acr`)."

  validation {
    condition     = can(regex("^[a-zA-Z0-9]{5,50}$", var.name))
    error_message = "Container registry names are 5-50 letters and digits."
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
  description = "Basic, Standard or Premium; geo-replication, zone redundancy and private endpoints need Premium."
  default     = "Premium"

  validation {
    condition     = contains(["Basic", "Standard", "Premium"], var.sku)
    error_message = "sku must be Basic, Standard or Premium."
  }
}

variable "georeplication_location" {
  type        = string
  description = "Second region the registry replicates to (Premium only); null for none."
  default     = null
}

variable "zone_redundancy_enabled" {
  type        = bool
  description = "Zone redundancy in the home region and the replicas (Premium only)."
  default     = true
}

variable "public_network_access_enabled" {
  type        = bool
  description = "Public network access; off means private endpoints only."
  default     = false
}

variable "untagged_retention_days" {
  type        = number
  description = "Days before untagged manifests are deleted (Premium only)."
  default     = 30
}

variable "premium_features_enabled" {
  type        = bool
  description = "Premium-only features: retention of untagged manifests and dedicated data endpoints."
  default     = true
}

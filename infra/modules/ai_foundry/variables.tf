variable "enabled" {
  type        = bool
  description = "Create the AI Foundry hub and project."
  default     = false
}

variable "name" {
  type        = string
  description = "Name stem, `<prefix>-<environment>`; resources are `<stem>-aihub`, `<stem>-aiproj`."
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

variable "storage_account_id" {
  type        = string
  description = "Storage account of the hub."
}

variable "key_vault_id" {
  type        = string
  description = "Key Vault of the hub."
}

variable "application_insights_id" {
  type        = string
  description = "Application Insights of the hub."
}

variable "container_registry_id" {
  type        = string
  description = "Container registry of the hub."
}

variable "name" {
  type        = string
  description = "Name of the private endpoint, `<prefix>-<environment>-<service>-pe`."
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

variable "subnet_id" {
  type        = string
  description = "Subnet that holds the endpoint's network interface."
}

variable "resource_id" {
  type        = string
  description = "Resource ID of the service the endpoint connects to."
}

variable "subresource_name" {
  type        = string
  description = "Private-link sub-resource (group ID): account, searchService, vault, blob, table, registry, sites, sites-<slot> (a deployment slot's own endpoint, e.g. sites-staging), amlworkspace."

  validation {
    condition     = contains(["account", "searchService", "vault", "blob", "table", "registry", "sites", "amlworkspace"], var.subresource_name) || can(regex("^sites-[a-z0-9][a-z0-9-]{0,58}$", var.subresource_name))
    error_message = "subresource_name must be one of account, searchService, vault, blob, table, registry, sites, sites-<slot name>, amlworkspace."
  }
}

variable "private_dns_zone_ids" {
  type        = list(string)
  description = "Private DNS zones the endpoint registers its A records in (two for an AI Foundry hub)."

  validation {
    condition     = length(var.private_dns_zone_ids) > 0
    error_message = "private_dns_zone_ids needs at least one zone."
  }
}

variable "application_security_group_enabled" {
  type        = bool
  description = "Associate the endpoint with application_security_group_id."
  default     = true
}

variable "application_security_group_id" {
  type        = string
  description = "Application security group the endpoint joins (used by the NSG rules)."
  default     = null
}

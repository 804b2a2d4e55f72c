variable "name" {
  type        = string
  description = "Name stem, `<prefix>-<environment>`; flow logs are `<stem>-<vnet key>-flowlog`."
}

variable "location" {
  type        = string
  description = "Region of the virtual networks (and of their Network Watcher)."
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource; must include owner, environment, cost-center and application."

  validation {
    condition     = alltrue([for k in ["owner", "environment", "cost-center", "application"] : contains(keys(var.tags), k)])
    error_message = "tags must include the keys owner, environment, cost-center and application."
  }
}

variable "virtual_network_ids" {
  type        = map(string)
  description = "The virtual networks to log, by a short key (hub, spoke)."

  validation {
    condition     = alltrue([for id in values(var.virtual_network_ids) : can(regex("(?i)/providers/Microsoft\\.Network/virtualNetworks/[^/]+$", id))])
    error_message = "virtual_network_ids must be virtual network resource IDs (VNet flow logs, not the retired NSG flow logs)."
  }
}

variable "storage_account_id" {
  type        = string
  description = "Storage account in the same region that keeps the flow log files."
}

variable "retention_days" {
  type        = number
  description = "Days the flow log files are kept in Storage."
  default     = 90

  validation {
    condition     = var.retention_days >= 90
    error_message = "retention_days must be 90 or more (the guide's log retention)."
  }
}

variable "workspace_id" {
  type        = string
  description = "GUID of the Log Analytics workspace for Traffic Analytics (the monitoring module's log_analytics_workspace_guid)."
}

variable "workspace_location" {
  type        = string
  description = "Region of that workspace."
}

variable "workspace_resource_id" {
  type        = string
  description = "Resource ID of that workspace."
}

variable "traffic_analytics_interval_in_minutes" {
  type        = number
  description = "How often Traffic Analytics processes the logs: 10 or 60 minutes."
  default     = 10

  validation {
    condition     = contains([10, 60], var.traffic_analytics_interval_in_minutes)
    error_message = "traffic_analytics_interval_in_minutes must be 10 or 60."
  }
}

variable "network_watcher_name" {
  type        = string
  description = "The region's Network Watcher; null: NetworkWatcher_<location>, the one Azure creates."
  default     = null
}

variable "network_watcher_resource_group_name" {
  type        = string
  description = "Resource group of the Network Watcher (the flow logs live there too)."
  default     = "NetworkWatcherRG"
}

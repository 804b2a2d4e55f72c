variable "name" {
  type        = string
  description = "Name stem, `<prefix>-<environment>`; resources are named `<stem>-<part>`."
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

variable "hub_address_space" {
  type        = list(string)
  description = "Address space of the hub virtual network."
  default     = ["10.10.0.0/22"]
}

variable "spoke_address_space" {
  type        = list(string)
  description = "Address space of the workload (spoke) virtual network."
  default     = ["10.20.0.0/22"]
}

variable "hub_shared_subnet_prefix" {
  type        = string
  description = "Prefix of the hub's shared-services subnet (egress appliance, jump hosts)."
  default     = "10.10.0.0/24"
}

variable "app_subnet_prefix" {
  type        = string
  description = "Prefix of the App Service VNet integration subnet (delegated to Microsoft.Web/serverFarms)."
  default     = "10.20.0.0/24"
}

variable "private_endpoint_subnet_prefix" {
  type        = string
  description = "Prefix of the subnet that holds the private endpoints."
  default     = "10.20.1.0/24"
}

variable "app_subnet_service_endpoints" {
  type        = list(string)
  description = "Service endpoints on the App Service integration subnet."
  default     = ["Microsoft.KeyVault", "Microsoft.Storage", "Microsoft.CognitiveServices"]
}

variable "firewall_subnet_prefix" {
  type        = string
  description = "Prefix of AzureFirewallSubnet in the hub (/26 or larger)."
  default     = "10.10.1.0/26"
}

variable "bastion_subnet_prefix" {
  type        = string
  description = "Prefix of AzureBastionSubnet in the hub (/26 or larger)."
  default     = "10.10.1.64/26"
}

variable "jumpbox_subnet_prefix" {
  type        = string
  description = "Prefix of the jump-box subnet in the hub (reached through Bastion only)."
  default     = "10.10.2.0/27"
}

variable "build_agent_subnet_prefix" {
  type        = string
  description = "Prefix of the build-agent subnet in the hub, where the self-hosted runner plans, applies and releases."
  default     = "10.10.2.64/26"
}

variable "gateway_subnet_prefix" {
  type        = string
  description = "Prefix of the Application Gateway subnet in the spoke (/24 recommended for v2 autoscaling)."
  default     = "10.20.2.0/24"
}

variable "jobs_subnet_prefix" {
  type        = string
  description = "Prefix of the Container Apps environment subnet in the spoke (/27 or larger; delegated to Microsoft.App/environments)."
  default     = "10.20.3.0/27"
}

variable "trusted_address_prefixes" {
  type        = list(string)
  description = "Operator networks (VPN) allowed to reach the private endpoints on 443, besides the jump-box and build-agent subnets, which always are."
  default     = []
}

variable "ddos_protection_plan_id" {
  type        = string
  description = "An existing DDoS Network Protection plan to attach to both VNets (one plan per region per subscription covers them all); null with ddos_protection_plan_create = false leaves the VNets unprotected."
  default     = null

  validation {
    condition     = var.ddos_protection_plan_id == null || can(regex("(?i)/providers/Microsoft\\.Network/ddosProtectionPlans/[^/]+$", var.ddos_protection_plan_id))
    error_message = "ddos_protection_plan_id must be the resource ID of a Microsoft.Network/ddosProtectionPlans resource."
  }
}

variable "ddos_protection_plan_create" {
  type        = bool
  description = "Create a DDoS Network Protection plan here (a fixed monthly fee; see docs/cost.md). Only when the subscription has none in this region: otherwise pass ddos_protection_plan_id."
  default     = false

  validation {
    condition     = !(var.ddos_protection_plan_create && var.ddos_protection_plan_id != null)
    error_message = "Either pass ddos_protection_plan_id or set ddos_protection_plan_create, not both."
  }
}

variable "private_dns_zones" {
  type        = list(string)
  description = "Private DNS zones for the private endpoints, linked to the hub and the spoke."
  default = [
    "privatelink.openai.azure.com",
    "privatelink.cognitiveservices.azure.com",
    "privatelink.search.windows.net",
    "privatelink.vaultcore.azure.net",
    "privatelink.blob.core.windows.net",
    "privatelink.table.core.windows.net",
    "privatelink.azurecr.io",
    "privatelink.azurewebsites.net",
    "privatelink.api.azureml.ms",
    "privatelink.notebooks.azure.net",
  ]
}

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

variable "trusted_address_prefixes" {
  type        = list(string)
  description = "Operator networks (VPN, build agents) allowed to reach the private endpoints on 443."
  default     = ["10.10.0.0/24"]

  validation {
    condition     = length(var.trusted_address_prefixes) > 0
    error_message = "trusted_address_prefixes needs at least one prefix (the NSG rule needs a source)."
  }
}

variable "egress_firewall_ip" {
  type        = string
  description = "Private IP of the hub firewall/NVA that all egress is routed through; null routes 0.0.0.0/0 to Internet."
  default     = null
}

variable "ddos_protection_enabled" {
  type        = bool
  description = "Create an Azure DDoS Network Protection plan and attach it to both VNets."
  default     = true
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

variable "name" {
  type        = string
  description = "Name stem, `<prefix>-<environment>`; resources are `<stem>-afw`, `<stem>-afwp`, `<stem>-afw-pip`."
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
  description = "The hub's AzureFirewallSubnet."

  validation {
    condition     = endswith(var.subnet_id, "/subnets/AzureFirewallSubnet")
    error_message = "subnet_id must be a subnet named AzureFirewallSubnet (Azure requires the name)."
  }
}

variable "sku_tier" {
  type        = string
  description = "Firewall and policy tier: Premium (IDPS in deny mode, TLS inspection available) or Standard (FQDN filtering and threat intelligence only, cheaper)."
  default     = "Premium"

  validation {
    condition     = contains(["Standard", "Premium"], var.sku_tier)
    error_message = "sku_tier must be Standard or Premium (Basic has no threat-intelligence deny mode)."
  }
}

variable "zones" {
  type        = list(string)
  description = "Availability zones of the firewall and its public IP."
  default     = ["1", "2", "3"]
}

variable "workload_source_prefixes" {
  type        = list(string)
  description = "The App Service integration subnet: may reach Entra ID and Application Insights ingestion."

  validation {
    condition     = length(var.workload_source_prefixes) > 0 && !contains(var.workload_source_prefixes, "*")
    error_message = "workload_source_prefixes must list the subnet prefixes, never *."
  }
}

variable "jobs_source_prefixes" {
  type        = list(string)
  description = "The Container Apps environment subnet: Entra ID, Application Insights, and MCR for the platform's images."
}

variable "build_agent_source_prefixes" {
  type        = list(string)
  description = "The build-agent subnet: the only source allowed to reach package registries, GitHub and Azure Resource Manager."
}

variable "build_agent_fqdns" {
  type        = list(string)
  description = "What the self-hosted runner needs: GitHub Actions, the package registries of the build, the Terraform registry."
  default = [
    "github.com", "api.github.com", "*.actions.githubusercontent.com", "codeload.github.com",
    "objects.githubusercontent.com", "pkg-containers.githubusercontent.com", "ghcr.io",
    "pypi.org", "files.pythonhosted.org", "registry.npmjs.org",
    "deb.debian.org", "security.debian.org",
    "registry.terraform.io", "releases.hashicorp.com",
  ]

  validation {
    condition     = alltrue([for f in var.build_agent_fqdns : f != "*" && can(regex("^(\\*\\.)?[a-z0-9-]+(\\.[a-z0-9-]+)+$", f))])
    error_message = "build_agent_fqdns must be host names (a leading *. is allowed), never a bare *."
  }
}

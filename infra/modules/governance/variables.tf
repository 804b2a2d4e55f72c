variable "name" {
  type        = string
  description = "Name stem, `<prefix>-<environment>`."
}

variable "resource_group_id" {
  type        = string
  description = "Resource group the budget, policies and scope apply to."
}

variable "monthly_budget_amount" {
  type        = number
  description = "Monthly budget of the resource group, in the billing currency."

  validation {
    condition     = var.monthly_budget_amount > 0
    error_message = "monthly_budget_amount must be positive."
  }
}

variable "budget_start_date" {
  type        = string
  description = "First day of the budget, RFC 3339, first of a month (e.g. 2026-12-01T00:00:00Z)."

  validation {
    condition     = can(regex("^\\d{4}-\\d{2}-01T00:00:00Z$", var.budget_start_date))
    error_message = "budget_start_date must be the first of a month, like 2026-12-01T00:00:00Z."
  }
}

variable "budget_alert_thresholds" {
  type        = list(number)
  description = "Budget alert thresholds in percent; above 100 they alert on the forecast."
  default     = [50, 80, 100, 110]
}

variable "budget_contact_emails" {
  type        = list(string)
  description = "Who receives budget alerts."
}

variable "required_tags" {
  type        = list(string)
  description = "Tags every resource must carry (one policy assignment each)."
  default     = ["owner", "environment", "cost-center", "application"]
}

variable "require_tag_policy_definition" {
  type        = string
  description = "Built-in policy definition 'Require a tag on resources'."
  default     = "871b6d14-10aa-478d-b590-94f262ecfa99"
}

variable "deny_public_network_policy_definitions" {
  type        = map(string)
  description = "Built-in 'should disable public network access' definitions (GUIDs) by service."
  default = {
    storage     = "b2982f36-99f2-4db5-8eff-283140c09693"
    key-vault   = "405c5871-3e91-4644-8a63-58e19d68ff5b"
    openai      = "0725b4dd-7e76-479c-a735-68e7ee23d5ca"
    search      = "ee980b6d-0eca-4501-8d54-f6290fd512c3" # Azure AI Search services should disable public network access
    registry    = "0fdf0491-d080-4575-b627-ad0e843cba0f" # Public network access should be disabled for Container registries
    app-service = "1b5ef780-c53c-4a64-87f3-bb9c8c8094ba" # App Service apps should disable public network access
    # The apps' definition does not judge slots (Microsoft.Web/sites/slots): the staging slot
    # needs its own, "App Service app slots should disable public network access".
    app-service-slots = "701a595d-38fb-4a66-ae6d-fb3735217622"
  }
}

variable "policy_enforce" {
  type        = bool
  description = "Enforce the policy assignments (deny); false only audits."
  default     = true
}

variable "locked_resource_ids" {
  type        = map(string)
  description = "Stateful resources that get a CanNotDelete lock, by a static key."
  default     = {}
}

variable "policy_management_group_id" {
  type        = string
  description = "Assign the policies at this management group (ID) instead of the resource group; null keeps them on the resource group."
  default     = null
}

variable "naming_policy_enabled" {
  type        = bool
  description = "Assign the naming-convention policy (a custom definition) with naming_patterns."
  default     = true
}

variable "naming_patterns" {
  type        = list(string)
  description = "Azure Policy `like` patterns a resource name must match one of, e.g. [\"chatref-prod-*\", \"chatrefprod*\"]; empty skips the policy."
  default     = []
}

variable "naming_exempted_types" {
  type        = list(string)
  description = "Resource types exempt from the naming policy: named by Azure, required to be a GUID (workbooks), or named within a parent that follows the convention (slots)."
  default = [
    "Microsoft.Network/networkInterfaces",                # a private endpoint's NIC
    "Microsoft.Network/privateDnsZones",                  # privatelink.* zone names are fixed
    "Microsoft.AlertsManagement/smartDetectorAlertRules", # created by Application Insights
    "Microsoft.Insights/workbooks",                       # Azure requires a GUID as the name
    "Microsoft.Web/sites/slots",                          # named within the app ("staging"); host name <app>-<slot>
  ]
}

variable "defender_plans" {
  type = map(object({
    tier    = optional(string, "Standard")
    subplan = optional(string)
  }))
  description = "Microsoft Defender for Cloud plans to turn on for the subscription, by resource type (AI, AppServices, Containers, KeyVaults, StorageAccounts, Arm, ...). Empty leaves Defender to whoever owns the subscription."
  default     = {}

  validation {
    condition     = alltrue([for plan in values(var.defender_plans) : contains(["Free", "Standard"], plan.tier)])
    error_message = "defender_plans tiers are Free or Standard."
  }

  # The resource types azurerm 4.79.0 accepts (security_center_subscription_pricing_resource.go).
  validation {
    condition     = alltrue([for type in keys(var.defender_plans) : contains(["AI", "Api", "AppServices", "ContainerRegistry", "KeyVaults", "KubernetesService", "SqlServers", "SqlServerVirtualMachines", "StorageAccounts", "VirtualMachines", "Arm", "Dns", "OpenSourceRelationalDatabases", "Containers", "CosmosDbs", "CloudPosture"], type)])
    error_message = "defender_plans keys must be Defender plan resource types the provider accepts (AI, AppServices, Containers, KeyVaults, StorageAccounts, Arm, ...)."
  }
}

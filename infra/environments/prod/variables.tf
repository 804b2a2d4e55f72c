variable "prefix" {
  type        = string
  description = "Short workload prefix of every name, 2-10 lowercase letters and digits."
  default     = "chatref"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.prefix))
    error_message = "prefix must be 2-10 lowercase letters and digits, starting with a letter."
  }
}

variable "environment" {
  type        = string
  description = "Environment name used in names and the environment tag."
  default     = "prod"

  validation {
    condition     = contains(["prod", "test"], var.environment)
    error_message = "This configuration deploys prod or test."
  }
}

variable "location" {
  type        = string
  description = "Primary region."
  default     = "swedencentral"
}

variable "secondary_location" {
  type        = string
  description = "Second region for Azure OpenAI and the registry replica."
  default     = "francecentral"
}

variable "owner" {
  type        = string
  description = "Value of the owner tag (team or person accountable)."
}

variable "cost_center" {
  type        = string
  description = "Value of the cost-center tag."
}

variable "alert_email_addresses" {
  type        = list(string)
  description = "Receivers of monitoring alerts and budget alerts."
}

variable "entra_client_id" {
  type        = string
  description = "Client ID of the Entra ID app registration used by Easy Auth."
}

variable "allowed_group_object_ids" {
  type        = list(string)
  description = "Entra ID groups whose members may sign in to the chat (Easy Auth); empty leaves it to the Chat.User app role."
  default     = []
}

variable "public_host_name" {
  type        = string
  description = "Host name users reach the chat by (the Application Gateway's HTTPS listener), e.g. chat.example.com."
}

variable "trusted_ip_ranges" {
  type        = list(string)
  description = "Operator public IP ranges allowed through the Key Vault and Storage firewalls."
  default     = []
}

variable "operator_address_prefixes" {
  type        = list(string)
  description = "Operator networks (VPN) allowed to the private endpoints on 443, besides the jump-box and build-agent subnets."
  default     = []
}

variable "tls_certificate_name" {
  type        = string
  description = "Name of the Key Vault certificate for public_host_name (imported or issued by the platform team); the gateway reads it."
  default     = "chat-tls"
}

variable "ddos_protection_plan_id" {
  type        = string
  description = "The subscription's DDoS Network Protection plan in this region, if it has one (one plan per region per subscription covers every VNet)."
  default     = null
}

variable "ddos_protection_plan_create" {
  type        = bool
  description = "Create a DDoS plan for this deployment. Set false and pass ddos_protection_plan_id when the subscription already has one; prod always has one or the other."
  default     = true

  validation {
    condition     = var.ddos_protection_plan_create != (var.ddos_protection_plan_id != null)
    error_message = "Production needs DDoS protection: pass ddos_protection_plan_id, or set ddos_protection_plan_create = true (not both)."
  }
}

variable "provisioned_throughput_enabled" {
  type        = bool
  description = "Add a provisioned-throughput (PTU) chat deployment in the primary region."
  default     = false
}

variable "provisioned_throughput_units" {
  type        = number
  description = "PTUs of the provisioned deployment."
  default     = 50
}

variable "ai_foundry_enabled" {
  type        = bool
  description = "Create the optional AI Foundry hub and project."
  default     = false
}

variable "container_image" {
  type        = string
  description = "Image of the web app in the registry, name:tag."
  default     = "chatref:latest"
}

variable "sync_cron_expression" {
  type        = string
  description = "When the document sync job runs (cron, UTC)."
  default     = "15 * * * *"
}

variable "monthly_budget_amount" {
  type        = number
  description = "Monthly budget of the resource group."
  default     = 10000
}

variable "budget_start_date" {
  type        = string
  description = "First month of the budget, e.g. 2026-12-01T00:00:00Z."
}

variable "defender_plans" {
  type = map(object({
    tier    = optional(string, "Standard")
    subplan = optional(string)
  }))
  description = "Microsoft Defender for Cloud plans for the subscription (governance module). The default covers what chatref runs: AI services, App Service, container registries (Containers), Key Vault, Storage, Resource Manager. Set {} when the platform team manages Defender for the subscription."
  default = {
    AI              = { tier = "Standard" }
    AppServices     = { tier = "Standard" }
    Containers      = { tier = "Standard" }
    KeyVaults       = { tier = "Standard", subplan = "PerKeyVault" }
    StorageAccounts = { tier = "Standard", subplan = "DefenderForStorageV2" }
    Arm             = { tier = "Standard", subplan = "PerSubscription" }
  }
}

variable "policy_management_group_id" {
  type        = string
  description = "Assign chatref's policies at this management group instead of the resource group (null: the resource group)."
  default     = null
}

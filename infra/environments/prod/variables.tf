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

variable "egress_firewall_ip" {
  type        = string
  description = "Private IP of the hub firewall that all App Service egress is routed through (null: Internet)."
  default     = null
}

variable "ddos_protection_enabled" {
  type        = bool
  description = "Attach an Azure DDoS Network Protection plan to the VNets."
  default     = true
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

variable "monthly_budget_amount" {
  type        = number
  description = "Monthly budget of the resource group."
  default     = 10000
}

variable "budget_start_date" {
  type        = string
  description = "First month of the budget, e.g. 2026-12-01T00:00:00Z."
}

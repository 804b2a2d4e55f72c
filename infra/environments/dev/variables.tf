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
  default     = "dev"

  validation {
    condition     = contains(["dev", "test"], var.environment)
    error_message = "This configuration deploys dev or test."
  }
}

variable "location" {
  type        = string
  description = "Primary region."
  default     = "swedencentral"
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

variable "trusted_ip_ranges" {
  type        = list(string)
  description = "Operator public IP ranges allowed through the Key Vault and Storage firewalls."
  default     = []
}

variable "container_image" {
  type        = string
  description = "Image of the web app in the registry, name:tag."
  default     = "chatref:latest"
}

variable "monthly_budget_amount" {
  type        = number
  description = "Monthly budget of the resource group."
  default     = 500
}

variable "budget_start_date" {
  type        = string
  description = "First month of the budget, e.g. 2026-12-01T00:00:00Z."
}

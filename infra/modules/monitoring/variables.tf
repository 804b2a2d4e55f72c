variable "name" {
  type        = string
  description = "Name stem, `<prefix>-<environment>`; resources are `<stem>-log`, `<stem>-appi`, ..."
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

variable "log_retention_days" {
  type        = number
  description = "Retention of Log Analytics and Application Insights data, in days."
  default     = 90

  validation {
    condition     = var.log_retention_days >= 30 && var.log_retention_days <= 730
    error_message = "log_retention_days must be between 30 and 730."
  }
}

variable "local_authentication_enabled" {
  type        = bool
  description = "Allow key-based (instrumentation key) ingestion; off means Entra ID authenticated telemetry only."
  default     = false
}

variable "enable_basic_alerts" {
  type        = bool
  description = "Create the server-exceptions, failed-requests and response-time alerts."
  default     = true
}

variable "alert_email_addresses" {
  type        = list(string)
  description = "E-mail receivers of the action group."

  validation {
    condition     = length(var.alert_email_addresses) > 0 && alltrue([for a in var.alert_email_addresses : can(regex("^[^@ ]+@[^@ ]+$", a))])
    error_message = "alert_email_addresses needs at least one valid e-mail address."
  }
}

variable "server_exceptions_threshold" {
  type        = number
  description = "Alert when server exceptions in 5 minutes exceed this count."
  default     = 3
}

variable "failed_requests_threshold" {
  type        = number
  description = "Alert when failed requests in 5 minutes exceed this count."
  default     = 5
}

variable "response_time_threshold" {
  type        = number
  description = "Alert when the average server response time over 5 minutes exceeds this many milliseconds."
  default     = 3000
}

variable "create_dashboard" {
  type        = bool
  description = "Create the Azure portal operations dashboard."
  default     = true
}

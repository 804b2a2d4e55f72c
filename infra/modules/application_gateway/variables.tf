variable "name" {
  type        = string
  description = "Name stem, `<prefix>-<environment>`; resources are `<stem>-agw`, `<stem>-waf`, `<stem>-agw-pip`."
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
  description = "The gateway's own subnet (nothing else may be in it)."
}

variable "zones" {
  type        = list(string)
  description = "Availability zones of the gateway and its public IP (zone redundant: all three)."
  default     = ["1", "2", "3"]

  validation {
    condition     = length(var.zones) >= 2
    error_message = "zones must list at least two availability zones (zone redundancy)."
  }
}

variable "min_capacity" {
  type        = number
  description = "Autoscale minimum instances (2 or more keeps one per zone while another zone is down)."
  default     = 2

  validation {
    condition     = var.min_capacity >= 0 && var.min_capacity <= 125
    error_message = "min_capacity must be 0-125."
  }
}

variable "max_capacity" {
  type        = number
  description = "Autoscale maximum instances."
  default     = 10

  validation {
    condition     = var.max_capacity >= 2 && var.max_capacity <= 125
    error_message = "max_capacity must be 2-125."
  }
}

variable "identity_id" {
  type        = string
  description = "User-assigned identity of the gateway: it reads the TLS certificate from Key Vault (Key Vault Secrets User)."
}

variable "certificate_secret_id" {
  type        = string
  description = "Versionless Key Vault secret ID of the TLS certificate for host_name (https://<vault>.vault.azure.net/secrets/<name>)."

  validation {
    condition     = can(regex("^https://[^/]+/secrets/[^/]+/?$", var.certificate_secret_id))
    error_message = "certificate_secret_id must be a versionless Key Vault secret ID, so renewals roll out by themselves."
  }
}

variable "host_name" {
  type        = string
  description = "Public host name of the chat (the listener's; the certificate's subject)."
}

variable "backend_fqdn" {
  type        = string
  description = "The web app's default host name, resolved to its private endpoint through the privatelink DNS zone."
}

variable "probe_path" {
  type        = string
  description = "Health probe path: public and cheap (/health/live)."
  default     = "/health/live"
}

variable "request_timeout_s" {
  type        = number
  description = "Backend request timeout in seconds: long enough for a streamed answer."
  default     = 120
}

variable "default_rule_set_version" {
  type        = string
  description = "Version of the Microsoft Default Rule Set (the OWASP CRS-based managed rules)."
  default     = "2.1"

  validation {
    condition     = contains(["2.1"], var.default_rule_set_version)
    error_message = "default_rule_set_version must be 2.1 (the provider also accepts 2.2 and OWASP 3.x; pin deliberately)."
  }
}

variable "name" {
  type        = string
  description = "Name stem, `<prefix>-<environment>`; resources are `<stem>-plan`, `<stem>-app`, `<stem>-autoscale`."
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

variable "sku_name" {
  type        = string
  description = "App Service plan SKU: P1v3 or larger in production (P1v2 minimum); B1 for a basic environment."
  default     = "P1v3"

  validation {
    condition     = can(regex("^(B[1-3]|S[1-3]|P[0-3]v[23]|P[1-5]mv3)$", var.sku_name))
    error_message = "sku_name must be a Linux plan SKU such as B1, S1, P1v2, P1v3, P2v3 or P1mv3."
  }
}

variable "worker_count" {
  type        = number
  description = "Instances of the plan; 3 or more spread over availability zones."
  default     = 3
}

variable "zone_balancing_enabled" {
  type        = bool
  description = "Spread the instances over availability zones (premium plans, 3+ instances)."
  default     = true
}

variable "autoscale" {
  type = object({
    enabled                = bool
    min_count              = optional(number, 3)
    max_count              = optional(number, 10)
    cpu_threshold          = optional(number, 70)
    scale_in_cpu_threshold = optional(number, 30)
  })
  description = "CPU autoscale of the plan: scale out above cpu_threshold %, in below scale_in_cpu_threshold %."
  default     = { enabled = true }

  validation {
    condition     = !var.autoscale.enabled || (var.autoscale.min_count >= 1 && var.autoscale.max_count >= var.autoscale.min_count && var.autoscale.scale_in_cpu_threshold < var.autoscale.cpu_threshold)
    error_message = "autoscale needs 1 <= min_count <= max_count and scale_in_cpu_threshold < cpu_threshold."
  }
}

variable "health_check_path" {
  type        = string
  description = "Path App Service probes; unhealthy instances are replaced."
  default     = "/health/ready"
}

variable "public_network_access_enabled" {
  type        = bool
  description = "Public inbound access; off means the app is reached through its private endpoint only."
  default     = false
}

variable "ip_restriction_default_action" {
  type        = string
  description = "Access-restriction default for public traffic (private-endpoint traffic is not affected): Deny, or Allow for a public basic environment."
  default     = "Deny"

  validation {
    condition     = contains(["Allow", "Deny"], var.ip_restriction_default_action)
    error_message = "ip_restriction_default_action must be Allow or Deny."
  }
}

variable "subnet_id" {
  type        = string
  description = "Subnet for regional VNet integration (delegated to Microsoft.Web/serverFarms); null for none."
  default     = null
}

variable "vnet_route_all_enabled" {
  type        = bool
  description = "Route all outbound traffic through the VNet (and its route table), not only private ranges."
  default     = true
}

variable "staging_slot_enabled" {
  type        = bool
  description = "Create the `staging` deployment slot used for blue-green swaps (Standard tier or higher)."
  default     = true
}

variable "identity_id" {
  type        = string
  description = "User-assigned managed identity of the app (resource ID)."
}

variable "identity_client_id" {
  type        = string
  description = "Client ID of identity_id (AZURE_CLIENT_ID, ACR pull)."
}

variable "entra_client_id" {
  type        = string
  description = "Client ID of the Entra ID app registration used by Easy Auth."
}

variable "unauthenticated_action" {
  type        = string
  description = "What Easy Auth does with unauthenticated requests: RedirectToLoginPage or Return401."
  default     = "RedirectToLoginPage"

  validation {
    condition     = contains(["RedirectToLoginPage", "Return401", "Return403"], var.unauthenticated_action)
    error_message = "unauthenticated_action must be RedirectToLoginPage, Return401 or Return403."
  }
}

variable "container_registry_login_server" {
  type        = string
  description = "Login server of the registry holding the image (pulled with the managed identity)."
}

variable "container_image" {
  type        = string
  description = "Image name and tag, e.g. chatref:1.2.3."
  default     = "chatref:latest"
}

variable "data_dir" {
  type        = string
  description = "CHATREF_DATA_DIR inside the container."
  default     = "/home/chatref/data"
}

variable "openai_endpoint" {
  type        = string
  description = "AZURE_OPENAI_ENDPOINT: primary Azure OpenAI endpoint."
}

variable "openai_chat_deployment" {
  type        = string
  description = "AZURE_OPENAI_CHAT_DEPLOYMENT."
}

variable "openai_api_version" {
  type        = string
  description = "AZURE_OPENAI_API_VERSION."
  default     = "2024-10-21"
}

variable "openai_embedding_deployment" {
  type        = string
  description = "AZURE_OPENAI_EMBEDDING_DEPLOYMENT."
}

variable "llm_endpoints" {
  type = list(object({
    name       = string
    endpoint   = string
    deployment = string
    priority   = number
    weight     = number
    kind       = string
  }))
  description = "Router endpoints, JSON-encoded into CHATREF_LLM_ENDPOINTS (the openai module's `endpoints` output)."

  validation {
    condition     = alltrue([for e in var.llm_endpoints : contains(["ptu", "paygo"], e.kind) && e.priority >= 1])
    error_message = "each endpoint needs kind ptu or paygo and priority >= 1."
  }
}

variable "search_endpoint" {
  type        = string
  description = "AZURE_SEARCH_ENDPOINT."
}

variable "search_index" {
  type        = string
  description = "AZURE_SEARCH_INDEX."
  default     = "chatref"
}

variable "storage_blob_endpoint" {
  type        = string
  description = "AZURE_STORAGE_BLOB_ENDPOINT."
}

variable "storage_container" {
  type        = string
  description = "AZURE_STORAGE_CONTAINER: container of the documents to ingest."
}

variable "storage_table_endpoint" {
  type        = string
  description = "AZURE_STORAGE_TABLE_ENDPOINT."
}

variable "appinsights_connection_string_secret_uri" {
  type        = string
  description = "Versionless Key Vault secret URI holding the Application Insights connection string (a Key Vault reference)."
}

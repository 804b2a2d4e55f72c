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

  validation {
    condition     = can(regex("^[0-9a-fA-F-]{36}$", var.entra_client_id))
    error_message = "entra_client_id must be the app registration's client ID (a GUID)."
  }
}

variable "unauthenticated_action" {
  type        = string
  description = "What Easy Auth does with unauthenticated requests outside api_path_prefixes and /health/live: RedirectToLoginPage (the UI) or Return401."
  default     = "RedirectToLoginPage"

  validation {
    condition     = contains(["RedirectToLoginPage", "Return401", "Return403"], var.unauthenticated_action)
    error_message = "unauthenticated_action must be RedirectToLoginPage, Return401 or Return403."
  }
}

variable "api_path_prefixes" {
  type        = list(string)
  description = "API path prefixes excluded from the sign-in redirect (as `<prefix>/*`): unauthenticated calls there reach the app, which answers 401 without a principal."
  default     = ["/api", "/v1"]

  validation {
    condition     = alltrue([for p in var.api_path_prefixes : can(regex("^/[A-Za-z0-9._~-]+$", p))])
    error_message = "api_path_prefixes must be single path segments such as /api or /v1 (no trailing slash, no wildcard)."
  }
}

variable "allowed_group_object_ids" {
  type        = list(string)
  description = "Entra ID group object IDs whose members may sign in (Easy Auth's default authorization policy); others get 403. Empty: rely on auth_required_role."
  default     = []

  validation {
    condition     = alltrue([for g in var.allowed_group_object_ids : can(regex("^[0-9a-fA-F-]{36}$", g))])
    error_message = "allowed_group_object_ids must be group object IDs (GUIDs)."
  }
}

variable "auth_required_role" {
  type        = string
  description = "CHATREF_AUTH_REQUIRED_ROLE: the app role needed to chat (403 without it; set the enterprise application's \"assignment required\" too). Empty: any signed-in member of allowed_group_object_ids."
  default     = "Chat.User"
  nullable    = false

  validation {
    # Terraform >= 1.9 lets a validation read another variable.
    condition     = var.auth_required_role != "" || length(var.allowed_group_object_ids) > 0
    error_message = "Limit who may sign in: set auth_required_role, allowed_group_object_ids, or both (issue 11 finding 13)."
  }
}

variable "auth_operator_role" {
  type        = string
  description = "CHATREF_AUTH_OPERATOR_ROLE: the app role that sees health details, metrics and API docs."
  default     = "Chat.Operator"
  nullable    = false
}

variable "allowed_hosts" {
  type        = list(string)
  description = "Public host names users reach the app by (the gateway's listener); CHATREF_ALLOWED_HOSTS adds the app's and the slot's default host names."
  default     = []
}

variable "forwarded_host_header" {
  type        = string
  description = "Header carrying the browser's host when a reverse proxy is in front (Application Gateway: X-Original-Host); Easy Auth builds redirects from it. null: no proxy."
  default     = "X-Original-Host"
}

variable "port" {
  type        = number
  description = "Port the container listens on: PORT for the app, WEBSITES_PORT for App Service."
  default     = 8000
  nullable    = false

  validation {
    condition     = var.port >= 1024 && var.port <= 65535 && floor(var.port) == var.port
    error_message = "port must be an unprivileged port, 1024-65535 (the container runs as a non-root user)."
  }
}

variable "rate_limit_per_minute" {
  type        = number
  description = "CHATREF_RATE_LIMIT_PER_MINUTE: chat turns and new conversations per user a minute."
  default     = 20
  nullable    = false
}

variable "daily_token_quota" {
  type        = number
  description = "CHATREF_DAILY_TOKEN_QUOTA: model tokens per user a day (the guide's cost control at the user level)."
  default     = 200000
  nullable    = false

  validation {
    condition     = var.daily_token_quota >= 1000
    error_message = "daily_token_quota must be at least 1000 tokens (one answer)."
  }
}

variable "retention_days" {
  type        = number
  description = "CHATREF_RETENTION_DAYS: conversations older than this many days are deleted."
  default     = 365
  nullable    = false

  validation {
    condition     = var.retention_days >= 1
    error_message = "retention_days must be 1 or more."
  }
}

variable "search_semantic" {
  type        = bool
  description = "CHATREF_SEARCH_SEMANTIC: use the AI Search semantic ranker (needs semantic_search_sku on the service)."
  default     = true
  nullable    = false
}

variable "container_registry_login_server" {
  type        = string
  description = "Login server of the registry holding the image (pulled with the managed identity)."
}

variable "container_image" {
  type        = string
  description = "The first image (name and tag, e.g. chatref:1.2.3); later images come from the release workflow, and applies ignore the deployed one."
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
  description = "AZURE_OPENAI_API_VERSION: `v1`, the GA v1 API ({endpoint}/openai/v1/, no dated version) that Azure recommends since August 2025, or a dated api-version; the gpt-5 models the openai module deploys need `v1` or 2025-04-01-preview and later."
  default     = "v1"

  validation {
    condition     = var.openai_api_version == "v1" || (can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}(-preview)?$", var.openai_api_version)) && try(tonumber(replace(substr(var.openai_api_version, 0, 10), "-", "")), 0) >= 20250401)
    error_message = "openai_api_version must be v1 or a dated api-version from 2025-04-01-preview on (older ones refuse the gpt-5 reasoning models)."
  }
}

variable "openai_embedding_deployment" {
  type        = string
  description = "AZURE_OPENAI_EMBEDDING_DEPLOYMENT."
}

variable "llm_endpoints" {
  type = list(object({
    name         = string
    endpoint     = string
    deployment   = string
    priority     = number
    weight       = number
    kind         = string
    model_family = optional(string)
  }))
  description = "Router endpoints, JSON-encoded into CHATREF_LLM_ENDPOINTS (the openai module's `endpoints` output). `model_family` (reasoning or chat) decides the request body the app sends: a reasoning model (gpt-5.x) refuses max_tokens and temperature."

  validation {
    condition     = alltrue([for e in var.llm_endpoints : contains(["ptu", "paygo"], e.kind) && e.priority >= 1])
    error_message = "each endpoint needs kind ptu or paygo and priority >= 1."
  }

  validation {
    condition     = alltrue([for e in var.llm_endpoints : e.model_family == null ? true : contains(["chat", "reasoning"], e.model_family)])
    error_message = "model_family must be chat or reasoning (or left out: the app then decides from its settings and the deployment name)."
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

variable "name" {
  type        = string
  description = "Name stem, `<prefix>-<environment>`; resources are `<stem>-cae` and `<stem>-sync-job`."
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
  description = "Subnet of the environment, delegated to Microsoft.App/environments (/27 or larger), routed through the firewall."
}

variable "zone_redundancy_enabled" {
  type        = bool
  description = "Spread the environment over availability zones."
  default     = true
}

variable "log_analytics_workspace_id" {
  type        = string
  description = "Log Analytics workspace that receives the job's console and system logs."
}

variable "identity_id" {
  type        = string
  description = "User-assigned identity of the job (resource ID): Storage Blob Data Reader, Search Index Data Contributor, AcrPull, Key Vault Secrets User."
}

variable "identity_client_id" {
  type        = string
  description = "Client ID of identity_id (AZURE_CLIENT_ID)."
}

variable "cron_expression" {
  type        = string
  description = "When the sync runs, a five-field cron expression in UTC (default: every hour at minute 15)."
  default     = "15 * * * *"

  validation {
    condition     = length(split(" ", trimspace(var.cron_expression))) == 5
    error_message = "cron_expression must have five fields: minute hour day-of-month month day-of-week."
  }
}

variable "timeout_s" {
  type        = number
  description = "A run is stopped after this many seconds (the ingest is incremental, so the next run continues)."
  default     = 3600
}

variable "retry_limit" {
  type        = number
  description = "Retries of a failed run before the execution counts as failed (the ingest-failures alert)."
  default     = 1
}

variable "cpu" {
  type        = number
  description = "vCPUs of the job's container (Consumption profile: 0.25-4, with memory 2 GiB per vCPU)."
  default     = 1
}

variable "memory" {
  type        = string
  description = "Memory of the job's container, matching cpu (e.g. 2Gi for 1 vCPU)."
  default     = "2Gi"
}

variable "container_registry_login_server" {
  type        = string
  description = "Login server of the registry (pulled with the job's identity)."
}

variable "container_image" {
  type        = string
  description = "The first image (name and tag, e.g. chatref:1.2.3, the web app's); later images come from the release workflow, and applies ignore the deployed one."
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
  description = "AZURE_STORAGE_BLOB_ENDPOINT (https://ACCOUNT.blob.core.windows.net/)."
}

variable "storage_container" {
  type        = string
  description = "AZURE_STORAGE_CONTAINER: the documents container synced into the index."
}

variable "openai_endpoint" {
  type        = string
  description = "AZURE_OPENAI_ENDPOINT of the embedding deployment."
}

variable "openai_embedding_deployment" {
  type        = string
  description = "AZURE_OPENAI_EMBEDDING_DEPLOYMENT: the embedder the index was built with."
}

variable "openai_api_version" {
  type        = string
  description = "AZURE_OPENAI_API_VERSION: `v1` (the GA v1 API, Azure's recommendation) or a dated api-version."
  default     = "v1"

  validation {
    condition     = can(regex("^(v1|[0-9]{4}-[0-9]{2}-[0-9]{2}(-preview)?)$", var.openai_api_version))
    error_message = "openai_api_version must be v1 or a dated api-version such as 2025-04-01-preview."
  }
}

variable "appinsights_connection_string_secret_uri" {
  type        = string
  description = "Versionless Key Vault secret URI of the Application Insights connection string."
}

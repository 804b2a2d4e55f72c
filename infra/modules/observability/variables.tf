variable "name" {
  type        = string
  description = "Name stem, `<prefix>-<environment>`; alerts are `<stem>-<alert>`."
}

variable "location" {
  type        = string
  description = "Azure region of the workbook and the log alerts."
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

variable "application_insights_id" {
  type        = string
  description = "The Application Insights component the app exports to (its chatref.llm.* metrics, requests)."
}

variable "log_analytics_workspace_id" {
  type        = string
  description = "The workspace that receives the diagnostic logs (Key Vault's, for certificate expiry)."
}

variable "action_group_id" {
  type        = string
  description = "Action group every alert notifies."
}

variable "search_service_id" {
  type        = string
  description = "The AI Search service (latency and throttling alerts)."
}

variable "sync_job_id" {
  type        = string
  description = "The scheduled sync job (ingest-failures alert); null when there is none."
  default     = null
}

variable "runbook_base_url" {
  type        = string
  description = "Where docs/runbooks/ is browsable (e.g. the repository's blob URL on main): alert notifications link the runbook under it."
  default     = "https://github.com/chatref/chatref/blob/main/"
}

variable "slo" {
  type = object({
    ttft_seconds             = optional(number, 2)
    throttled_percent        = optional(number, 5)
    search_latency_seconds   = optional(number, 1)
    search_throttled_percent = optional(number, 5)
  })
  description = "The SLO thresholds the alerts enforce (keep them equal to loadtest/slo.toml where both exist)."
  default     = {}
}

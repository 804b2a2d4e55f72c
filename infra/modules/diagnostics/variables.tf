variable "name" {
  type        = string
  description = "Name stem of the diagnostic settings, `<prefix>-<environment>`."
}

variable "target_resource_ids" {
  type        = map(string)
  description = "Resources to send diagnostics from, by a static key (e.g. key_vault => ID)."
}

variable "log_analytics_workspace_id" {
  type        = string
  description = "Log Analytics workspace that receives every log and metric."
}

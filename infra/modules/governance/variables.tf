variable "name" {
  type        = string
  description = "Name stem, `<prefix>-<environment>`."
}

variable "resource_group_id" {
  type        = string
  description = "Resource group the budget, policies and scope apply to."
}

variable "monthly_budget_amount" {
  type        = number
  description = "Monthly budget of the resource group, in the billing currency."

  validation {
    condition     = var.monthly_budget_amount > 0
    error_message = "monthly_budget_amount must be positive."
  }
}

variable "budget_start_date" {
  type        = string
  description = "First day of the budget, RFC 3339, first of a month (e.g. 2026-12-01T00:00:00Z)."

  validation {
    condition     = can(regex("^\\d{4}-\\d{2}-01T00:00:00Z$", var.budget_start_date))
    error_message = "budget_start_date must be the first of a month, like 2026-12-01T00:00:00Z."
  }
}

variable "budget_alert_thresholds" {
  type        = list(number)
  description = "Budget alert thresholds in percent; above 100 they alert on the forecast."
  default     = [50, 80, 100, 110]
}

variable "budget_contact_emails" {
  type        = list(string)
  description = "Who receives budget alerts."
}

variable "required_tags" {
  type        = list(string)
  description = "Tags every resource must carry (one policy assignment each)."
  default     = ["owner", "environment", "cost-center", "application"]
}

variable "require_tag_policy_definition" {
  type        = string
  description = "Built-in policy definition 'Require a tag on resources'."
  default     = "871b6d14-10aa-478d-b590-94f262ecfa99"
}

variable "deny_public_network_policy_definitions" {
  type        = map(string)
  description = "Built-in 'should disable public network access' definitions (GUIDs) by service."
  default = {
    storage   = "b2982f36-99f2-4db5-8eff-283140c09693"
    key-vault = "405c5871-3e91-4644-8a63-58e19d68ff5b"
    openai    = "0725b4dd-7e76-479c-a735-68e7ee23d5ca"
  }
}

variable "policy_enforce" {
  type        = bool
  description = "Enforce the policy assignments (deny); false only audits."
  default     = true
}

variable "locked_resource_ids" {
  type        = map(string)
  description = "Stateful resources that get a CanNotDelete lock, by a static key."
  default     = {}
}

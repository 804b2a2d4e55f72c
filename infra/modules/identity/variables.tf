variable "name" {
  type        = string
  description = "Identity name, `<prefix>-<environment>-<purpose>-id`."
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

variable "role_assignments" {
  type = map(object({
    scope = string
    role  = string
  }))
  description = "Role assignments of the identity, by a static key: built-in role name and the narrowest scope."
  default     = {}

  validation {
    condition     = alltrue([for a in values(var.role_assignments) : !contains(["Owner", "Contributor", "User Access Administrator"], a.role)])
    error_message = "role_assignments may not grant Owner, Contributor or User Access Administrator."
  }
}

variable "custom_role_assignments" {
  type = map(object({
    scope              = string
    role_definition_id = string
  }))
  description = "Role assignments of custom roles (their resource IDs, which may be known only at apply), by a static key, at the narrowest scope."
  default     = {}
}

variable "name" {
  type        = string
  description = "Name of the resource group, `<prefix>-<environment>-rg`."
}

variable "location" {
  type        = string
  description = "Azure region of the resources."
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource; must include owner, environment, cost-center and application."

  validation {
    condition     = alltrue([for k in ["owner", "environment", "cost-center", "application"] : contains(keys(var.tags), k)])
    error_message = "tags must include the keys owner, environment, cost-center and application."
  }
}

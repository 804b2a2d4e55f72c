variable "name" {
  type        = string
  description = "Name stem, `<prefix>-<environment>`; resources are `<stem>-bas`, `<stem>-bas-pip`."
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
  description = "The hub's AzureBastionSubnet."

  validation {
    condition     = endswith(var.subnet_id, "/subnets/AzureBastionSubnet")
    error_message = "subnet_id must be a subnet named AzureBastionSubnet (Azure requires the name)."
  }
}

variable "sku" {
  type        = string
  description = "Standard (native client tunnelling, scale units) or Premium (adds session recording)."
  default     = "Standard"

  validation {
    condition     = contains(["Standard", "Premium"], var.sku)
    error_message = "sku must be Standard or Premium: Basic and Developer have no native-client tunnelling."
  }
}

variable "scale_units" {
  type        = number
  description = "Bastion instances (2-50); each serves about 20 concurrent RDP or 40 SSH sessions."
  default     = 2
}

variable "zones" {
  type        = list(string)
  description = "Availability zones of the Bastion host and its public IP."
  default     = ["1", "2", "3"]
}

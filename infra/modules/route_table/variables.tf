variable "name" {
  type        = string
  description = "Name stem, `<prefix>-<environment>`; the table is `<stem>-egress-rt`."
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

variable "firewall_private_ip" {
  type        = string
  description = "Next hop of the default route: the firewall module's `private_ip_address` output."

  validation {
    condition     = can(cidrhost("${var.firewall_private_ip}/32", 0))
    error_message = "firewall_private_ip must be an IPv4 address (the firewall module's private_ip_address output)."
  }
}

variable "subnet_ids" {
  type        = map(string)
  description = "Subnets to route through the firewall, by a short key (the network module's `egress_subnet_ids`)."
}

output "budget_id" {
  description = "Resource ID of the budget."
  value       = azurerm_consumption_budget_resource_group.this.id
}

output "policy_assignment_ids" {
  description = "Policy assignment IDs."
  value = concat(
    [for a in azurerm_resource_group_policy_assignment.require_tag : a.id],
    [for a in azurerm_resource_group_policy_assignment.deny_public_network : a.id],
    [for a in azurerm_resource_group_policy_assignment.naming : a.id],
    [for a in azurerm_management_group_policy_assignment.require_tag : a.id],
    [for a in azurerm_management_group_policy_assignment.deny_public_network : a.id],
    [for a in azurerm_management_group_policy_assignment.naming : a.id],
  )
}

output "lock_ids" {
  description = "Management lock IDs by key."
  value       = { for k, l in azurerm_management_lock.this : k => l.id }
}

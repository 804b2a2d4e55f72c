output "hub_id" {
  description = "Resource ID of the AI Foundry hub, or null."
  value       = var.enabled ? azurerm_ai_foundry.this[0].id : null
}

output "project_id" {
  description = "Resource ID of the AI Foundry project, or null."
  value       = var.enabled ? azurerm_ai_foundry_project.this[0].id : null
}

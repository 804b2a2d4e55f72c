output "log_analytics_workspace_id" {
  description = "Resource ID of the Log Analytics workspace (diagnostic settings target)."
  value       = azurerm_log_analytics_workspace.this.id
}

output "application_insights_id" {
  description = "Resource ID of Application Insights."
  value       = azurerm_application_insights.this.id
}

output "application_insights_connection_string" {
  description = "Connection string for APPLICATIONINSIGHTS_CONNECTION_STRING (not a secret: ingestion needs Entra ID when local auth is off)."
  value       = azurerm_application_insights.this.connection_string
  sensitive   = true
}

output "action_group_id" {
  description = "Resource ID of the action group."
  value       = azurerm_monitor_action_group.this.id
}

output "dashboard_id" {
  description = "Resource ID of the dashboard, or null."
  value       = var.create_dashboard ? azurerm_portal_dashboard.this[0].id : null
}

output "log_analytics_workspace_guid" {
  description = "The workspace's GUID (Traffic Analytics asks for it beside the resource ID)."
  value       = azurerm_log_analytics_workspace.this.workspace_id
}

output "location" {
  description = "Region of the workspace."
  value       = azurerm_log_analytics_workspace.this.location
}

output "workbook_id" {
  description = "Resource ID of the operations workbook."
  value       = azurerm_application_insights_workbook.this.id
}

output "alert_runbooks" {
  description = "Each alert's name and the runbook it names."
  value = merge(
    { for key, alert in local.log_alerts : "${var.name}-${key}" => alert.runbook },
    { for key, alert in local.metric_alerts : "${var.name}-${key}" => alert.runbook },
  )
}

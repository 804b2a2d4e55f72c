output "id" {
  description = "Resource ID of the web app."
  value       = azurerm_linux_web_app.this.id
}

output "default_hostname" {
  description = "Default host name of the web app."
  value       = azurerm_linux_web_app.this.default_hostname
}

output "service_plan_id" {
  description = "Resource ID of the App Service plan."
  value       = azurerm_service_plan.this.id
}

output "staging_slot_id" {
  description = "Resource ID of the staging slot, or null."
  value       = var.staging_slot_enabled ? azurerm_linux_web_app_slot.staging[0].id : null
}

output "autoscale_setting_id" {
  description = "Resource ID of the autoscale setting, or null."
  value       = var.autoscale.enabled ? azurerm_monitor_autoscale_setting.this[0].id : null
}

output "app_setting_names" {
  description = "Names of the app settings the module sets (the environment-variable contract)."
  value       = sort(keys(local.app_settings))
}

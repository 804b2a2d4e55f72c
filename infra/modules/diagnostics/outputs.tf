output "ids" {
  description = "Diagnostic setting IDs by target key."
  value       = { for k, s in azurerm_monitor_diagnostic_setting.this : k => s.id }
}

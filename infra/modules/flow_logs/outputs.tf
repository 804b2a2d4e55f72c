output "ids" {
  description = "Flow log IDs by virtual network key."
  value       = { for key, log in azurerm_network_watcher_flow_log.this : key => log.id }
}

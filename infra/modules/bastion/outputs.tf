output "id" {
  description = "Resource ID of the Bastion host."
  value       = azurerm_bastion_host.this.id
}

output "dns_name" {
  description = "FQDN of the Bastion host."
  value       = azurerm_bastion_host.this.dns_name
}

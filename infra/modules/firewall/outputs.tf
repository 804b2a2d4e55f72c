output "id" {
  description = "Resource ID of the firewall."
  value       = azurerm_firewall.this.id
}

output "private_ip_address" {
  description = "The firewall's private IP: the next hop of the spokes' default route."
  value       = azurerm_firewall.this.ip_configuration[0].private_ip_address
}

output "policy_id" {
  description = "Resource ID of the firewall policy."
  value       = azurerm_firewall_policy.this.id
}

output "public_ip_address" {
  description = "The firewall's public egress address (for allow-lists elsewhere)."
  value       = azurerm_public_ip.this.ip_address
}

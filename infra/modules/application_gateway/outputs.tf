output "id" {
  description = "Resource ID of the Application Gateway."
  value       = azurerm_application_gateway.this.id
}

output "public_ip_address" {
  description = "The gateway's public IP: point the DNS record of host_name at it."
  value       = azurerm_public_ip.this.ip_address
}

output "public_ip_id" {
  description = "Resource ID of the gateway's public IP."
  value       = azurerm_public_ip.this.id
}

output "waf_policy_id" {
  description = "Resource ID of the WAF policy."
  value       = azurerm_web_application_firewall_policy.this.id
}

output "hub_vnet_id" {
  description = "Resource ID of the hub virtual network."
  value       = azurerm_virtual_network.hub.id
}

output "spoke_vnet_id" {
  description = "Resource ID of the workload (spoke) virtual network."
  value       = azurerm_virtual_network.spoke.id
}

output "app_subnet_id" {
  description = "Subnet for App Service VNet integration."
  value       = azurerm_subnet.app.id
}

output "private_endpoint_subnet_id" {
  description = "Subnet that holds the private endpoints."
  value       = azurerm_subnet.private_endpoints.id
}

output "private_endpoint_asg_id" {
  description = "Application security group of the private endpoints."
  value       = azurerm_application_security_group.private_endpoints.id
}

output "private_dns_zone_ids" {
  description = "Private DNS zone IDs by zone name."
  value       = { for name, zone in azurerm_private_dns_zone.this : name => zone.id }
}

output "network_security_group_ids" {
  description = "NSG IDs by subnet role (app, private_endpoints, hub_shared)."
  value = {
    app               = azurerm_network_security_group.app.id
    private_endpoints = azurerm_network_security_group.private_endpoints.id
    hub_shared        = azurerm_network_security_group.hub_shared.id
  }
}

output "ddos_protection_plan_id" {
  description = "DDoS protection plan ID, or null when disabled."
  value       = var.ddos_protection_enabled ? azurerm_network_ddos_protection_plan.this[0].id : null
}

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
  description = "NSG IDs by subnet role (app, private_endpoints, hub_shared, bastion, jumpbox, build_agents, gateway, jobs)."
  value = {
    app               = azurerm_network_security_group.app.id
    private_endpoints = azurerm_network_security_group.private_endpoints.id
    hub_shared        = azurerm_network_security_group.hub_shared.id
    bastion           = azurerm_network_security_group.edge["bastion"].id
    jumpbox           = azurerm_network_security_group.edge["jumpbox"].id
    build_agents      = azurerm_network_security_group.edge["build-agents"].id
    gateway           = azurerm_network_security_group.edge["gateway"].id
    jobs              = azurerm_network_security_group.edge["jobs"].id
  }
}

output "ddos_protection_plan_id" {
  description = "The DDoS protection plan attached to the VNets (created here or passed in), or null."
  value       = local.ddos_protected ? local.ddos_protection_plan_id : null
}

output "firewall_subnet_id" {
  description = "AzureFirewallSubnet in the hub."
  value       = azurerm_subnet.firewall.id
}

output "bastion_subnet_id" {
  description = "AzureBastionSubnet in the hub."
  value       = azurerm_subnet.bastion.id
}

output "jumpbox_subnet_id" {
  description = "The jump-box subnet in the hub (reached through Bastion)."
  value       = azurerm_subnet.jumpbox.id
}

output "build_agent_subnet_id" {
  description = "The build-agent subnet in the hub (self-hosted runner for plan, apply and release)."
  value       = azurerm_subnet.build_agents.id
}

output "gateway_subnet_id" {
  description = "The Application Gateway subnet in the spoke."
  value       = azurerm_subnet.gateway.id
}

output "jobs_subnet_id" {
  description = "The Container Apps environment subnet in the spoke."
  value       = azurerm_subnet.jobs.id
}

output "egress_subnet_ids" {
  description = "Subnets whose default route must go through the firewall (the gateway and Bastion subnets keep Azure's)."
  value = {
    app          = azurerm_subnet.app.id
    jobs         = azurerm_subnet.jobs.id
    jumpbox      = azurerm_subnet.jumpbox.id
    build_agents = azurerm_subnet.build_agents.id
  }
}

output "subnet_prefixes" {
  description = "Address prefixes by subnet role, for firewall rules."
  value = {
    app          = var.app_subnet_prefix
    jobs         = var.jobs_subnet_prefix
    jumpbox      = var.jumpbox_subnet_prefix
    build_agents = var.build_agent_subnet_prefix
  }
}

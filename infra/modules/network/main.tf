# Hub-spoke network for the workload. The hub holds shared egress (Azure Firewall), operator access
# (Azure Bastion, a jump-box subnet) and the build-agent subnet where the self-hosted runner plans
# and applies; the spoke holds the App Service integration subnet, the private endpoints, the
# Application Gateway and the Container Apps environment of the scheduled sync job.

# One DDoS Network Protection plan per region per subscription: pass an existing plan's ID, or ask
# for one to be created here.
resource "azurerm_network_ddos_protection_plan" "this" {
  count = var.ddos_protection_plan_create ? 1 : 0

  name                = "${var.name}-ddos"
  location            = var.location
  resource_group_name = var.resource_group_name
  tags                = var.tags
}

locals {
  ddos_protection_plan_id = var.ddos_protection_plan_create ? azurerm_network_ddos_protection_plan.this[0].id : var.ddos_protection_plan_id
  ddos_protected          = var.ddos_protection_plan_create || var.ddos_protection_plan_id != null
}

resource "azurerm_virtual_network" "hub" {
  name                = "${var.name}-hub-vnet"
  location            = var.location
  resource_group_name = var.resource_group_name
  address_space       = var.hub_address_space
  tags                = var.tags

  dynamic "ddos_protection_plan" {
    for_each = var.ddos_protection_plan_create || var.ddos_protection_plan_id != null ? [1] : []
    content {
      id     = var.ddos_protection_plan_create ? azurerm_network_ddos_protection_plan.this[0].id : var.ddos_protection_plan_id
      enable = true
    }
  }
}

resource "azurerm_virtual_network" "spoke" {
  name                = "${var.name}-spoke-vnet"
  location            = var.location
  resource_group_name = var.resource_group_name
  address_space       = var.spoke_address_space
  tags                = var.tags

  dynamic "ddos_protection_plan" {
    for_each = var.ddos_protection_plan_create || var.ddos_protection_plan_id != null ? [1] : []
    content {
      id     = var.ddos_protection_plan_create ? azurerm_network_ddos_protection_plan.this[0].id : var.ddos_protection_plan_id
      enable = true
    }
  }
}

resource "azurerm_virtual_network_peering" "hub_to_spoke" {
  name                         = "${var.name}-hub-to-spoke"
  resource_group_name          = var.resource_group_name
  virtual_network_name         = azurerm_virtual_network.hub.name
  remote_virtual_network_id    = azurerm_virtual_network.spoke.id
  allow_virtual_network_access = true
  allow_forwarded_traffic      = true
  allow_gateway_transit        = false
}

resource "azurerm_virtual_network_peering" "spoke_to_hub" {
  name                         = "${var.name}-spoke-to-hub"
  resource_group_name          = var.resource_group_name
  virtual_network_name         = azurerm_virtual_network.spoke.name
  remote_virtual_network_id    = azurerm_virtual_network.hub.id
  allow_virtual_network_access = true
  allow_forwarded_traffic      = true
  use_remote_gateways          = false
}

# ---------------------------------------------------------------- subnets

resource "azurerm_subnet" "hub_shared" {
  name                              = "${var.name}-hub-shared-snet"
  resource_group_name               = var.resource_group_name
  virtual_network_name              = azurerm_virtual_network.hub.name
  address_prefixes                  = [var.hub_shared_subnet_prefix]
  default_outbound_access_enabled   = false
  private_endpoint_network_policies = "Enabled"
}

resource "azurerm_subnet" "app" {
  name                              = "${var.name}-app-snet"
  resource_group_name               = var.resource_group_name
  virtual_network_name              = azurerm_virtual_network.spoke.name
  address_prefixes                  = [var.app_subnet_prefix]
  default_outbound_access_enabled   = false
  private_endpoint_network_policies = "Enabled"
  service_endpoints                 = var.app_subnet_service_endpoints

  delegation {
    name = "app-service"
    service_delegation {
      name    = "Microsoft.Web/serverFarms"
      actions = ["Microsoft.Network/virtualNetworks/subnets/action"]
    }
  }
}

resource "azurerm_subnet" "private_endpoints" {
  name                              = "${var.name}-pe-snet"
  resource_group_name               = var.resource_group_name
  virtual_network_name              = azurerm_virtual_network.spoke.name
  address_prefixes                  = [var.private_endpoint_subnet_prefix]
  default_outbound_access_enabled   = false
  private_endpoint_network_policies = "Enabled"
}

# Azure names these two and refuses NSGs and route tables on the firewall's.
resource "azurerm_subnet" "firewall" {
  #checkov:skip=CKV2_AZURE_31:Azure refuses a network security group on AzureFirewallSubnet; the firewall policy is its filter.
  name                 = "AzureFirewallSubnet"
  resource_group_name  = var.resource_group_name
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = [var.firewall_subnet_prefix]
}

resource "azurerm_subnet" "bastion" {
  name                 = "AzureBastionSubnet"
  resource_group_name  = var.resource_group_name
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = [var.bastion_subnet_prefix]
}

# Operators' jump boxes (reached only through Bastion) and the self-hosted build agents that run
# terraform plan/apply and the release pipeline from inside the network (issue 11 finding 5).
resource "azurerm_subnet" "jumpbox" {
  name                              = "${var.name}-jumpbox-snet"
  resource_group_name               = var.resource_group_name
  virtual_network_name              = azurerm_virtual_network.hub.name
  address_prefixes                  = [var.jumpbox_subnet_prefix]
  default_outbound_access_enabled   = false
  private_endpoint_network_policies = "Enabled"
}

resource "azurerm_subnet" "build_agents" {
  name                              = "${var.name}-build-snet"
  resource_group_name               = var.resource_group_name
  virtual_network_name              = azurerm_virtual_network.hub.name
  address_prefixes                  = [var.build_agent_subnet_prefix]
  default_outbound_access_enabled   = false
  private_endpoint_network_policies = "Enabled"
}

# The Application Gateway's own subnet (nothing else may live in it; no default route to the
# firewall: the gateway's control plane needs direct Internet access).
resource "azurerm_subnet" "gateway" {
  name                              = "${var.name}-agw-snet"
  resource_group_name               = var.resource_group_name
  virtual_network_name              = azurerm_virtual_network.spoke.name
  address_prefixes                  = [var.gateway_subnet_prefix]
  default_outbound_access_enabled   = false
  private_endpoint_network_policies = "Enabled"
}

# The Container Apps environment of the scheduled sync job (workload profiles: /27 or larger).
resource "azurerm_subnet" "jobs" {
  name                              = "${var.name}-jobs-snet"
  resource_group_name               = var.resource_group_name
  virtual_network_name              = azurerm_virtual_network.spoke.name
  address_prefixes                  = [var.jobs_subnet_prefix]
  default_outbound_access_enabled   = false
  private_endpoint_network_policies = "Enabled"

  delegation {
    name = "container-apps"
    service_delegation {
      name    = "Microsoft.App/environments"
      actions = ["Microsoft.Network/virtualNetworks/subnets/join/action"]
    }
  }
}

# ---------------------------------------------------------------- application security groups

resource "azurerm_application_security_group" "private_endpoints" {
  name                = "${var.name}-pe-asg"
  location            = var.location
  resource_group_name = var.resource_group_name
  tags                = var.tags
}

# ---------------------------------------------------------------- NSGs, one per subnet

resource "azurerm_network_security_group" "app" {
  name                = "${var.name}-app-nsg"
  location            = var.location
  resource_group_name = var.resource_group_name
  tags                = var.tags

  security_rule {
    name                                       = "allow-https-to-private-endpoints"
    priority                                   = 100
    direction                                  = "Outbound"
    access                                     = "Allow"
    protocol                                   = "Tcp"
    source_port_range                          = "*"
    destination_port_range                     = "443"
    source_address_prefix                      = var.app_subnet_prefix
    destination_application_security_group_ids = [azurerm_application_security_group.private_endpoints.id]
  }

  security_rule {
    name                       = "allow-https-to-azure-monitor"
    priority                   = 110
    direction                  = "Outbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "443"
    source_address_prefix      = var.app_subnet_prefix
    destination_address_prefix = "AzureMonitor"
  }

  security_rule {
    name                       = "allow-entra-id"
    priority                   = 120
    direction                  = "Outbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "443"
    source_address_prefix      = var.app_subnet_prefix
    destination_address_prefix = "AzureActiveDirectory"
  }

  security_rule {
    name                       = "deny-internet-outbound"
    priority                   = 4000
    direction                  = "Outbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "*"
    destination_address_prefix = "Internet"
  }
}

resource "azurerm_network_security_group" "private_endpoints" {
  name                = "${var.name}-pe-nsg"
  location            = var.location
  resource_group_name = var.resource_group_name
  tags                = var.tags

  security_rule {
    name                                       = "allow-https-from-workload"
    priority                                   = 100
    direction                                  = "Inbound"
    access                                     = "Allow"
    protocol                                   = "Tcp"
    source_port_range                          = "*"
    destination_port_range                     = "443"
    source_address_prefixes                    = [var.app_subnet_prefix, var.gateway_subnet_prefix, var.jobs_subnet_prefix]
    destination_application_security_group_ids = [azurerm_application_security_group.private_endpoints.id]
  }

  security_rule {
    name                       = "allow-https-from-trusted"
    priority                   = 110
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "443"
    source_address_prefixes    = local.trusted_address_prefixes
    destination_address_prefix = var.private_endpoint_subnet_prefix
  }

  security_rule {
    name                       = "deny-all-inbound"
    priority                   = 4000
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_group" "hub_shared" {
  name                = "${var.name}-hub-shared-nsg"
  location            = var.location
  resource_group_name = var.resource_group_name
  tags                = var.tags

  security_rule {
    name                       = "allow-spoke-inbound"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefixes    = var.spoke_address_space
    destination_address_prefix = var.hub_shared_subnet_prefix
  }

  security_rule {
    name                       = "deny-internet-inbound"
    priority                   = 4000
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "Internet"
    destination_address_prefix = "*"
  }
}

# The edge subnets' NSGs: one rule list per subnet, written as data.
locals {
  trusted_address_prefixes = distinct(concat(var.trusted_address_prefixes, [var.jumpbox_subnet_prefix, var.build_agent_subnet_prefix]))

  edge_subnet_ids = {
    bastion      = azurerm_subnet.bastion.id
    jumpbox      = azurerm_subnet.jumpbox.id
    build-agents = azurerm_subnet.build_agents.id
    gateway      = azurerm_subnet.gateway.id
    jobs         = azurerm_subnet.jobs.id
  }

  # name, priority, direction, access, ports, source, destination (prefix or service tag)
  edge_nsg_rules = {
    # The rules Azure Bastion requires (learn.microsoft.com: "Working with NSG access and Azure Bastion").
    bastion = [
      { name = "allow-https-from-internet", priority = 120, direction = "Inbound", access = "Allow", ports = ["443"], source = "Internet", destination = "*" },
      { name = "allow-gateway-manager", priority = 130, direction = "Inbound", access = "Allow", ports = ["443"], source = "GatewayManager", destination = "*" },
      { name = "allow-load-balancer", priority = 140, direction = "Inbound", access = "Allow", ports = ["443"], source = "AzureLoadBalancer", destination = "*" },
      { name = "allow-bastion-host-communication", priority = 150, direction = "Inbound", access = "Allow", ports = ["8080", "5701"], source = "VirtualNetwork", destination = "VirtualNetwork" },
      { name = "allow-ssh-rdp-to-vnet", priority = 100, direction = "Outbound", access = "Allow", ports = ["22", "3389"], source = "*", destination = "VirtualNetwork" },
      { name = "allow-azure-cloud", priority = 110, direction = "Outbound", access = "Allow", ports = ["443"], source = "*", destination = "AzureCloud" },
      { name = "allow-bastion-communication", priority = 120, direction = "Outbound", access = "Allow", ports = ["8080", "5701"], source = "VirtualNetwork", destination = "VirtualNetwork" },
      { name = "allow-session-information", priority = 130, direction = "Outbound", access = "Allow", ports = ["80"], source = "*", destination = "Internet" },
    ]
    jumpbox = [
      { name = "allow-ssh-rdp-from-bastion", priority = 100, direction = "Inbound", access = "Allow", ports = ["22", "3389"], source = var.bastion_subnet_prefix, destination = "*" },
      { name = "deny-all-inbound", priority = 4000, direction = "Inbound", access = "Deny", ports = ["*"], source = "*", destination = "*" },
      { name = "allow-https-to-vnet", priority = 100, direction = "Outbound", access = "Allow", ports = ["443"], source = "*", destination = "VirtualNetwork" },
      { name = "allow-entra-id", priority = 110, direction = "Outbound", access = "Allow", ports = ["443"], source = "*", destination = "AzureActiveDirectory" },
      { name = "deny-internet-outbound", priority = 4000, direction = "Outbound", access = "Deny", ports = ["*"], source = "*", destination = "Internet" },
    ]
    # HTTPS to the Internet leaves through the firewall, which allows only what the runner needs.
    build-agents = [
      { name = "deny-all-inbound", priority = 4000, direction = "Inbound", access = "Deny", ports = ["*"], source = "*", destination = "*" },
      { name = "allow-https-to-vnet", priority = 100, direction = "Outbound", access = "Allow", ports = ["443"], source = "*", destination = "VirtualNetwork" },
      { name = "allow-https-through-firewall", priority = 110, direction = "Outbound", access = "Allow", ports = ["443"], source = "*", destination = "Internet" },
      { name = "deny-internet-outbound", priority = 4000, direction = "Outbound", access = "Deny", ports = ["*"], source = "*", destination = "Internet" },
    ]
    # Application Gateway v2: clients on 443 (80 only to redirect), its control plane, its probes.
    gateway = [
      { name = "allow-https-from-internet", priority = 100, direction = "Inbound", access = "Allow", ports = ["443", "80"], source = "Internet", destination = "*" },
      { name = "allow-gateway-manager", priority = 110, direction = "Inbound", access = "Allow", ports = ["65200-65535"], source = "GatewayManager", destination = "*" },
      { name = "allow-load-balancer", priority = 120, direction = "Inbound", access = "Allow", ports = ["*"], source = "AzureLoadBalancer", destination = "*" },
    ]
    jobs = [
      { name = "allow-load-balancer", priority = 100, direction = "Inbound", access = "Allow", ports = ["*"], source = "AzureLoadBalancer", destination = "*" },
      { name = "deny-internet-inbound", priority = 4000, direction = "Inbound", access = "Deny", ports = ["*"], source = "Internet", destination = "*" },
      { name = "allow-https-to-vnet", priority = 100, direction = "Outbound", access = "Allow", ports = ["443"], source = "*", destination = "VirtualNetwork" },
      { name = "allow-azure-monitor", priority = 110, direction = "Outbound", access = "Allow", ports = ["443"], source = "*", destination = "AzureMonitor" },
      { name = "allow-entra-id", priority = 120, direction = "Outbound", access = "Allow", ports = ["443"], source = "*", destination = "AzureActiveDirectory" },
      { name = "allow-container-registry", priority = 130, direction = "Outbound", access = "Allow", ports = ["443"], source = "*", destination = "MicrosoftContainerRegistry" },
      { name = "allow-registry-data", priority = 140, direction = "Outbound", access = "Allow", ports = ["443"], source = "*", destination = "AzureFrontDoor.FirstParty" },
      { name = "deny-internet-outbound", priority = 4000, direction = "Outbound", access = "Deny", ports = ["*"], source = "*", destination = "Internet" },
    ]
  }
}

resource "azurerm_network_security_group" "edge" {
  for_each = local.edge_nsg_rules

  name                = "${var.name}-${each.key}-nsg"
  location            = var.location
  resource_group_name = var.resource_group_name
  tags                = var.tags

  dynamic "security_rule" {
    for_each = each.value
    content {
      name                       = security_rule.value.name
      priority                   = security_rule.value.priority
      direction                  = security_rule.value.direction
      access                     = security_rule.value.access
      protocol                   = security_rule.value.ports == ["*"] ? "*" : "Tcp"
      source_port_range          = "*"
      destination_port_ranges    = security_rule.value.ports
      source_address_prefix      = security_rule.value.source
      destination_address_prefix = security_rule.value.destination
    }
  }
}

resource "azurerm_subnet_network_security_group_association" "edge" {
  for_each = local.edge_subnet_ids

  subnet_id                 = each.value
  network_security_group_id = azurerm_network_security_group.edge[each.key].id
}

resource "azurerm_subnet_network_security_group_association" "app" {
  subnet_id                 = azurerm_subnet.app.id
  network_security_group_id = azurerm_network_security_group.app.id
}

resource "azurerm_subnet_network_security_group_association" "private_endpoints" {
  subnet_id                 = azurerm_subnet.private_endpoints.id
  network_security_group_id = azurerm_network_security_group.private_endpoints.id
}

resource "azurerm_subnet_network_security_group_association" "hub_shared" {
  subnet_id                 = azurerm_subnet.hub_shared.id
  network_security_group_id = azurerm_network_security_group.hub_shared.id
}

# The egress route table (default route to the hub firewall) is the route_table module's: it
# needs the firewall's IP, and the firewall needs this module's subnet.

# ---------------------------------------------------------------- private DNS

resource "azurerm_private_dns_zone" "this" {
  for_each = toset(var.private_dns_zones)

  name                = each.value
  resource_group_name = var.resource_group_name
  tags                = var.tags
}

resource "azurerm_private_dns_zone_virtual_network_link" "spoke" {
  for_each = azurerm_private_dns_zone.this

  name                  = "${var.name}-spoke-link"
  resource_group_name   = var.resource_group_name
  private_dns_zone_name = each.value.name
  virtual_network_id    = azurerm_virtual_network.spoke.id
  registration_enabled  = false
  tags                  = var.tags
}

resource "azurerm_private_dns_zone_virtual_network_link" "hub" {
  for_each = azurerm_private_dns_zone.this

  name                  = "${var.name}-hub-link"
  resource_group_name   = var.resource_group_name
  private_dns_zone_name = each.value.name
  virtual_network_id    = azurerm_virtual_network.hub.id
  registration_enabled  = false
  tags                  = var.tags
}

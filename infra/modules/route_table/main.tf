# The spokes' egress route table: 0.0.0.0/0 to the hub firewall's private IP, BGP routes off, on
# every subnet whose traffic must be filtered. The next hop is the firewall module's output, never
# a literal, so the route cannot point at an address where nothing exists.

resource "azurerm_route_table" "this" {
  name                          = "${var.name}-egress-rt"
  location                      = var.location
  resource_group_name           = var.resource_group_name
  bgp_route_propagation_enabled = false
  tags                          = var.tags

  route {
    name                   = "default-egress"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = var.firewall_private_ip
  }
}

resource "azurerm_subnet_route_table_association" "this" {
  for_each = var.subnet_ids

  subnet_id      = each.value
  route_table_id = azurerm_route_table.this.id
}

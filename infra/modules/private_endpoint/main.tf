# One private endpoint for one PaaS sub-resource, registered in its private DNS zone.

resource "azurerm_private_endpoint" "this" {
  name                          = var.name
  location                      = var.location
  resource_group_name           = var.resource_group_name
  subnet_id                     = var.subnet_id
  custom_network_interface_name = "${var.name}-nic"
  tags                          = var.tags

  private_service_connection {
    name                           = "${var.name}-psc"
    private_connection_resource_id = var.resource_id
    subresource_names              = [var.subresource_name]
    is_manual_connection           = false
  }

  private_dns_zone_group {
    name                 = "default"
    private_dns_zone_ids = var.private_dns_zone_ids
  }
}

resource "azurerm_private_endpoint_application_security_group_association" "this" {
  count = var.application_security_group_enabled ? 1 : 0

  private_endpoint_id           = azurerm_private_endpoint.this.id
  application_security_group_id = var.application_security_group_id
}

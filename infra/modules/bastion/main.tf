# Azure Bastion in the hub: operators reach the jump boxes (and through them the private endpoints)
# over TLS from the portal or the native client, with no public IP on any VM.

resource "azurerm_public_ip" "this" {
  name                = "${var.name}-bas-pip"
  location            = var.location
  resource_group_name = var.resource_group_name
  allocation_method   = "Static"
  sku                 = "Standard"
  zones               = var.zones
  tags                = var.tags
}

resource "azurerm_bastion_host" "this" {
  name                   = "${var.name}-bas"
  location               = var.location
  resource_group_name    = var.resource_group_name
  sku                    = var.sku
  scale_units            = var.scale_units
  zones                  = var.zones
  tunneling_enabled      = true # the native client (az network bastion ssh/rdp/tunnel)
  copy_paste_enabled     = true
  file_copy_enabled      = false
  shareable_link_enabled = false
  ip_connect_enabled     = false
  tags                   = var.tags

  ip_configuration {
    name                 = "ipconfig"
    subnet_id            = var.subnet_id
    public_ip_address_id = azurerm_public_ip.this.id
  }
}

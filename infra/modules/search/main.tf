# Azure AI Search: standard tier, replicas across zones, Entra ID only, private network only,
# semantic ranker available.

resource "azurerm_search_service" "this" {
  name                          = var.name
  location                      = var.location
  resource_group_name           = var.resource_group_name
  sku                           = var.sku
  replica_count                 = var.replica_count
  partition_count               = var.partition_count
  semantic_search_sku           = var.semantic_search_sku
  local_authentication_enabled  = var.local_authentication_enabled
  public_network_access_enabled = var.public_network_access_enabled
  network_rule_bypass_option    = "AzureServices"
  allowed_ips                   = var.trusted_ip_ranges
  tags                          = var.tags

  identity {
    type = "SystemAssigned"
  }
}

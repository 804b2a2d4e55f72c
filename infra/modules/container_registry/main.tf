# Container Registry for the web app image: premium, geo-replicated, zone redundant,
# no admin user, no anonymous pull, private network only.

resource "azurerm_container_registry" "this" {
  name                          = var.name
  location                      = var.location
  resource_group_name           = var.resource_group_name
  sku                           = var.sku
  admin_enabled                 = false
  anonymous_pull_enabled        = false
  public_network_access_enabled = var.public_network_access_enabled
  zone_redundancy_enabled       = var.zone_redundancy_enabled
  data_endpoint_enabled         = var.premium_features_enabled
  export_policy_enabled         = var.public_network_access_enabled
  quarantine_policy_enabled     = var.premium_features_enabled
  retention_policy_in_days      = var.premium_features_enabled ? var.untagged_retention_days : null
  trust_policy_enabled          = var.premium_features_enabled
  network_rule_bypass_option    = "AzureServices"
  tags                          = var.tags

  # One replica, written so static checks can see it: a for_each over a list variable stays
  # unexpanded in checkov, a `cond ? [1] : []` does not.
  dynamic "georeplications" {
    for_each = var.georeplication_location != null ? [1] : []
    content {
      location                  = var.georeplication_location
      zone_redundancy_enabled   = true
      regional_endpoint_enabled = true
      tags                      = var.tags
    }
  }
}

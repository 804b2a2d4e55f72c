# Container Registry for the web app image: premium, geo-replicated, zone redundant,
# no admin user, no anonymous pull, private network only. Images are signed with Notation in the
# release workflow and scanned by Defender for container registries (governance.defender_plans);
# Docker Content Trust and quarantine stay off (see the README).

resource "azurerm_container_registry" "this" {
  #checkov:skip=CKV_AZURE_164:Docker Content Trust (trust_policy_enabled) is refused for new registries since 2026-05-31 (ContentTrustUnsupported); images are signed with Notation as a release step instead (module README).
  #checkov:skip=CKV_AZURE_166:Quarantine leaves every pushed image unpullable until a scanner marks it; Defender for container registries scans images instead (governance.defender_plans).
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
  quarantine_policy_enabled     = false
  retention_policy_in_days      = var.premium_features_enabled ? var.untagged_retention_days : null
  trust_policy_enabled          = false
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

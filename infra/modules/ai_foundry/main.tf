# Optional AI Foundry hub and project for prompt authoring and evaluation. The chat flow itself
# runs inside the web app (the self-hosted option of the reference architecture), so this is off
# by default. azurerm 4.x models the hub as azurerm_ai_foundry and the project as
# azurerm_ai_foundry_project.

resource "azurerm_ai_foundry" "this" {
  count = var.enabled ? 1 : 0

  name                         = "${var.name}-aihub"
  location                     = var.location
  resource_group_name          = var.resource_group_name
  storage_account_id           = var.storage_account_id
  key_vault_id                 = var.key_vault_id
  application_insights_id      = var.application_insights_id
  container_registry_id        = var.container_registry_id
  public_network_access        = "Disabled"
  high_business_impact_enabled = true
  tags                         = var.tags

  identity {
    type = "SystemAssigned"
  }

  managed_network {
    isolation_mode = "AllowOnlyApprovedOutbound"
  }
}

resource "azurerm_ai_foundry_project" "this" {
  count = var.enabled ? 1 : 0

  name                         = "${var.name}-aiproj"
  location                     = var.location
  ai_services_hub_id           = azurerm_ai_foundry.this[0].id
  high_business_impact_enabled = true
  tags                         = var.tags

  identity {
    type = "SystemAssigned"
  }
}

# VNet flow logs (NSG flow logs are retired for new deployments): every flow in and out of each
# virtual network, kept in Storage and analysed by Traffic Analytics in Log Analytics. A flow log
# belongs to the region's Network Watcher, which Azure creates in NetworkWatcherRG.

resource "azurerm_network_watcher_flow_log" "this" {
  for_each = var.virtual_network_ids

  name                 = "${var.name}-${each.key}-flowlog"
  location             = var.location
  network_watcher_name = coalesce(var.network_watcher_name, "NetworkWatcher_${var.location}")
  resource_group_name  = var.network_watcher_resource_group_name
  target_resource_id   = each.value
  storage_account_id   = var.storage_account_id
  enabled              = true
  version              = 2
  tags                 = var.tags

  retention_policy {
    enabled = true
    days    = var.retention_days
  }

  traffic_analytics {
    enabled               = true
    workspace_id          = var.workspace_id
    workspace_region      = var.workspace_location
    workspace_resource_id = var.workspace_resource_id
    interval_in_minutes   = var.traffic_analytics_interval_in_minutes
  }
}

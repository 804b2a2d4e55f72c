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

# Index definitions only (`chatref index create`, or a first ingest, runs create_or_update_index):
# a custom role to assign instead of Search Service Contributor, which also reads admin keys and
# changes network and authentication settings. A custom role is assignable at resource-group scope
# at the narrowest (assign it at this service's scope); role names are unique in a tenant, so the
# service's globally unique name is part of it.
locals {
  resource_group_id = regex("^/subscriptions/[^/]+/resourceGroups/[^/]+", azurerm_search_service.this.id)
}

resource "azurerm_role_definition" "index_schema" {
  count = var.index_schema_role_enabled ? 1 : 0

  name              = "chatref index schema (${var.name})"
  scope             = local.resource_group_id
  description       = "Read, create and update the index definitions of search service ${var.name}; no documents, keys, network or authentication settings."
  assignable_scopes = [local.resource_group_id]

  permissions {
    actions = [
      "Microsoft.Search/searchServices/read",
      "Microsoft.Search/searchServices/indexes/read",
      "Microsoft.Search/searchServices/indexes/write",
    ]
    not_actions = []
  }
}

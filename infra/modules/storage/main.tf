# Storage for the documents to ingest (blob container) and the conversations (table).
# Entra ID only (no shared keys), closed network, customer-managed key, soft delete and versioning.

resource "azurerm_storage_account" "this" {
  #checkov:skip=CKV_AZURE_33:The queue service is unused, and queue_properties is deprecated in azurerm 4.x; all storage logs go to Log Analytics through diagnostic settings.
  #checkov:skip=CKV2_AZURE_33:Private endpoints (blob, table) are created by the private_endpoint module in the environment; checkov does not connect resources across for_each module instances. tests/infra asserts they exist.
  name                              = var.name
  location                          = var.location
  resource_group_name               = var.resource_group_name
  account_kind                      = "StorageV2"
  account_tier                      = "Standard"
  account_replication_type          = var.replication_type
  access_tier                       = "Hot"
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  allow_nested_items_to_be_public   = false
  cross_tenant_replication_enabled  = false
  infrastructure_encryption_enabled = true
  local_user_enabled                = false
  sftp_enabled                      = false
  public_network_access_enabled     = var.public_network_access_enabled
  table_encryption_key_type         = "Account"
  queue_encryption_key_type         = "Account"
  tags                              = var.tags

  blob_properties {
    versioning_enabled  = var.versioning_enabled
    change_feed_enabled = var.versioning_enabled

    delete_retention_policy {
      days = var.soft_delete_retention_days
    }

    container_delete_retention_policy {
      days = var.soft_delete_retention_days
    }
  }

  network_rules {
    default_action             = var.network_default_action
    bypass                     = ["AzureServices"]
    ip_rules                   = var.trusted_ip_ranges
    virtual_network_subnet_ids = var.trusted_subnet_ids
  }

  sas_policy {
    expiration_period = "01.00:00:00"
    expiration_action = "Log"
  }

  dynamic "identity" {
    for_each = var.customer_managed_key_enabled ? [1] : []
    content {
      type         = "UserAssigned"
      identity_ids = [var.customer_managed_key_identity_id]
    }
  }

  dynamic "customer_managed_key" {
    for_each = var.customer_managed_key_enabled ? [1] : []
    content {
      key_vault_key_id          = var.customer_managed_key_id
      user_assigned_identity_id = var.customer_managed_key_identity_id
    }
  }
}

resource "azurerm_storage_container" "documents" {
  #checkov:skip=CKV2_AZURE_21:Read requests are logged by the diagnostic setting on blobServices/default (StorageRead to Log Analytics); Storage Insights would need the shared key, which is disabled.
  name                  = var.documents_container_name
  storage_account_id    = azurerm_storage_account.this.id
  container_access_type = "private"
}

# The conversations table is created through the management plane (Azure Resource Manager), not
# with azurerm_storage_table, which writes through the Table service's data plane with Shared Key
# and gets 403 once shared_access_key_enabled = false (provider issue #32249). The Azure Verified
# Modules create tables the same way.
resource "azapi_resource" "conversations_table" {
  type      = "Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01"
  name      = var.conversations_table_name
  parent_id = "${azurerm_storage_account.this.id}/tableServices/default"
  body      = { properties = {} }
}

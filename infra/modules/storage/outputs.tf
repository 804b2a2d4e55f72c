output "id" {
  description = "Resource ID of the storage account."
  value       = azurerm_storage_account.this.id
}

output "name" {
  description = "Name of the storage account."
  value       = azurerm_storage_account.this.name
}

output "primary_blob_endpoint" {
  description = "Blob endpoint (AZURE_STORAGE_BLOB_ENDPOINT)."
  value       = azurerm_storage_account.this.primary_blob_endpoint
}

output "primary_table_endpoint" {
  description = "Table endpoint (AZURE_STORAGE_TABLE_ENDPOINT)."
  value       = azurerm_storage_account.this.primary_table_endpoint
}

output "documents_container_name" {
  description = "Name of the documents container (AZURE_STORAGE_CONTAINER)."
  value       = azurerm_storage_container.documents.name
}

output "conversations_table_name" {
  description = "Name of the conversations table."
  value       = azapi_resource.conversations_table.name
}

output "id" {
  description = "Resource ID of the search service."
  value       = azurerm_search_service.this.id
}

output "endpoint" {
  description = "Search endpoint (AZURE_SEARCH_ENDPOINT)."
  value       = "https://${azurerm_search_service.this.name}.search.windows.net"
}

output "principal_id" {
  description = "Principal ID of the service's system-assigned identity."
  value       = azurerm_search_service.this.identity[0].principal_id
}

output "index_schema_role_id" {
  description = "Resource ID of the index-schema custom role (null unless index_schema_role_enabled), for a role assignment scoped to this service."
  value       = one(azurerm_role_definition.index_schema[*].role_definition_resource_id)
}

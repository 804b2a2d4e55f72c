output "id" {
  description = "Resource ID of the identity."
  value       = azurerm_user_assigned_identity.this.id
}

output "client_id" {
  description = "Client ID of the identity (AZURE_CLIENT_ID)."
  value       = azurerm_user_assigned_identity.this.client_id
}

output "principal_id" {
  description = "Principal (object) ID of the identity."
  value       = azurerm_user_assigned_identity.this.principal_id
}

output "role_assignment_ids" {
  description = "Role assignment IDs by key."
  value       = { for k, r in azurerm_role_assignment.this : k => r.id }
}

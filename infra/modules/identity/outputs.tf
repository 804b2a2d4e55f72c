output "id" {
  description = "Resource ID of the identity."
  value       = azurerm_user_assigned_identity.this.id

  # consumers start only once the identity holds its roles (e.g. AcrPull before the image pull)
  depends_on = [azurerm_role_assignment.this]
}

output "client_id" {
  description = "Client ID of the identity (AZURE_CLIENT_ID)."
  value       = azurerm_user_assigned_identity.this.client_id

  # consumers start only once the identity holds its roles (e.g. AcrPull before the image pull)
  depends_on = [azurerm_role_assignment.this]
}

output "principal_id" {
  description = "Principal (object) ID of the identity."
  value       = azurerm_user_assigned_identity.this.principal_id
}

output "role_assignment_ids" {
  description = "Role assignment IDs by key."
  value       = merge({ for k, r in azurerm_role_assignment.this : k => r.id }, { for k, r in azurerm_role_assignment.custom : k => r.id })
}

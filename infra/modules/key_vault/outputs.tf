output "id" {
  description = "Resource ID of the Key Vault."
  value       = azurerm_key_vault.this.id
}

output "vault_uri" {
  description = "Vault URI, for Key Vault references (@Microsoft.KeyVault(SecretUri=...))."
  value       = azurerm_key_vault.this.vault_uri
}

output "customer_managed_key_id" {
  description = "Versionless ID of the customer-managed key (so services follow rotation), or null."
  value       = var.customer_managed_key_enabled ? azurerm_key_vault_key.cmk[0].versionless_id : null

  # services may only use the key once the identity is allowed to unwrap with it
  depends_on = [azurerm_role_assignment.cmk_crypto_user]
}

output "customer_managed_key_identity_id" {
  description = "User-assigned identity allowed to use the customer-managed key, or null."
  value       = var.customer_managed_key_enabled ? azurerm_user_assigned_identity.cmk[0].id : null

  # services may only use the key once the identity is allowed to unwrap with it
  depends_on = [azurerm_role_assignment.cmk_crypto_user]
}

output "customer_managed_key_identity_client_id" {
  description = "Client ID of the customer-managed-key identity, or null."
  value       = var.customer_managed_key_enabled ? azurerm_user_assigned_identity.cmk[0].client_id : null

  # services may only use the key once the identity is allowed to unwrap with it
  depends_on = [azurerm_role_assignment.cmk_crypto_user]
}

output "secret_uris" {
  description = "Versionless secret URIs by name, for Key Vault references in app settings."
  value       = { for name, s in azurerm_key_vault_secret.this : name => s.versionless_id }
}

output "openai_key_id" {
  description = "Versionless ID of the Azure OpenAI key (RSA 2048), or null."
  value       = var.openai_key_enabled ? azurerm_key_vault_key.openai[0].versionless_id : null
}

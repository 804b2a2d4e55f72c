output "account_ids" {
  description = "Resource IDs of the accounts by key."
  value       = { for k, a in azurerm_cognitive_account.this : k => a.id }
}

output "endpoints" {
  description = "Router endpoints (CHATREF_LLM_ENDPOINTS): name, endpoint, deployment, priority (1 first), weight, kind (ptu or paygo), model_family (reasoning for gpt-5.x and o-series, else chat). No keys."
  value       = concat(local.ptu_endpoints, local.paygo_endpoints)
}

output "primary_endpoint" {
  description = "Endpoint of the primary account (AZURE_OPENAI_ENDPOINT)."
  value       = azurerm_cognitive_account.this[var.primary_account].endpoint
}

output "chat_deployment_name" {
  description = "Name of the pay-as-you-go chat deployment (AZURE_OPENAI_CHAT_DEPLOYMENT)."
  value       = var.chat_model.deployment_name
}

output "embedding_deployment_name" {
  description = "Name of the embedding deployment (AZURE_OPENAI_EMBEDDING_DEPLOYMENT)."
  value       = var.embedding_model.deployment_name
}

output "rai_policy_names" {
  description = "Content filter (RAI policy) name per account."
  value       = { for k, p in azurerm_cognitive_account_rai_policy.this : k => p.name }
}

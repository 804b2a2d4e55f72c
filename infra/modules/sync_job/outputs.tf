output "environment_id" {
  description = "Resource ID of the Container Apps environment."
  value       = azurerm_container_app_environment.this.id
}

output "job_id" {
  description = "Resource ID of the sync job (its executions are the ingest-failures alert's signal)."
  value       = azurerm_container_app_job.sync.id
}

output "job_name" {
  description = "Name of the sync job (`az containerapp job start -n <name>` runs it now)."
  value       = azurerm_container_app_job.sync.name
}

output "setting_names" {
  description = "Names of the environment variables the job sets (contract names)."
  value       = sort(concat(keys(local.settings), ["APPLICATIONINSIGHTS_CONNECTION_STRING"]))
}

output "resource_group_name" {
  description = "Resource group of the environment."
  value       = module.resource_group.name
}

output "web_app_hostname" {
  description = "Default host name of the web app (reached through its private endpoint)."
  value       = module.app_service.default_hostname
}

output "app_setting_names" {
  description = "App settings set on the web app (the environment-variable contract)."
  value       = module.app_service.app_setting_names
}

output "llm_endpoints" {
  description = "Router endpoints given to the app as CHATREF_LLM_ENDPOINTS."
  value       = module.openai.endpoints
}

output "container_registry_login_server" {
  description = "Where CI pushes the web app image."
  value       = module.container_registry.login_server
}

output "sync_job_name" {
  description = "The document sync job (the release workflow's SYNC_JOB_NAME: it runs each release)."
  value       = module.sync_job.job_name
}

output "id" {
  description = "Resource ID of the registry."
  value       = azurerm_container_registry.this.id
}

output "login_server" {
  description = "Login server, e.g. `<name>.azurecr.io`."
  value       = azurerm_container_registry.this.login_server
}

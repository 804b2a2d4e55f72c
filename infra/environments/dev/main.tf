# Dev: the basic architecture. One instance, basic tiers, public endpoints (no VNet, no private
# endpoints), no customer-managed keys; Easy Auth, managed identity and Entra-only data access stay on.

locals {
  stem = "${var.prefix}-${var.environment}"

  tags = {
    owner       = var.owner
    environment = var.environment
    cost-center = var.cost_center
    application = "chatref"
  }

  # ---- The one place where dev opts out of the production-safe module defaults. ----
  # The basic architecture also has none of the heavy edge: no hub-spoke network, Application
  # Gateway, Azure Firewall, Bastion, DDoS plan or flow logs (the app is public behind Easy Auth).
  basic = {
    public_network_access_enabled = true    # no private endpoints in the basic architecture
    network_default_action        = "Allow" # no firewall in front of Key Vault, Storage, OpenAI
    customer_managed_key_enabled  = false   # platform-managed keys
    purge_protection_enabled      = false   # throwaway vaults can be purged
    soft_delete_retention_days    = 7
    storage_replication_type      = "LRS"
    key_vault_sku                 = "standard"
    registry_sku                  = "Basic"
    zone_redundancy_enabled       = false
    registry_premium_features     = false
    search_sku                    = "basic"
    search_replica_count          = 1
    search_partition_count        = 1
    semantic_search_sku           = "free"
    app_sku_name                  = "B1"
    app_worker_count              = 1
    zone_balancing_enabled        = false
    autoscale_enabled             = false # Basic plans do not autoscale
    staging_slot_enabled          = false # deployment slots need Standard or higher
    vnet_route_all_enabled        = false
    ip_restriction_default_action = "Allow" # the basic app is reached over the internet
    log_retention_days            = 30
    create_dashboard              = false
    forwarded_host_header         = null # no gateway in front: users reach the app directly
  }

  openai_accounts = {
    primary = { location = var.location, priority = 1, weight = 1 }
  }
}

module "resource_group" {
  source   = "../../modules/resource_group"
  name     = "${local.stem}-rg"
  location = var.location
  tags     = local.tags
}

module "app_identity" {
  source              = "../../modules/identity"
  name                = "${local.stem}-app-id"
  location            = var.location
  resource_group_name = module.resource_group.name
  tags                = local.tags
  role_assignments = {
    openai-primary = { scope = module.openai.account_ids["primary"], role = "Cognitive Services OpenAI User" }
    search         = { scope = module.search.id, role = "Search Index Data Reader" }
    documents      = { scope = "${module.storage.id}/blobServices/default/containers/${module.storage.documents_container_name}", role = "Storage Blob Data Reader" }
    conversations  = { scope = "${module.storage.id}/tableServices/default/tables/${module.storage.conversations_table_name}", role = "Storage Table Data Contributor" }
    key-vault      = { scope = module.key_vault.id, role = "Key Vault Secrets User" }
    registry       = { scope = module.container_registry.id, role = "AcrPull" }
    app-insights   = { scope = module.monitoring.application_insights_id, role = "Monitoring Metrics Publisher" }
  }
}

module "monitoring" {
  source                = "../../modules/monitoring"
  name                  = local.stem
  location              = var.location
  resource_group_name   = module.resource_group.name
  tags                  = local.tags
  log_retention_days    = local.basic.log_retention_days
  alert_email_addresses = var.alert_email_addresses
  create_dashboard      = local.basic.create_dashboard
}

module "key_vault" {
  source                        = "../../modules/key_vault"
  name                          = "${local.stem}-kv"
  location                      = var.location
  resource_group_name           = module.resource_group.name
  tags                          = local.tags
  sku_name                      = local.basic.key_vault_sku
  purge_protection_enabled      = local.basic.purge_protection_enabled
  soft_delete_retention_days    = local.basic.soft_delete_retention_days
  public_network_access_enabled = local.basic.public_network_access_enabled
  network_default_action        = local.basic.network_default_action
  customer_managed_key_enabled  = local.basic.customer_managed_key_enabled
  secret_names                  = ["appinsights-connection-string"]
  secret_values                 = { "appinsights-connection-string" = module.monitoring.application_insights_connection_string }
}

module "storage" {
  source                        = "../../modules/storage"
  name                          = "${var.prefix}${var.environment}st"
  location                      = var.location
  resource_group_name           = module.resource_group.name
  tags                          = local.tags
  replication_type              = local.basic.storage_replication_type
  public_network_access_enabled = local.basic.public_network_access_enabled
  network_default_action        = local.basic.network_default_action
  customer_managed_key_enabled  = local.basic.customer_managed_key_enabled
}

module "container_registry" {
  source                        = "../../modules/container_registry"
  name                          = "${var.prefix}${var.environment}acr"
  location                      = var.location
  resource_group_name           = module.resource_group.name
  tags                          = local.tags
  sku                           = local.basic.registry_sku
  zone_redundancy_enabled       = local.basic.zone_redundancy_enabled
  premium_features_enabled      = local.basic.registry_premium_features
  public_network_access_enabled = local.basic.public_network_access_enabled
}

module "openai" {
  source                        = "../../modules/openai"
  name                          = local.stem
  resource_group_name           = module.resource_group.name
  tags                          = local.tags
  accounts                      = local.openai_accounts
  primary_account               = "primary"
  public_network_access_enabled = local.basic.public_network_access_enabled
  network_default_action        = local.basic.network_default_action
  customer_managed_key_enabled  = local.basic.customer_managed_key_enabled
}

module "search" {
  source                        = "../../modules/search"
  name                          = "${local.stem}-search"
  location                      = var.location
  resource_group_name           = module.resource_group.name
  tags                          = local.tags
  sku                           = local.basic.search_sku
  replica_count                 = local.basic.search_replica_count
  partition_count               = local.basic.search_partition_count
  semantic_search_sku           = local.basic.semantic_search_sku
  public_network_access_enabled = local.basic.public_network_access_enabled
}

module "app_service" {
  source                                   = "../../modules/app_service"
  name                                     = local.stem
  location                                 = var.location
  resource_group_name                      = module.resource_group.name
  tags                                     = local.tags
  sku_name                                 = local.basic.app_sku_name
  worker_count                             = local.basic.app_worker_count
  zone_balancing_enabled                   = local.basic.zone_balancing_enabled
  autoscale                                = { enabled = local.basic.autoscale_enabled }
  staging_slot_enabled                     = local.basic.staging_slot_enabled
  public_network_access_enabled            = local.basic.public_network_access_enabled
  vnet_route_all_enabled                   = local.basic.vnet_route_all_enabled
  ip_restriction_default_action            = local.basic.ip_restriction_default_action
  identity_id                              = module.app_identity.id
  identity_client_id                       = module.app_identity.client_id
  entra_client_id                          = var.entra_client_id
  forwarded_host_header                    = local.basic.forwarded_host_header
  container_registry_login_server          = module.container_registry.login_server
  container_image                          = var.container_image
  openai_endpoint                          = module.openai.primary_endpoint
  openai_chat_deployment                   = module.openai.chat_deployment_name
  openai_embedding_deployment              = module.openai.embedding_deployment_name
  llm_endpoints                            = module.openai.endpoints
  search_endpoint                          = module.search.endpoint
  storage_blob_endpoint                    = module.storage.primary_blob_endpoint
  storage_container                        = module.storage.documents_container_name
  storage_table_endpoint                   = module.storage.primary_table_endpoint
  appinsights_connection_string_secret_uri = module.key_vault.secret_uris["appinsights-connection-string"]
}

module "diagnostics" {
  source                     = "../../modules/diagnostics"
  name                       = local.stem
  log_analytics_workspace_id = module.monitoring.log_analytics_workspace_id
  target_resource_ids = {
    openai-primary = module.openai.account_ids["primary"]
    key-vault      = module.key_vault.id
    storage        = module.storage.id
    search         = module.search.id
    web-app        = module.app_service.id
  }
}

module "governance" {
  source                                 = "../../modules/governance"
  name                                   = local.stem
  resource_group_id                      = module.resource_group.id
  monthly_budget_amount                  = var.monthly_budget_amount
  budget_start_date                      = var.budget_start_date
  budget_contact_emails                  = var.alert_email_addresses
  deny_public_network_policy_definitions = {} # dev uses public endpoints
  locked_resource_ids                    = {} # dev is disposable
}

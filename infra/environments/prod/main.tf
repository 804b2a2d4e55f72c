# Production: the production guide applied. Every module runs with its production-safe defaults;
# the values below are the ones the guide names, written out so reviewers and policy checks see them.

locals {
  stem = "${var.prefix}-${var.environment}"

  tags = {
    owner       = var.owner
    environment = var.environment
    cost-center = var.cost_center
    application = "chatref"
  }

  # Azure OpenAI regions: the router tries priority 1 first and fails over in order.
  openai_accounts = {
    primary   = { location = var.location, priority = 1, weight = 1 }
    secondary = { location = var.secondary_location, priority = 2, weight = 1 }
  }
}

module "resource_group" {
  source   = "../../modules/resource_group"
  name     = "${local.stem}-rg"
  location = var.location
  tags     = local.tags
}

# ------------------------------------------------------------------ network (hub-spoke)

module "network" {
  source                      = "../../modules/network"
  name                        = local.stem
  location                    = var.location
  resource_group_name         = module.resource_group.name
  tags                        = local.tags
  ddos_protection_plan_id     = var.ddos_protection_plan_id
  ddos_protection_plan_create = var.ddos_protection_plan_create
  trusted_address_prefixes    = var.operator_address_prefixes
}

module "flow_logs" {
  source                = "../../modules/flow_logs"
  name                  = local.stem
  location              = var.location
  tags                  = local.tags
  virtual_network_ids   = { hub = module.network.hub_vnet_id, spoke = module.network.spoke_vnet_id }
  storage_account_id    = module.storage.id
  retention_days        = 90
  workspace_id          = module.monitoring.log_analytics_workspace_guid
  workspace_location    = module.monitoring.location
  workspace_resource_id = module.monitoring.log_analytics_workspace_id
}

# ------------------------------------------------------------------ the edge: in, out, operators

# Egress: every spoke subnet's default route points at the firewall's private IP.
module "firewall" {
  source                      = "../../modules/firewall"
  name                        = local.stem
  location                    = var.location
  resource_group_name         = module.resource_group.name
  tags                        = local.tags
  subnet_id                   = module.network.firewall_subnet_id
  workload_source_prefixes    = [module.network.subnet_prefixes["app"]]
  jobs_source_prefixes        = [module.network.subnet_prefixes["jobs"]]
  build_agent_source_prefixes = [module.network.subnet_prefixes["build_agents"]]
}

module "route_table" {
  source              = "../../modules/route_table"
  name                = local.stem
  location            = var.location
  resource_group_name = module.resource_group.name
  tags                = local.tags
  firewall_private_ip = module.firewall.private_ip_address
  subnet_ids          = module.network.egress_subnet_ids
}

# Ingress: WAF v2 in front of the app's private endpoint; its identity reads the TLS certificate.
module "gateway_identity" {
  source              = "../../modules/identity"
  name                = "${local.stem}-agw-id"
  location            = var.location
  resource_group_name = module.resource_group.name
  tags                = local.tags
  role_assignments = {
    certificate = { scope = module.key_vault.id, role = "Key Vault Secrets User" }
  }
}

module "application_gateway" {
  source                = "../../modules/application_gateway"
  name                  = local.stem
  location              = var.location
  resource_group_name   = module.resource_group.name
  tags                  = local.tags
  subnet_id             = module.network.gateway_subnet_id
  identity_id           = module.gateway_identity.id
  certificate_secret_id = "${module.key_vault.vault_uri}secrets/${var.tls_certificate_name}"
  host_name             = var.public_host_name
  backend_fqdn          = module.app_service.default_hostname
}

# Operators: Bastion to the hub's jump boxes.
module "bastion" {
  source              = "../../modules/bastion"
  name                = local.stem
  location            = var.location
  resource_group_name = module.resource_group.name
  tags                = local.tags
  subnet_id           = module.network.bastion_subnet_id
}

# ------------------------------------------------------------------ identities

module "app_identity" {
  source              = "../../modules/identity"
  name                = "${local.stem}-app-id"
  location            = var.location
  resource_group_name = module.resource_group.name
  tags                = local.tags
  role_assignments = merge(
    { for key in keys(local.openai_accounts) : "openai-${key}" => {
      scope = module.openai.account_ids[key]
      role  = "Cognitive Services OpenAI User"
    } },
    {
      search        = { scope = module.search.id, role = "Search Index Data Reader" }
      documents     = { scope = "${module.storage.id}/blobServices/default/containers/${module.storage.documents_container_name}", role = "Storage Blob Data Reader" }
      conversations = { scope = "${module.storage.id}/tableServices/default/tables/${module.storage.conversations_table_name}", role = "Storage Table Data Contributor" }
      key-vault     = { scope = module.key_vault.id, role = "Key Vault Secrets User" }
      registry      = { scope = module.container_registry.id, role = "AcrPull" }
      app-insights  = { scope = module.monitoring.application_insights_id, role = "Monitoring Metrics Publisher" }
    },
  )
}

# ------------------------------------------------------------------ monitoring

module "monitoring" {
  source                      = "../../modules/monitoring"
  name                        = local.stem
  location                    = var.location
  resource_group_name         = module.resource_group.name
  tags                        = local.tags
  log_retention_days          = 90
  enable_basic_alerts         = true
  alert_email_addresses       = var.alert_email_addresses
  server_exceptions_threshold = 3
  failed_requests_threshold   = 5
  response_time_threshold     = 3000
  create_dashboard            = true
}

# One alert per SLO (each naming its runbook in docs/runbooks/) and the operations workbook.
module "observability" {
  source                     = "../../modules/observability"
  name                       = local.stem
  location                   = var.location
  resource_group_name        = module.resource_group.name
  tags                       = local.tags
  application_insights_id    = module.monitoring.application_insights_id
  log_analytics_workspace_id = module.monitoring.log_analytics_workspace_id
  action_group_id            = module.monitoring.action_group_id
  search_service_id          = module.search.id
  sync_job_id                = module.sync_job.job_id
}

# ------------------------------------------------------------------ data protection

module "key_vault" {
  source                        = "../../modules/key_vault"
  name                          = "${local.stem}-kv"
  location                      = var.location
  resource_group_name           = module.resource_group.name
  tags                          = local.tags
  sku_name                      = "premium"
  purge_protection_enabled      = true
  soft_delete_retention_days    = 90
  public_network_access_enabled = false
  network_default_action        = "Deny"
  trusted_ip_ranges             = var.trusted_ip_ranges
  trusted_subnet_ids            = [module.network.app_subnet_id]
  customer_managed_key_enabled  = true
  openai_key_enabled            = true
  secret_names                  = ["appinsights-connection-string"]
  secret_values                 = { "appinsights-connection-string" = module.monitoring.application_insights_connection_string }
}

# Azure OpenAI takes its customer-managed key from a vault in its own region: the secondary
# account's vault, holding only that RSA 2048 key (openai module README).
module "key_vault_secondary" {
  source                        = "../../modules/key_vault"
  name                          = "${local.stem}-kv2"
  location                      = var.secondary_location
  resource_group_name           = module.resource_group.name
  tags                          = local.tags
  sku_name                      = "premium"
  purge_protection_enabled      = true
  soft_delete_retention_days    = 90
  public_network_access_enabled = false
  network_default_action        = "Deny"
  trusted_ip_ranges             = var.trusted_ip_ranges
  customer_managed_key_enabled  = false
  openai_key_enabled            = true
}

module "storage" {
  source                           = "../../modules/storage"
  name                             = "${var.prefix}${var.environment}st"
  location                         = var.location
  resource_group_name              = module.resource_group.name
  tags                             = local.tags
  replication_type                 = "GZRS"
  public_network_access_enabled    = false
  network_default_action           = "Deny"
  trusted_ip_ranges                = var.trusted_ip_ranges
  trusted_subnet_ids               = [module.network.app_subnet_id]
  versioning_enabled               = true
  soft_delete_retention_days       = 30
  customer_managed_key_enabled     = true
  customer_managed_key_id          = module.key_vault.customer_managed_key_id
  customer_managed_key_identity_id = module.key_vault.customer_managed_key_identity_id
}

module "container_registry" {
  source                        = "../../modules/container_registry"
  name                          = "${var.prefix}${var.environment}acr"
  location                      = var.location
  resource_group_name           = module.resource_group.name
  tags                          = local.tags
  sku                           = "Premium"
  georeplication_location       = var.secondary_location
  zone_redundancy_enabled       = true
  public_network_access_enabled = false
}

# ------------------------------------------------------------------ AI services

module "openai" {
  source                             = "../../modules/openai"
  name                               = local.stem
  resource_group_name                = module.resource_group.name
  tags                               = local.tags
  accounts                           = local.openai_accounts
  primary_account                    = "primary"
  local_auth_enabled                 = false
  public_network_access_enabled      = false
  network_default_action             = "Deny"
  outbound_network_access_restricted = true
  content_filter_severity_threshold  = "Medium"
  customer_managed_key_enabled       = true
  customer_managed_keys = {
    primary   = { key_vault_id = module.key_vault.id, key_vault_key_id = module.key_vault.openai_key_id }
    secondary = { key_vault_id = module.key_vault_secondary.id, key_vault_key_id = module.key_vault_secondary.openai_key_id }
  }
  provisioned_throughput = {
    enabled  = var.provisioned_throughput_enabled
    account  = "primary"
    capacity = var.provisioned_throughput_units
  }
}

module "search" {
  source                        = "../../modules/search"
  name                          = "${local.stem}-search"
  location                      = var.location
  resource_group_name           = module.resource_group.name
  tags                          = local.tags
  sku                           = "standard"
  replica_count                 = 3
  partition_count               = 2
  semantic_search_sku           = "standard"
  local_authentication_enabled  = false
  public_network_access_enabled = false
  # The sync job's first ingest creates the index: sync_identity's search-schema assignment.
  index_schema_role_enabled = true
}

# ------------------------------------------------------------------ the web app

module "app_service" {
  source                                   = "../../modules/app_service"
  name                                     = local.stem
  location                                 = var.location
  resource_group_name                      = module.resource_group.name
  tags                                     = local.tags
  sku_name                                 = "P1v3"
  worker_count                             = 3
  zone_balancing_enabled                   = true
  autoscale                                = { enabled = true, min_count = 3, max_count = 10, cpu_threshold = 70 }
  health_check_path                        = "/health/ready"
  public_network_access_enabled            = false
  subnet_id                                = module.network.app_subnet_id
  vnet_route_all_enabled                   = true
  staging_slot_enabled                     = true
  identity_id                              = module.app_identity.id
  identity_client_id                       = module.app_identity.client_id
  entra_client_id                          = var.entra_client_id
  allowed_group_object_ids                 = var.allowed_group_object_ids
  allowed_hosts                            = [var.public_host_name]
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

# ------------------------------------------------------------------ the scheduled document sync

# Its own identity: it writes the index, which the web app only reads.
module "sync_identity" {
  source              = "../../modules/identity"
  name                = "${local.stem}-sync-id"
  location            = var.location
  resource_group_name = module.resource_group.name
  tags                = local.tags
  role_assignments = {
    documents    = { scope = "${module.storage.id}/blobServices/default/containers/${module.storage.documents_container_name}", role = "Storage Blob Data Reader" }
    search       = { scope = module.search.id, role = "Search Index Data Contributor" }
    embeddings   = { scope = module.openai.account_ids["primary"], role = "Cognitive Services OpenAI User" }
    registry     = { scope = module.container_registry.id, role = "AcrPull" }
    key-vault    = { scope = module.key_vault.id, role = "Key Vault Secrets User" }
    app-insights = { scope = module.monitoring.application_insights_id, role = "Monitoring Metrics Publisher" }
  }
  # Its first ingest creates the index: index definitions only (search module, custom role).
  custom_role_assignments = {
    search-schema = { scope = module.search.id, role_definition_id = module.search.index_schema_role_id }
  }
}

module "sync_job" {
  source                                   = "../../modules/sync_job"
  name                                     = local.stem
  location                                 = var.location
  resource_group_name                      = module.resource_group.name
  tags                                     = local.tags
  subnet_id                                = module.network.jobs_subnet_id
  log_analytics_workspace_id               = module.monitoring.log_analytics_workspace_id
  identity_id                              = module.sync_identity.id
  identity_client_id                       = module.sync_identity.client_id
  cron_expression                          = var.sync_cron_expression
  container_registry_login_server          = module.container_registry.login_server
  container_image                          = var.container_image
  search_endpoint                          = module.search.endpoint
  storage_blob_endpoint                    = module.storage.primary_blob_endpoint
  storage_container                        = module.storage.documents_container_name
  openai_endpoint                          = module.openai.primary_endpoint
  openai_embedding_deployment              = module.openai.embedding_deployment_name
  appinsights_connection_string_secret_uri = module.key_vault.secret_uris["appinsights-connection-string"]
}

# ------------------------------------------------------------------ private endpoints

locals {
  zone = module.network.private_dns_zone_ids
  private_endpoints = merge(
    { for key in keys(local.openai_accounts) : "openai-${key}" => {
      resource_id = module.openai.account_ids[key]
      subresource = "account"
      zones       = ["privatelink.openai.azure.com"]
    } },
    {
      search = { resource_id = module.search.id, subresource = "searchService", zones = ["privatelink.search.windows.net"] }
      kv     = { resource_id = module.key_vault.id, subresource = "vault", zones = ["privatelink.vaultcore.azure.net"] }
      kv2    = { resource_id = module.key_vault_secondary.id, subresource = "vault", zones = ["privatelink.vaultcore.azure.net"] }
      blob   = { resource_id = module.storage.id, subresource = "blob", zones = ["privatelink.blob.core.windows.net"] }
      table  = { resource_id = module.storage.id, subresource = "table", zones = ["privatelink.table.core.windows.net"] }
      acr    = { resource_id = module.container_registry.id, subresource = "registry", zones = ["privatelink.azurecr.io"] }
      app    = { resource_id = module.app_service.id, subresource = "sites", zones = ["privatelink.azurewebsites.net"] }
      # the staging slot's own endpoint, so a swap can be smoke-tested from inside the network
      # (the app ID read from the slot's ID, so the endpoint waits for the slot)
      app-staging = { resource_id = split("/slots/", module.app_service.staging_slot_id)[0], subresource = "sites-staging", zones = ["privatelink.azurewebsites.net"] }
    },
    # a for-filter, not `cond ? {...} : {}`: the two branches of a conditional must have one type
    { for key, pe in {
      aihub = {
        resource_id = module.ai_foundry.hub_id
        subresource = "amlworkspace"
        zones       = ["privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"]
      }
    } : key => pe if var.ai_foundry_enabled },
  )
}

module "private_endpoint" {
  source   = "../../modules/private_endpoint"
  for_each = local.private_endpoints

  name                          = "${local.stem}-${each.key}-pe"
  location                      = var.location
  resource_group_name           = module.resource_group.name
  tags                          = local.tags
  subnet_id                     = module.network.private_endpoint_subnet_id
  resource_id                   = each.value.resource_id
  subresource_name              = each.value.subresource
  private_dns_zone_ids          = [for z in each.value.zones : local.zone[z]]
  application_security_group_id = module.network.private_endpoint_asg_id
}

# ------------------------------------------------------------------ diagnostics on everything

module "diagnostics" {
  source                     = "../../modules/diagnostics"
  name                       = local.stem
  log_analytics_workspace_id = module.monitoring.log_analytics_workspace_id
  target_resource_ids = merge(
    { for key in keys(local.openai_accounts) : "openai-${key}" => module.openai.account_ids[key] },
    {
      key-vault     = module.key_vault.id
      key-vault-2   = module.key_vault_secondary.id
      storage       = module.storage.id
      storage-blob  = "${module.storage.id}/blobServices/default"
      storage-table = "${module.storage.id}/tableServices/default"
      search        = module.search.id
      registry      = module.container_registry.id
      web-app       = module.app_service.id
      web-app-slot  = module.app_service.staging_slot_id
      app-plan      = module.app_service.service_plan_id
      autoscale     = module.app_service.autoscale_setting_id
      log-analytics = module.monitoring.log_analytics_workspace_id
      app-nsg       = module.network.network_security_group_ids["app"]
      pe-nsg        = module.network.network_security_group_ids["private_endpoints"]
      hub-nsg       = module.network.network_security_group_ids["hub_shared"]
      hub-vnet      = module.network.hub_vnet_id
      spoke-vnet    = module.network.spoke_vnet_id
      firewall      = module.firewall.id
      gateway       = module.application_gateway.id
      gateway-ip    = module.application_gateway.public_ip_id
      bastion       = module.bastion.id
    },
    { for key, id in { ai-foundry = module.ai_foundry.hub_id } : key => id if var.ai_foundry_enabled },
  )
}

# ------------------------------------------------------------------ cost and governance

module "governance" {
  source                = "../../modules/governance"
  name                  = local.stem
  resource_group_id     = module.resource_group.id
  monthly_budget_amount = var.monthly_budget_amount
  budget_start_date     = var.budget_start_date
  budget_contact_emails = var.alert_email_addresses
  policy_enforce        = true
  # every name is <prefix>-<environment>-... or, without hyphens, <prefix><environment>...
  naming_patterns            = ["${local.stem}-*", "${var.prefix}${var.environment}*"]
  defender_plans             = var.defender_plans
  policy_management_group_id = var.policy_management_group_id
  locked_resource_ids = merge(
    { for key in keys(local.openai_accounts) : "openai-${key}" => module.openai.account_ids[key] },
    {
      key-vault     = module.key_vault.id
      key-vault-2   = module.key_vault_secondary.id
      storage       = module.storage.id
      search        = module.search.id
      registry      = module.container_registry.id
      log-analytics = module.monitoring.log_analytics_workspace_id
    },
  )
}

# ------------------------------------------------------------------ optional AI Foundry

module "ai_foundry" {
  source                  = "../../modules/ai_foundry"
  enabled                 = var.ai_foundry_enabled
  name                    = local.stem
  location                = var.location
  resource_group_name     = module.resource_group.name
  tags                    = local.tags
  storage_account_id      = module.storage.id
  key_vault_id            = module.key_vault.id
  application_insights_id = module.monitoring.application_insights_id
  container_registry_id   = module.container_registry.id
}

# ------------------------------------------------------------------ state moves

# The egress route table left the network module (it needs the firewall's IP).
moved {
  from = module.network.azurerm_route_table.egress
  to   = module.route_table.azurerm_route_table.this
}

moved {
  from = module.network.azurerm_subnet_route_table_association.app
  to   = module.route_table.azurerm_subnet_route_table_association.this["app"]
}

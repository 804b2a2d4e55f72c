# The scheduled document sync (issue 10): the app's own image run as an Azure Container Apps job on
# a cron schedule, `chatref ingest <blob container URL> --prune`, in a VNet-integrated environment
# with an internal load balancer. It runs as its own user-assigned identity (Storage Blob Data
# Reader on the documents container, Search Index Data Contributor on the search service, given by
# the environment) and reads the same contract settings as the web app.

resource "azurerm_container_app_environment" "this" {
  name                           = "${var.name}-cae"
  location                       = var.location
  resource_group_name            = var.resource_group_name
  infrastructure_subnet_id       = var.subnet_id
  internal_load_balancer_enabled = true
  zone_redundancy_enabled        = var.zone_redundancy_enabled
  public_network_access          = "Disabled"
  logs_destination               = "log-analytics"
  log_analytics_workspace_id     = var.log_analytics_workspace_id
  tags                           = var.tags

  # Workload profiles: the subnet may be a /27, and egress follows the subnet's route table.
  workload_profile {
    name                  = "Consumption"
    workload_profile_type = "Consumption"
  }
}

locals {
  # The contract names of ../shared/DESIGN.md (the web app sets the same ones); only what ingest
  # reads. The embedder must match the one the index was built with, so the Azure OpenAI
  # embedding settings come along.
  settings = {
    AZURE_SEARCH_ENDPOINT             = var.search_endpoint
    AZURE_SEARCH_INDEX                = var.search_index
    AZURE_STORAGE_BLOB_ENDPOINT       = var.storage_blob_endpoint
    AZURE_STORAGE_CONTAINER           = var.storage_container
    AZURE_CLIENT_ID                   = var.identity_client_id
    AZURE_OPENAI_ENDPOINT             = var.openai_endpoint
    AZURE_OPENAI_EMBEDDING_DEPLOYMENT = var.openai_embedding_deployment
    AZURE_OPENAI_API_VERSION          = var.openai_api_version
  }
  # The container URL as `chatref ingest` takes it: https://ACCOUNT.blob.core.windows.net/CONTAINER/
  source_url = "${trimsuffix(var.storage_blob_endpoint, "/")}/${var.storage_container}/"
}

resource "azurerm_container_app_job" "sync" {
  name                         = "${var.name}-sync-job"
  location                     = var.location
  resource_group_name          = var.resource_group_name
  container_app_environment_id = azurerm_container_app_environment.this.id
  workload_profile_name        = "Consumption"
  replica_timeout_in_seconds   = var.timeout_s
  replica_retry_limit          = var.retry_limit
  tags                         = var.tags

  schedule_trigger_config {
    cron_expression          = var.cron_expression
    parallelism              = 1
    replica_completion_count = 1
  }

  identity {
    type         = "UserAssigned"
    identity_ids = [var.identity_id]
  }

  registry {
    server   = var.container_registry_login_server
    identity = var.identity_id
  }

  # The Application Insights connection string, read from Key Vault with the job's identity.
  secret {
    name                = "appinsights-connection-string"
    key_vault_secret_id = var.appinsights_connection_string_secret_uri
    identity            = var.identity_id
  }

  template {
    container {
      name    = "sync"
      image   = "${var.container_registry_login_server}/${var.container_image}"
      cpu     = var.cpu
      memory  = var.memory
      command = ["chatref"]
      args    = ["ingest", local.source_url, "--prune"]

      dynamic "env" {
        for_each = local.settings
        content {
          name  = env.key
          value = env.value
        }
      }

      env {
        name        = "APPLICATIONINSIGHTS_CONNECTION_STRING"
        secret_name = "appinsights-connection-string"
      }
    }
  }

  lifecycle {
    # The release workflow points the job at each released digest once production is verified
    # (the web app's slots are released the same way); container_image is the first image only,
    # so an apply never rolls the job's code back to it.
    ignore_changes = [template[0].container[0].image]
  }
}

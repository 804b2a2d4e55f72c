# The chat web app on App Service (Linux container): zone-balanced premium plan with autoscale,
# VNet integration routing all egress through the VNet, Easy Auth (Entra ID), a user-assigned
# identity, a staging slot for blue-green swaps, and app settings named exactly as the app reads them.

data "azurerm_client_config" "current" {}

locals {
  # The environment-variable contract of docs/architecture.md: these names and no others.
  plain_app_settings = {
    CHATREF_DATA_DIR                  = var.data_dir
    AZURE_OPENAI_ENDPOINT             = var.openai_endpoint
    AZURE_OPENAI_CHAT_DEPLOYMENT      = var.openai_chat_deployment
    AZURE_OPENAI_API_VERSION          = var.openai_api_version
    CHATREF_LLM_ENDPOINTS             = jsonencode(var.llm_endpoints)
    AZURE_OPENAI_EMBEDDING_DEPLOYMENT = var.openai_embedding_deployment
    AZURE_SEARCH_ENDPOINT             = var.search_endpoint
    AZURE_SEARCH_INDEX                = var.search_index
    AZURE_STORAGE_BLOB_ENDPOINT       = var.storage_blob_endpoint
    AZURE_STORAGE_CONTAINER           = var.storage_container
    AZURE_STORAGE_TABLE_ENDPOINT      = var.storage_table_endpoint
    AZURE_CLIENT_ID                   = var.identity_client_id
    CHATREF_AUTH_MODE                 = "easyauth"
  }
  # Secrets are Key Vault references resolved by App Service with the user-assigned identity.
  app_settings = merge(local.plain_app_settings, {
    APPLICATIONINSIGHTS_CONNECTION_STRING = "@Microsoft.KeyVault(SecretUri=${var.appinsights_connection_string_secret_uri})"
  })
  tenant_auth_endpoint = "https://login.microsoftonline.com/${data.azurerm_client_config.current.tenant_id}/v2.0"
}

resource "azurerm_service_plan" "this" {
  name                   = "${var.name}-plan"
  location               = var.location
  resource_group_name    = var.resource_group_name
  os_type                = "Linux"
  sku_name               = var.sku_name
  worker_count           = var.worker_count
  zone_balancing_enabled = var.zone_balancing_enabled
  tags                   = var.tags
}

resource "azurerm_monitor_autoscale_setting" "this" {
  count = var.autoscale.enabled ? 1 : 0

  name                = "${var.name}-autoscale"
  location            = var.location
  resource_group_name = var.resource_group_name
  target_resource_id  = azurerm_service_plan.this.id
  enabled             = true
  tags                = var.tags

  profile {
    name = "cpu"

    capacity {
      default = var.autoscale.min_count
      minimum = var.autoscale.min_count
      maximum = var.autoscale.max_count
    }

    rule {
      metric_trigger {
        metric_name        = "CpuPercentage"
        metric_resource_id = azurerm_service_plan.this.id
        time_grain         = "PT1M"
        statistic          = "Average"
        time_window        = "PT5M"
        time_aggregation   = "Average"
        operator           = "GreaterThan"
        threshold          = var.autoscale.cpu_threshold
      }

      scale_action {
        direction = "Increase"
        type      = "ChangeCount"
        value     = 1
        cooldown  = "PT5M"
      }
    }

    rule {
      metric_trigger {
        metric_name        = "CpuPercentage"
        metric_resource_id = azurerm_service_plan.this.id
        time_grain         = "PT1M"
        statistic          = "Average"
        time_window        = "PT10M"
        time_aggregation   = "Average"
        operator           = "LessThan"
        threshold          = var.autoscale.scale_in_cpu_threshold
      }

      scale_action {
        direction = "Decrease"
        type      = "ChangeCount"
        value     = 1
        cooldown  = "PT10M"
      }
    }
  }
}

resource "azurerm_linux_web_app" "this" {
  #checkov:skip=CKV_AZURE_17:Users authenticate with Entra ID through Easy Auth; mutual TLS client certificates are not part of this architecture.
  #checkov:skip=CKV_AZURE_88:The design keeps no state on Azure Files: documents belong in Blob Storage, conversations in Table Storage (those app backends are not built yet; see docs/architecture.md).
  name                                           = "${var.name}-app"
  location                                       = var.location
  resource_group_name                            = var.resource_group_name
  service_plan_id                                = azurerm_service_plan.this.id
  https_only                                     = true
  public_network_access_enabled                  = var.public_network_access_enabled
  virtual_network_subnet_id                      = var.subnet_id
  ftp_publish_basic_authentication_enabled       = false
  webdeploy_publish_basic_authentication_enabled = false
  client_affinity_enabled                        = false
  vnet_image_pull_enabled                        = var.subnet_id != null
  key_vault_reference_identity_id                = var.identity_id
  app_settings                                   = local.app_settings
  tags                                           = var.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [var.identity_id]
  }

  site_config {
    always_on                                     = true
    ftps_state                                    = "Disabled"
    http2_enabled                                 = true
    minimum_tls_version                           = "1.2"
    scm_minimum_tls_version                       = "1.2"
    remote_debugging_enabled                      = false
    health_check_path                             = var.health_check_path
    health_check_eviction_time_in_min             = 5
    vnet_route_all_enabled                        = var.vnet_route_all_enabled
    container_registry_use_managed_identity       = true
    container_registry_managed_identity_client_id = var.identity_client_id
    ip_restriction_default_action                 = var.ip_restriction_default_action
    scm_ip_restriction_default_action             = "Deny"

    application_stack {
      docker_image_name   = var.container_image
      docker_registry_url = "https://${var.container_registry_login_server}"
    }
  }

  auth_settings_v2 {
    auth_enabled           = true
    require_authentication = true
    require_https          = true
    unauthenticated_action = var.unauthenticated_action
    default_provider       = "azureactivedirectory"
    excluded_paths         = ["/health/live", "/health/ready"]

    active_directory_v2 {
      client_id            = var.entra_client_id
      tenant_auth_endpoint = local.tenant_auth_endpoint
      allowed_audiences    = ["api://${var.entra_client_id}"]
    }

    login {
      token_store_enabled = false
    }
  }

  logs {
    detailed_error_messages = true
    failed_request_tracing  = true

    application_logs {
      file_system_level = "Information"
    }

    http_logs {
      file_system {
        retention_in_days = 7
        retention_in_mb   = 35
      }
    }
  }
}

resource "azurerm_linux_web_app_slot" "staging" {
  #checkov:skip=CKV_AZURE_17:Users authenticate with Entra ID through Easy Auth; mutual TLS client certificates are not part of this architecture.
  #checkov:skip=CKV_AZURE_88:The design keeps no state on Azure Files: documents belong in Blob Storage, conversations in Table Storage (those app backends are not built yet; see docs/architecture.md).
  count = var.staging_slot_enabled ? 1 : 0

  name                                           = "staging"
  app_service_id                                 = azurerm_linux_web_app.this.id
  https_only                                     = true
  public_network_access_enabled                  = var.public_network_access_enabled
  virtual_network_subnet_id                      = var.subnet_id
  ftp_publish_basic_authentication_enabled       = false
  webdeploy_publish_basic_authentication_enabled = false
  client_affinity_enabled                        = false
  vnet_image_pull_enabled                        = var.subnet_id != null
  key_vault_reference_identity_id                = var.identity_id
  app_settings                                   = local.app_settings
  tags                                           = var.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [var.identity_id]
  }

  site_config {
    always_on                                     = true
    ftps_state                                    = "Disabled"
    http2_enabled                                 = true
    minimum_tls_version                           = "1.2"
    scm_minimum_tls_version                       = "1.2"
    remote_debugging_enabled                      = false
    health_check_path                             = var.health_check_path
    health_check_eviction_time_in_min             = 5
    vnet_route_all_enabled                        = var.vnet_route_all_enabled
    container_registry_use_managed_identity       = true
    container_registry_managed_identity_client_id = var.identity_client_id
    ip_restriction_default_action                 = var.ip_restriction_default_action
    scm_ip_restriction_default_action             = "Deny"

    application_stack {
      docker_image_name   = var.container_image
      docker_registry_url = "https://${var.container_registry_login_server}"
    }
  }

  auth_settings_v2 {
    auth_enabled           = true
    require_authentication = true
    require_https          = true
    unauthenticated_action = var.unauthenticated_action
    default_provider       = "azureactivedirectory"
    excluded_paths         = ["/health/live", "/health/ready"]

    active_directory_v2 {
      client_id            = var.entra_client_id
      tenant_auth_endpoint = local.tenant_auth_endpoint
      allowed_audiences    = ["api://${var.entra_client_id}"]
    }

    login {
      token_store_enabled = false
    }
  }

  logs {
    detailed_error_messages = true
    failed_request_tracing  = true

    application_logs {
      file_system_level = "Information"
    }

    http_logs {
      file_system {
        retention_in_days = 7
        retention_in_mb   = 35
      }
    }
  }
}

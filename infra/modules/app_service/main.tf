# The chat web app on App Service (Linux container): zone-balanced premium plan with autoscale,
# VNet integration routing all egress through the VNet, Easy Auth (Entra ID) limited to an allowed
# group or app role, a user-assigned identity, a staging slot for blue-green swaps, and app settings
# named exactly as the app reads them. The app and its slot share every setting through the locals
# below: one place to change, no drift between the two.

data "azurerm_client_config" "current" {}

locals {
  tenant_id            = data.azurerm_client_config.current.tenant_id
  tenant_auth_endpoint = "https://login.microsoftonline.com/${local.tenant_id}/v2.0"
  audience             = "api://${var.entra_client_id}"

  # The environment-variable contract of ../shared/DESIGN.md: these names and no others, every
  # value a plain string (no conditionals or for-filters: the policy check reads this map).
  # Secrets are not here.
  contract_settings = {
    CHATREF_DATA_DIR                  = var.data_dir
    AZURE_OPENAI_ENDPOINT             = var.openai_endpoint
    AZURE_OPENAI_CHAT_DEPLOYMENT      = var.openai_chat_deployment
    AZURE_OPENAI_API_VERSION          = var.openai_api_version
    CHATREF_LLM_ENDPOINTS             = jsonencode(var.llm_endpoints)
    AZURE_OPENAI_EMBEDDING_DEPLOYMENT = var.openai_embedding_deployment
    AZURE_SEARCH_ENDPOINT             = var.search_endpoint
    AZURE_SEARCH_INDEX                = var.search_index
    CHATREF_SEARCH_SEMANTIC           = "${var.search_semantic}"
    AZURE_STORAGE_BLOB_ENDPOINT       = var.storage_blob_endpoint
    AZURE_STORAGE_CONTAINER           = var.storage_container
    AZURE_STORAGE_TABLE_ENDPOINT      = var.storage_table_endpoint
    AZURE_CLIENT_ID                   = var.identity_client_id
    # Easy Auth in front; the app trusts X-MS-CLIENT-PRINCIPAL only where WEBSITE_AUTH_ENABLED.
    CHATREF_AUTH_MODE              = "easyauth"
    CHATREF_AUTH_TENANT_ID         = local.tenant_id
    CHATREF_AUTH_AUDIENCE          = local.audience
    CHATREF_AUTH_OPENID_CONFIG_URL = "${local.tenant_auth_endpoint}/.well-known/openid-configuration"
    CHATREF_AUTH_REQUIRED_ROLE     = var.auth_required_role
    CHATREF_AUTH_OPERATOR_ROLE     = var.auth_operator_role
    # Comma-separated: the public host names (gateway) plus the app's and the slot's own.
    CHATREF_ALLOWED_HOSTS         = join(",", local.allowed_hosts)
    CHATREF_RATE_LIMIT_PER_MINUTE = "${var.rate_limit_per_minute}"
    CHATREF_DAILY_TOKEN_QUOTA     = "${var.daily_token_quota}"
    CHATREF_RETENTION_DAYS        = "${var.retention_days}"
    PORT                          = "${var.port}"
  }
  allowed_hosts = distinct(concat(var.allowed_hosts, [
    "${var.name}-app.azurewebsites.net", "${var.name}-app-staging.azurewebsites.net",
  ]))

  # Read by the platform, not the app: the port App Service forwards to (the container's PORT).
  platform_settings = {
    WEBSITES_PORT = "${var.port}"
  }

  # Secrets are Key Vault references resolved by App Service with the user-assigned identity.
  app_settings = merge(local.contract_settings, local.platform_settings, {
    APPLICATIONINSIGHTS_CONNECTION_STRING = "@Microsoft.KeyVault(SecretUri=${var.appinsights_connection_string_secret_uri})"
  })

  # Easy Auth: one unauthenticated action per app (the platform has no per-path action), so the
  # API prefixes are excluded from it and the app itself answers 401 there when no principal
  # came through (CHATREF_AUTH_MODE=easyauth); every other path redirects to the sign-in page.
  # Easy Auth still validates a bearer token or session cookie on excluded paths and passes the
  # principal on. /health/live stays public for the gateway's probe.
  auth_excluded_paths = concat(["/health/live"], [for prefix in var.api_path_prefixes : "${prefix}/*"])
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

  lifecycle {
    # The autoscale setting owns the instance count after creation; an apply must not scale the
    # plan back to worker_count (issue 11 finding 10). Without autoscale, change the count with
    # `az appservice plan update --number-of-workers` (see README).
    ignore_changes = [worker_count]
  }
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


# ---------------------------------------------------------------- the app and its staging slot

locals {
  # Everything the app and its slot share, written once.
  site = {
    https_only                                     = true
    public_network_access_enabled                  = var.public_network_access_enabled
    virtual_network_subnet_id                      = var.subnet_id
    ftp_publish_basic_authentication_enabled       = false
    webdeploy_publish_basic_authentication_enabled = false
    client_affinity_enabled                        = false
    vnet_image_pull_enabled                        = var.subnet_id != null
  }
  site_config = {
    always_on                         = true
    ftps_state                        = "Disabled"
    http2_enabled                     = true
    minimum_tls_version               = "1.2"
    scm_minimum_tls_version           = "1.2"
    remote_debugging_enabled          = false
    health_check_path                 = var.health_check_path
    health_check_eviction_time_in_min = 5
    vnet_route_all_enabled            = var.vnet_route_all_enabled
    ip_restriction_default_action     = var.ip_restriction_default_action
    scm_ip_restriction_default_action = "Deny"
    docker_registry_url               = "https://${var.container_registry_login_server}"
  }
  auth = {
    require_authentication = true
    unauthenticated_action = var.unauthenticated_action
    # Behind the Application Gateway the browser's host is in X-Original-Host: Easy Auth builds
    # its sign-in redirect from it (Custom convention) instead of the backend host name.
    forward_proxy_convention                = var.forwarded_host_header == null ? "NoProxy" : "Custom"
    forward_proxy_custom_host_header_name   = var.forwarded_host_header
    forward_proxy_custom_scheme_header_name = var.forwarded_host_header == null ? null : "X-Forwarded-Proto"
  }
}

resource "azurerm_linux_web_app" "this" {
  #checkov:skip=CKV_AZURE_17:Users authenticate with Entra ID through Easy Auth; mutual TLS client certificates are not part of this architecture.
  #checkov:skip=CKV_AZURE_88:The design keeps no state on Azure Files: documents belong in Blob Storage, conversations in Table Storage (see docs/architecture.md).
  name                                           = "${var.name}-app"
  location                                       = var.location
  resource_group_name                            = var.resource_group_name
  service_plan_id                                = azurerm_service_plan.this.id
  https_only                                     = local.site.https_only
  public_network_access_enabled                  = local.site.public_network_access_enabled
  virtual_network_subnet_id                      = local.site.virtual_network_subnet_id
  ftp_publish_basic_authentication_enabled       = local.site.ftp_publish_basic_authentication_enabled
  webdeploy_publish_basic_authentication_enabled = local.site.webdeploy_publish_basic_authentication_enabled
  client_affinity_enabled                        = local.site.client_affinity_enabled
  vnet_image_pull_enabled                        = local.site.vnet_image_pull_enabled
  key_vault_reference_identity_id                = var.identity_id
  app_settings                                   = local.app_settings
  tags                                           = var.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [var.identity_id]
  }

  site_config {
    always_on                                     = local.site_config.always_on
    ftps_state                                    = local.site_config.ftps_state
    http2_enabled                                 = local.site_config.http2_enabled
    minimum_tls_version                           = local.site_config.minimum_tls_version
    scm_minimum_tls_version                       = local.site_config.scm_minimum_tls_version
    remote_debugging_enabled                      = local.site_config.remote_debugging_enabled
    health_check_path                             = local.site_config.health_check_path
    health_check_eviction_time_in_min             = local.site_config.health_check_eviction_time_in_min
    vnet_route_all_enabled                        = local.site_config.vnet_route_all_enabled
    container_registry_use_managed_identity       = true
    container_registry_managed_identity_client_id = var.identity_client_id
    ip_restriction_default_action                 = local.site_config.ip_restriction_default_action
    scm_ip_restriction_default_action             = local.site_config.scm_ip_restriction_default_action

    application_stack {
      docker_image_name   = var.container_image
      docker_registry_url = local.site_config.docker_registry_url
    }
  }

  auth_settings_v2 {
    auth_enabled                            = true
    require_authentication                  = local.auth.require_authentication
    require_https                           = true
    unauthenticated_action                  = local.auth.unauthenticated_action
    default_provider                        = "azureactivedirectory"
    excluded_paths                          = local.auth_excluded_paths
    forward_proxy_convention                = local.auth.forward_proxy_convention
    forward_proxy_custom_host_header_name   = local.auth.forward_proxy_custom_host_header_name
    forward_proxy_custom_scheme_header_name = local.auth.forward_proxy_custom_scheme_header_name

    active_directory_v2 {
      client_id            = var.entra_client_id
      tenant_auth_endpoint = local.tenant_auth_endpoint
      allowed_audiences    = [local.audience, var.entra_client_id]
      allowed_groups       = var.allowed_group_object_ids
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

  lifecycle {
    # The release workflow deploys images by digest (blue-green through the staging slot);
    # container_image is the first image only, so an apply never rolls a release back.
    ignore_changes = [site_config[0].application_stack[0].docker_image_name]
  }
}

resource "azurerm_linux_web_app_slot" "staging" {
  #checkov:skip=CKV_AZURE_17:Users authenticate with Entra ID through Easy Auth; mutual TLS client certificates are not part of this architecture.
  #checkov:skip=CKV_AZURE_88:The design keeps no state on Azure Files: documents belong in Blob Storage, conversations in Table Storage (see docs/architecture.md).
  count = var.staging_slot_enabled ? 1 : 0

  name                                           = "staging"
  app_service_id                                 = azurerm_linux_web_app.this.id
  https_only                                     = local.site.https_only
  public_network_access_enabled                  = local.site.public_network_access_enabled
  virtual_network_subnet_id                      = local.site.virtual_network_subnet_id
  ftp_publish_basic_authentication_enabled       = local.site.ftp_publish_basic_authentication_enabled
  webdeploy_publish_basic_authentication_enabled = local.site.webdeploy_publish_basic_authentication_enabled
  client_affinity_enabled                        = local.site.client_affinity_enabled
  vnet_image_pull_enabled                        = local.site.vnet_image_pull_enabled
  key_vault_reference_identity_id                = var.identity_id
  app_settings                                   = local.app_settings
  tags                                           = var.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [var.identity_id]
  }

  site_config {
    always_on                                     = local.site_config.always_on
    ftps_state                                    = local.site_config.ftps_state
    http2_enabled                                 = local.site_config.http2_enabled
    minimum_tls_version                           = local.site_config.minimum_tls_version
    scm_minimum_tls_version                       = local.site_config.scm_minimum_tls_version
    remote_debugging_enabled                      = local.site_config.remote_debugging_enabled
    health_check_path                             = local.site_config.health_check_path
    health_check_eviction_time_in_min             = local.site_config.health_check_eviction_time_in_min
    vnet_route_all_enabled                        = local.site_config.vnet_route_all_enabled
    container_registry_use_managed_identity       = true
    container_registry_managed_identity_client_id = var.identity_client_id
    ip_restriction_default_action                 = local.site_config.ip_restriction_default_action
    scm_ip_restriction_default_action             = local.site_config.scm_ip_restriction_default_action

    application_stack {
      docker_image_name   = var.container_image
      docker_registry_url = local.site_config.docker_registry_url
    }
  }

  auth_settings_v2 {
    auth_enabled                            = true
    require_authentication                  = local.auth.require_authentication
    require_https                           = true
    unauthenticated_action                  = local.auth.unauthenticated_action
    default_provider                        = "azureactivedirectory"
    excluded_paths                          = local.auth_excluded_paths
    forward_proxy_convention                = local.auth.forward_proxy_convention
    forward_proxy_custom_host_header_name   = local.auth.forward_proxy_custom_host_header_name
    forward_proxy_custom_scheme_header_name = local.auth.forward_proxy_custom_scheme_header_name

    active_directory_v2 {
      client_id            = var.entra_client_id
      tenant_auth_endpoint = local.tenant_auth_endpoint
      allowed_audiences    = [local.audience, var.entra_client_id]
      allowed_groups       = var.allowed_group_object_ids
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

  lifecycle {
    # The release workflow deploys images by digest (blue-green through the staging slot);
    # container_image is the first image only, so an apply never rolls a release back.
    ignore_changes = [site_config[0].application_stack[0].docker_image_name]
  }
}

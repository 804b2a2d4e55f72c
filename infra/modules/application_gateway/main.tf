# The way in: Application Gateway WAF v2 (zone redundant, autoscaling) in front of the web app's
# private endpoint, with a WAF policy in Prevention mode (Microsoft Default Rule Set 2.1 and the
# bot manager rules), TLS from a Key Vault certificate read with the gateway's user-assigned
# identity, HTTP redirected to HTTPS, and a probe on /health/live. Its public IP sits in a
# DDoS-protected VNet.

resource "azurerm_public_ip" "this" {
  name                = "${var.name}-agw-pip"
  location            = var.location
  resource_group_name = var.resource_group_name
  allocation_method   = "Static"
  sku                 = "Standard"
  zones               = var.zones
  # The spoke VNet's DDoS Network Protection plan covers this address.
  ddos_protection_mode = "VirtualNetworkInherited"
  tags                 = var.tags
}

resource "azurerm_web_application_firewall_policy" "this" {
  #checkov:skip=CKV_AZURE_135:checkov only recognises the OWASP CRS rule sets; the Microsoft Default Rule Set 2.1 used here carries the Log4j (CVE-2021-44228) rules in its Known-CVEs group.
  name                = "${var.name}-waf"
  location            = var.location
  resource_group_name = var.resource_group_name
  tags                = var.tags

  policy_settings {
    enabled                     = true
    mode                        = "Prevention"
    request_body_check          = true
    max_request_body_size_in_kb = 128
    file_upload_limit_in_mb     = 100
  }

  managed_rules {
    managed_rule_set {
      type    = "Microsoft_DefaultRuleSet"
      version = var.default_rule_set_version
    }

    managed_rule_set {
      type    = "Microsoft_BotManagerRuleSet"
      version = "1.1"
    }
  }
}

locals {
  frontend_ip    = "public"
  https_port     = "https"
  http_port      = "http"
  backend_pool   = "app"
  backend_https  = "app-https"
  probe          = "health-live"
  https_listener = "https"
  http_listener  = "http"
  certificate    = "public"
  redirect       = "http-to-https"
}

resource "azurerm_application_gateway" "this" {
  name                = "${var.name}-agw"
  location            = var.location
  resource_group_name = var.resource_group_name
  zones               = var.zones
  firewall_policy_id  = azurerm_web_application_firewall_policy.this.id
  http2_enabled       = true
  tags                = var.tags

  sku {
    name = "WAF_v2"
    tier = "WAF_v2"
  }

  # Answers stream as server-sent events: the gateway must pass each chunk on, not buffer the
  # response.
  global {
    request_buffering_enabled  = true
    response_buffering_enabled = false
  }

  autoscale_configuration {
    min_capacity = var.min_capacity
    max_capacity = var.max_capacity
  }

  identity {
    type         = "UserAssigned"
    identity_ids = [var.identity_id]
  }

  gateway_ip_configuration {
    name      = "gateway"
    subnet_id = var.subnet_id
  }

  frontend_ip_configuration {
    name                 = local.frontend_ip
    public_ip_address_id = azurerm_public_ip.this.id
  }

  frontend_port {
    name = local.https_port
    port = 443
  }

  frontend_port {
    name = local.http_port
    port = 80
  }

  # TLS 1.2+ with the current predefined policy.
  ssl_policy {
    policy_type = "Predefined"
    policy_name = "AppGwSslPolicy20220101S"
  }

  # A versionless Key Vault secret ID: the gateway picks up renewed certificates by itself.
  ssl_certificate {
    name                = local.certificate
    key_vault_secret_id = var.certificate_secret_id
  }

  http_listener {
    name                           = local.https_listener
    frontend_ip_configuration_name = local.frontend_ip
    frontend_port_name             = local.https_port
    protocol                       = "Https"
    host_names                     = [var.host_name]
    require_sni                    = true
    ssl_certificate_name           = local.certificate
  }

  http_listener {
    name                           = local.http_listener
    frontend_ip_configuration_name = local.frontend_ip
    frontend_port_name             = local.http_port
    protocol                       = "Http"
    host_names                     = [var.host_name]
  }

  redirect_configuration {
    name                 = local.redirect
    redirect_type        = "Permanent"
    target_listener_name = local.https_listener
    include_path         = true
    include_query_string = true
  }

  backend_address_pool {
    name  = local.backend_pool
    fqdns = [var.backend_fqdn]
  }

  # HTTPS to the app's private endpoint, with the app's own host name (App Service routes on it);
  # the browser's host travels in X-Original-Host, which Easy Auth reads.
  backend_http_settings {
    name                                = local.backend_https
    protocol                            = "Https"
    port                                = 443
    cookie_based_affinity               = "Disabled"
    pick_host_name_from_backend_address = true
    request_timeout                     = var.request_timeout_s
    probe_name                          = local.probe

    connection_draining {
      enabled           = true
      drain_timeout_sec = 60
    }
  }

  probe {
    name                                      = local.probe
    protocol                                  = "Https"
    path                                      = var.probe_path
    interval                                  = 30
    timeout                                   = 10
    unhealthy_threshold                       = 3
    pick_host_name_from_backend_http_settings = true

    match {
      status_code = ["200"]
    }
  }

  request_routing_rule {
    name                       = "app"
    priority                   = 100
    rule_type                  = "Basic"
    http_listener_name         = local.https_listener
    backend_address_pool_name  = local.backend_pool
    backend_http_settings_name = local.backend_https
  }

  request_routing_rule {
    name                        = "redirect-to-https"
    priority                    = 200
    rule_type                   = "Basic"
    http_listener_name          = local.http_listener
    redirect_configuration_name = local.redirect
  }
}

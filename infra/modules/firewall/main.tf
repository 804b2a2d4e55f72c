# Azure Firewall in the hub: every workload subnet's default route points at its private IP, and
# its policy allows exactly what each subnet needs, by FQDN; everything else is denied and logged.

resource "azurerm_public_ip" "this" {
  name                = "${var.name}-afw-pip"
  location            = var.location
  resource_group_name = var.resource_group_name
  allocation_method   = "Static"
  sku                 = "Standard"
  zones               = var.zones
  tags                = var.tags
}

resource "azurerm_firewall_policy" "this" {
  name                     = "${var.name}-afwp"
  location                 = var.location
  resource_group_name      = var.resource_group_name
  sku                      = var.sku_tier
  threat_intelligence_mode = "Deny"
  tags                     = var.tags

  # FQDNs in network rules and name resolution for the spokes go through the firewall's proxy.
  dns {
    proxy_enabled = true
  }

  # Premium: signature-based intrusion detection and prevention, blocking what it detects.
  dynamic "intrusion_detection" {
    for_each = var.sku_tier == "Premium" ? [1] : []
    content {
      mode = "Deny"
    }
  }
}

resource "azurerm_firewall" "this" {
  #checkov:skip=CKV_AZURE_216:A policy-managed firewall takes its threat-intelligence mode from the firewall policy, which sets threat_intelligence_mode = "Deny"; the firewall-level argument is for classic rules.
  name                = "${var.name}-afw"
  location            = var.location
  resource_group_name = var.resource_group_name
  sku_name            = "AZFW_VNet"
  sku_tier            = var.sku_tier
  firewall_policy_id  = azurerm_firewall_policy.this.id
  zones               = var.zones
  tags                = var.tags

  ip_configuration {
    name                 = "ipconfig"
    subnet_id            = var.subnet_id
    public_ip_address_id = azurerm_public_ip.this.id
  }
}

# One rule collection per source subnet: the app and the sync job reach Entra ID and Application
# Insights ingestion (Azure OpenAI, Search, Storage, Key Vault and ACR are private endpoints, so
# they never reach the firewall); the job's environment also pulls its system images from MCR;
# only the build agents reach package registries, GitHub and Azure Resource Manager.
resource "azurerm_firewall_policy_rule_collection_group" "this" {
  name               = "${var.name}-workload-rcg"
  firewall_policy_id = azurerm_firewall_policy.this.id
  priority           = 200

  application_rule_collection {
    name     = "workload"
    priority = 200
    action   = "Allow"

    rule {
      name              = "entra-id-and-telemetry"
      source_addresses  = var.workload_source_prefixes
      destination_fqdns = concat(local.entra_id_fqdns, local.app_insights_fqdns)

      protocols {
        type = "Https"
        port = 443
      }
    }
  }

  application_rule_collection {
    name     = "jobs"
    priority = 210
    action   = "Allow"

    rule {
      name              = "entra-id-telemetry-and-mcr"
      source_addresses  = var.jobs_source_prefixes
      destination_fqdns = concat(local.entra_id_fqdns, local.app_insights_fqdns, local.mcr_fqdns)

      protocols {
        type = "Https"
        port = 443
      }
    }
  }

  application_rule_collection {
    name     = "build-agents"
    priority = 300
    action   = "Allow"

    rule {
      name              = "registries-github-and-arm"
      source_addresses  = var.build_agent_source_prefixes
      destination_fqdns = distinct(concat(local.entra_id_fqdns, ["management.azure.com"], var.build_agent_fqdns))

      protocols {
        type = "Https"
        port = 443
      }
    }
  }
}

locals {
  entra_id_fqdns = ["login.microsoftonline.com", "login.microsoft.com"]
  # The connection string's regional ingestion endpoint and live metrics.
  app_insights_fqdns = ["*.in.applicationinsights.azure.com", "*.livediagnostics.monitor.azure.com"]
  # The Container Apps environment's system images.
  mcr_fqdns = ["mcr.microsoft.com", "*.data.mcr.microsoft.com"]
}

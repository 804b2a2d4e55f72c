# Azure OpenAI in one or more regions: one account per region with chat and embedding deployments,
# an optional provisioned-throughput (PTU) chat deployment, and a content filter (RAI policy)
# attached to every deployment. Entra ID only, private network only, outbound restricted.

locals {
  ptu_enabled = var.provisioned_throughput.enabled

  # The router tries priority 1 first: the PTU deployment when there is one, then pay-as-you-go
  # accounts in their configured order.
  paygo_priority_offset = local.ptu_enabled ? 1 : 0

  content_filters = concat(
    flatten([
      for source in ["Prompt", "Completion"] : [
        for category in ["Hate", "Sexual", "Selfharm", "Violence"] : {
          name               = category
          source             = source
          severity_threshold = var.content_filter_severity_threshold
        }
      ]
    ]),
    [
      { name = "Jailbreak", source = "Prompt", severity_threshold = "High" },
      { name = "Indirect Attack", source = "Prompt", severity_threshold = "High" },
      { name = "Protected Material Text", source = "Completion", severity_threshold = "High" },
      { name = "Protected Material Code", source = "Completion", severity_threshold = "High" },
    ],
  )
}

locals {
  # Model, version and SKU combinations with the regions that offer them and their lifecycle
  # dates, each with its source: the same file chatref's policy check reads.
  model_catalogue = {
    for m in jsondecode(file("${path.module}/model-catalogue.json")).models :
    "${m.model}|${m.version}|${m.sku}" => m
  }
  deployed_models = {
    chat      = "${var.chat_model.name}|${var.chat_model.version}|${var.chat_model.sku_name}"
    embedding = "${var.embedding_model.name}|${var.embedding_model.version}|${var.embedding_model.sku_name}"
  }
}

resource "azurerm_cognitive_account" "this" {
  #checkov:skip=CKV2_AZURE_22:The customer-managed key is attached by azurerm_cognitive_account_customer_managed_key.this below (one per account); checkov does not connect the two for_each resources. tests/infra asserts it is on in prod.
  #checkov:skip=CKV_AZURE_247:Outbound access is restricted with an empty FQDN allow-list by default (no outbound calls at all), stricter than the check's demand for a non-empty list.
  for_each = var.accounts

  name                               = "${var.name}-oai-${each.key}"
  location                           = each.value.location
  resource_group_name                = var.resource_group_name
  kind                               = "OpenAI"
  sku_name                           = "S0"
  custom_subdomain_name              = "${var.name}-oai-${each.key}"
  local_auth_enabled                 = var.local_auth_enabled
  public_network_access_enabled      = var.public_network_access_enabled
  outbound_network_access_restricted = var.outbound_network_access_restricted
  fqdns                              = var.allowed_outbound_fqdns
  tags                               = var.tags

  network_acls {
    default_action = var.network_default_action
    bypass         = "AzureServices"
    ip_rules       = var.trusted_ip_ranges
  }

  # Azure OpenAI unwraps a customer-managed key with its system-assigned identity only.
  identity {
    type = "SystemAssigned"
  }
}

# Customer-managed keys, one way only: this resource, never the account's inline
# customer_managed_key block (optional, not computed: with both set, the key flips on every
# apply). One key per account, in a vault in that account's region (the secondary account has its
# own vault), RSA 2048: the three rules Azure OpenAI sets. Policy rule CKV_CHATREF_071 holds it.
resource "azurerm_role_assignment" "cmk" {
  for_each = var.customer_managed_key_enabled ? var.accounts : {}

  scope                = var.customer_managed_keys[each.key].key_vault_id
  role_definition_name = "Key Vault Crypto Service Encryption User"
  principal_id         = azurerm_cognitive_account.this[each.key].identity[0].principal_id
  principal_type       = "ServicePrincipal"
}

# Role assignments reach Key Vault's data plane late: wait before the account first unwraps.
resource "time_sleep" "cmk_role_propagation" {
  count = var.customer_managed_key_enabled ? 1 : 0

  create_duration = var.role_propagation_wait
  triggers        = { roles = join(",", [for r in azurerm_role_assignment.cmk : r.id]) }
}

resource "azurerm_cognitive_account_customer_managed_key" "this" {
  for_each = var.customer_managed_key_enabled ? var.accounts : {}

  cognitive_account_id = azurerm_cognitive_account.this[each.key].id
  key_vault_key_id     = var.customer_managed_keys[each.key].key_vault_key_id

  depends_on = [time_sleep.cmk_role_propagation]
}

resource "azurerm_cognitive_account_rai_policy" "this" {
  for_each = var.accounts

  name                 = "${var.name}-content-filter"
  cognitive_account_id = azurerm_cognitive_account.this[each.key].id
  base_policy_name     = "Microsoft.DefaultV2"
  mode                 = "Blocking"
  tags                 = var.tags

  dynamic "content_filter" {
    for_each = local.content_filters
    content {
      name               = content_filter.value.name
      source             = content_filter.value.source
      severity_threshold = content_filter.value.severity_threshold
      filter_enabled     = true
      block_enabled      = true
    }
  }
}

resource "azurerm_cognitive_deployment" "chat" {
  for_each = var.accounts

  name                   = var.chat_model.deployment_name
  cognitive_account_id   = azurerm_cognitive_account.this[each.key].id
  rai_policy_name        = azurerm_cognitive_account_rai_policy.this[each.key].name
  version_upgrade_option = var.version_upgrade_option

  lifecycle {
    precondition {
      condition     = contains(try(local.model_catalogue[local.deployed_models.chat].regions, []), each.value.location)
      error_message = "${local.deployed_models.chat} is not offered in ${each.value.location} according to model-catalogue.json (model|version|SKU): pick a listed combination, or add one with its source."
    }
    precondition {
      condition     = timecmp(plantimestamp(), "${coalesce(try(local.model_catalogue[local.deployed_models.chat].retirement, null), "9999-12-31")}T00:00:00Z") < 0
      error_message = "${local.deployed_models.chat} is retired according to model-catalogue.json: deploy its replacement."
    }
  }

  model {
    format  = "OpenAI"
    name    = var.chat_model.name
    version = var.chat_model.version
  }

  sku {
    name     = var.chat_model.sku_name
    capacity = var.chat_model.capacity
  }
}

resource "azurerm_cognitive_deployment" "embedding" {
  for_each = var.accounts

  name                   = var.embedding_model.deployment_name
  cognitive_account_id   = azurerm_cognitive_account.this[each.key].id
  rai_policy_name        = azurerm_cognitive_account_rai_policy.this[each.key].name
  version_upgrade_option = var.version_upgrade_option

  lifecycle {
    precondition {
      condition     = contains(try(local.model_catalogue[local.deployed_models.embedding].regions, []), each.value.location)
      error_message = "${local.deployed_models.embedding} is not offered in ${each.value.location} according to model-catalogue.json (model|version|SKU): pick a listed combination, or add one with its source."
    }
    precondition {
      condition     = timecmp(plantimestamp(), "${coalesce(try(local.model_catalogue[local.deployed_models.embedding].retirement, null), "9999-12-31")}T00:00:00Z") < 0
      error_message = "${local.deployed_models.embedding} is retired according to model-catalogue.json: deploy its replacement."
    }
  }

  model {
    format  = "OpenAI"
    name    = var.embedding_model.name
    version = var.embedding_model.version
  }

  sku {
    name     = var.embedding_model.sku_name
    capacity = var.embedding_model.capacity
  }
}

resource "azurerm_cognitive_deployment" "provisioned" {
  count = local.ptu_enabled ? 1 : 0

  name                   = "${var.chat_model.deployment_name}-ptu"
  cognitive_account_id   = azurerm_cognitive_account.this[var.provisioned_throughput.account].id
  rai_policy_name        = azurerm_cognitive_account_rai_policy.this[var.provisioned_throughput.account].name
  version_upgrade_option = "NoAutoUpgrade" # a PTU reservation is for one model version: change it deliberately

  model {
    format  = "OpenAI"
    name    = var.chat_model.name
    version = var.chat_model.version
  }

  sku {
    name     = "ProvisionedManaged"
    capacity = var.provisioned_throughput.capacity
  }
}

locals {
  paygo_endpoints = [
    for key, account in var.accounts : {
      name         = key
      endpoint     = azurerm_cognitive_account.this[key].endpoint
      deployment   = azurerm_cognitive_deployment.chat[key].name
      priority     = account.priority + local.paygo_priority_offset
      weight       = account.weight
      kind         = "paygo"
      model_family = var.chat_model_family
    }
  ]
  ptu_endpoints = [
    for deployment in azurerm_cognitive_deployment.provisioned : {
      name         = "${var.provisioned_throughput.account}-ptu"
      endpoint     = azurerm_cognitive_account.this[var.provisioned_throughput.account].endpoint
      deployment   = deployment.name
      priority     = 1
      weight       = 1
      kind         = "ptu"
      model_family = var.chat_model_family
    }
  ]
}

# Key Vault for the workload's secrets and customer-managed keys: premium (HSM-backed keys),
# RBAC authorization, purge protection, 90-day soft delete, closed network.

data "azurerm_client_config" "current" {}

resource "azurerm_key_vault" "this" {
  #checkov:skip=CKV2_AZURE_32:The private endpoint (vault) is created by the private_endpoint module in the environment; checkov does not connect resources across for_each module instances. tests/infra asserts it exists.
  name                          = var.name
  location                      = var.location
  resource_group_name           = var.resource_group_name
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  sku_name                      = var.sku_name
  rbac_authorization_enabled    = true
  purge_protection_enabled      = var.purge_protection_enabled
  soft_delete_retention_days    = var.soft_delete_retention_days
  public_network_access_enabled = var.public_network_access_enabled
  tags                          = var.tags

  network_acls {
    bypass                     = "AzureServices"
    default_action             = var.network_default_action
    ip_rules                   = var.trusted_ip_ranges
    virtual_network_subnet_ids = var.trusted_subnet_ids
  }
}

# The identity running Terraform manages keys (it creates the customer-managed key below).
resource "azurerm_role_assignment" "deployer_crypto_officer" {
  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Crypto Officer"
  principal_id         = data.azurerm_client_config.current.object_id
}

# The identity that services (Storage, OpenAI) use to wrap and unwrap with the key, and only that.
resource "azurerm_user_assigned_identity" "cmk" {
  count = var.customer_managed_key_enabled ? 1 : 0

  name                = "${var.name}-cmk-id"
  location            = var.location
  resource_group_name = var.resource_group_name
  tags                = var.tags
}

resource "azurerm_role_assignment" "cmk_crypto_user" {
  count = var.customer_managed_key_enabled ? 1 : 0

  scope                            = azurerm_key_vault.this.id
  role_definition_name             = "Key Vault Crypto Service Encryption User"
  principal_id                     = azurerm_user_assigned_identity.cmk[0].principal_id
  principal_type                   = "ServicePrincipal"
  skip_service_principal_aad_check = true
}

# Role assignments take minutes to reach Key Vault's data plane; writing a key or a secret right
# after granting the role fails with 403 now and then. Wait once, after every grant, before any
# data-plane write (the Azure Verified Modules do the same with time_sleep).
resource "time_sleep" "role_propagation" {
  create_duration = var.role_propagation_wait

  triggers = {
    roles = join(",", concat(
      [azurerm_role_assignment.deployer_crypto_officer.id],
      azurerm_role_assignment.cmk_crypto_user[*].id,
      azurerm_role_assignment.deployer_secrets_officer[*].id,
    ))
  }
}

resource "azurerm_key_vault_key" "cmk" {
  count = var.customer_managed_key_enabled ? 1 : 0

  name            = "${var.name}-cmk"
  key_vault_id    = azurerm_key_vault.this.id
  key_type        = "RSA-HSM"
  key_size        = 3072
  key_opts        = ["wrapKey", "unwrapKey"]
  expiration_date = var.key_expiration_date
  tags            = var.tags

  rotation_policy {
    expire_after         = "P2Y"
    notify_before_expiry = "P30D"

    automatic {
      time_before_expiry = "P60D"
    }
  }

  depends_on = [time_sleep.role_propagation]
}

# Azure OpenAI accepts RSA 2048 keys only, from a vault in the account's own region, unwrapped
# by the account's system-assigned identity (granted by the openai module): a key of its own.
resource "azurerm_key_vault_key" "openai" {
  count = var.openai_key_enabled ? 1 : 0

  name            = "${var.name}-openai-cmk"
  key_vault_id    = azurerm_key_vault.this.id
  key_type        = var.sku_name == "premium" ? "RSA-HSM" : "RSA"
  key_size        = 2048
  key_opts        = ["wrapKey", "unwrapKey"]
  expiration_date = var.key_expiration_date
  tags            = var.tags

  rotation_policy {
    expire_after         = "P2Y"
    notify_before_expiry = "P30D"

    automatic {
      time_before_expiry = "P60D"
    }
  }

  depends_on = [time_sleep.role_propagation]
}

# The identity running Terraform writes the secrets below (values come from other modules).
resource "azurerm_role_assignment" "deployer_secrets_officer" {
  count = length(var.secret_names) > 0 ? 1 : 0

  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Secrets Officer"
  principal_id         = data.azurerm_client_config.current.object_id
}

resource "azurerm_key_vault_secret" "this" {
  for_each = toset(var.secret_names)

  name            = each.value
  value           = var.secret_values[each.value]
  key_vault_id    = azurerm_key_vault.this.id
  content_type    = "text/plain"
  expiration_date = var.key_expiration_date
  tags            = var.tags

  depends_on = [time_sleep.role_propagation]
}

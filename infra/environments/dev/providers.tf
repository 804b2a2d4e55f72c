terraform {
  required_version = ">= 1.9.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.79"
    }
    azapi = {
      source  = "Azure/azapi"
      version = "~> 2.0"
    }
    time = {
      source  = "hashicorp/time"
      version = "~> 0.12"
    }
  }
}

# Credentials come from the environment: in CI, OIDC federation (ARM_USE_OIDC, ARM_CLIENT_ID,
# ARM_TENANT_ID, ARM_SUBSCRIPTION_ID); no client secret anywhere.
provider "azurerm" {
  storage_use_azuread = true

  features {
    key_vault {
      purge_soft_delete_on_destroy    = false
      recover_soft_deleted_key_vaults = true
    }
    resource_group {
      prevent_deletion_if_contains_resources = true
    }
    # The storage account's data planes are private: the provider must not poll them while it
    # creates or reads the account. Its children (container, table) are created through the
    # management plane (azurerm_storage_container with storage_account_id; azapi for the table).
    storage {
      data_plane_available = false
    }
  }
}

# azapi signs in the same way (OIDC in CI); it creates what azurerm can only create through a
# data plane, here the conversations table.
provider "azapi" {}

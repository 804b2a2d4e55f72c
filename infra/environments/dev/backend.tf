# State lives in an Azure Storage container; the values are given at init time
# (partial configuration), e.g. `terraform init -backend-config=backend.hcl`:
#   resource_group_name  = "tfstate-rg"
#   storage_account_name = "tfstatechatref"
#   container_name       = "tfstate"
#   key                  = "chatref/<environment>.tfstate"
#   use_azuread_auth     = true
terraform {
  backend "azurerm" {}
}

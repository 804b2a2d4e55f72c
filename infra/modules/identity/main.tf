# A user-assigned managed identity and exactly the role assignments it needs.

resource "azurerm_user_assigned_identity" "this" {
  name                = var.name
  location            = var.location
  resource_group_name = var.resource_group_name
  tags                = var.tags
}

resource "azurerm_role_assignment" "this" {
  for_each = var.role_assignments

  scope                            = each.value.scope
  role_definition_name             = each.value.role
  principal_id                     = azurerm_user_assigned_identity.this.principal_id
  principal_type                   = "ServicePrincipal"
  skip_service_principal_aad_check = true
  description                      = "chatref: ${var.name} ${each.key}"
}

# A second resource, not one over both maps: an assignment names its role by exactly one of
# role_definition_name or role_definition_id, and a custom role's ID is known only at apply.
resource "azurerm_role_assignment" "custom" {
  for_each = var.custom_role_assignments

  scope                            = each.value.scope
  role_definition_id               = each.value.role_definition_id
  principal_id                     = azurerm_user_assigned_identity.this.principal_id
  principal_type                   = "ServicePrincipal"
  skip_service_principal_aad_check = true
  description                      = "chatref: ${var.name} ${each.key}"
}

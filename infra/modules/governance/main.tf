# Cost and governance guardrails for the workload's resource group: a budget with alert
# thresholds, Azure Policy assignments, and delete locks on the stateful services.

# runbook: docs/runbooks/budget.md (a budget has no description; its notifications are its alerts)
resource "azurerm_consumption_budget_resource_group" "this" {
  name              = "${var.name}-budget"
  resource_group_id = var.resource_group_id
  amount            = var.monthly_budget_amount
  time_grain        = "Monthly"

  time_period {
    start_date = var.budget_start_date
  }

  dynamic "notification" {
    for_each = toset(var.budget_alert_thresholds)
    content {
      enabled        = true
      threshold      = notification.value
      operator       = "GreaterThanOrEqualTo"
      threshold_type = notification.value > 100 ? "Forecasted" : "Actual"
      contact_emails = var.budget_contact_emails
    }
  }
}

# One "Require a tag on resources" assignment per required tag.
resource "azurerm_resource_group_policy_assignment" "require_tag" {
  for_each = var.policy_management_group_id == null ? toset(var.required_tags) : toset([])

  name                 = "${var.name}-require-${each.value}"
  display_name         = "chatref: require the ${each.value} tag"
  resource_group_id    = var.resource_group_id
  policy_definition_id = "/providers/Microsoft.Authorization/policyDefinitions/${var.require_tag_policy_definition}"
  enforce              = var.policy_enforce
  parameters           = jsonencode({ tagName = { value = each.value } })

  non_compliance_message {
    content = "Resources in this resource group must carry the ${each.value} tag."
  }
}

# Deny public network access on the data services (built-in definitions with an effect parameter).
resource "azurerm_resource_group_policy_assignment" "deny_public_network" {
  for_each = var.policy_management_group_id == null ? var.deny_public_network_policy_definitions : {}

  name                 = "${var.name}-deny-public-${each.key}"
  display_name         = "chatref: ${each.key} without public network access"
  resource_group_id    = var.resource_group_id
  policy_definition_id = "/providers/Microsoft.Authorization/policyDefinitions/${each.value}"
  enforce              = var.policy_enforce
  parameters           = jsonencode({ effect = { value = "Deny" } })

  non_compliance_message {
    content = "Public network access must be disabled on ${each.key}: use its private endpoint."
  }
}

# The same assignments at management-group scope, when the platform team assigns policy there
# (every subscription under the group inherits them). Assignment names at this scope are at most
# 24 characters.
resource "azurerm_management_group_policy_assignment" "require_tag" {
  for_each = var.policy_management_group_id != null ? toset(var.required_tags) : toset([])

  name                 = substr("req-tag-${each.value}", 0, 24)
  display_name         = "chatref: require the ${each.value} tag"
  management_group_id  = var.policy_management_group_id
  policy_definition_id = "/providers/Microsoft.Authorization/policyDefinitions/${var.require_tag_policy_definition}"
  enforce              = var.policy_enforce
  parameters           = jsonencode({ tagName = { value = each.value } })

  non_compliance_message {
    content = "Resources must carry the ${each.value} tag."
  }
}

resource "azurerm_management_group_policy_assignment" "deny_public_network" {
  for_each = var.policy_management_group_id != null ? var.deny_public_network_policy_definitions : {}

  name                 = substr("deny-pub-${each.key}", 0, 24)
  display_name         = "chatref: ${each.key} without public network access"
  management_group_id  = var.policy_management_group_id
  policy_definition_id = "/providers/Microsoft.Authorization/policyDefinitions/${each.value}"
  enforce              = var.policy_enforce
  parameters           = jsonencode({ effect = { value = "Deny" } })

  non_compliance_message {
    content = "Public network access must be disabled on ${each.key}: use its private endpoint."
  }
}

# Naming convention: every resource that supports tags and a location (mode Indexed) is named
# <prefix>-<environment>-... or, where hyphens are not allowed, <prefix><environment>...
# Types Azure names for us (a private endpoint's network interface) are exempt.
resource "azurerm_policy_definition" "naming" {
  count = var.naming_policy_enabled && length(var.naming_patterns) > 0 ? 1 : 0

  name                = "${var.name}-naming"
  display_name        = "chatref: resources follow the ${var.name} naming convention"
  policy_type         = "Custom"
  mode                = "Indexed"
  management_group_id = var.policy_management_group_id
  parameters = jsonencode({
    effect        = { type = "String", allowedValues = ["Audit", "Deny", "Disabled"], defaultValue = "Deny" }
    patterns      = { type = "Array", metadata = { displayName = "Name patterns (like)" } }
    exemptedTypes = { type = "Array", defaultValue = [] }
  })
  policy_rule = jsonencode({
    "if" = {
      allOf = [
        { field = "type", notIn = "[parameters('exemptedTypes')]" },
        { count = { value = "[parameters('patterns')]", name = "pattern", where = { field = "name", like = "[current('pattern')]" } }, equals = 0 },
      ]
    }
    "then" = { effect = "[parameters('effect')]" }
  })
}

resource "azurerm_resource_group_policy_assignment" "naming" {
  count = length(azurerm_policy_definition.naming) > 0 && var.policy_management_group_id == null ? 1 : 0

  name                 = "${var.name}-naming"
  display_name         = "chatref: resources follow the naming convention"
  resource_group_id    = var.resource_group_id
  policy_definition_id = azurerm_policy_definition.naming[0].id
  enforce              = var.policy_enforce
  parameters = jsonencode({
    patterns      = { value = var.naming_patterns }
    exemptedTypes = { value = var.naming_exempted_types }
  })

  non_compliance_message {
    content = "Name resources ${join(" or ", var.naming_patterns)} (docs/production.md, naming)."
  }
}

resource "azurerm_management_group_policy_assignment" "naming" {
  count = length(azurerm_policy_definition.naming) > 0 && var.policy_management_group_id != null ? 1 : 0

  name                 = "naming"
  display_name         = "chatref: resources follow the naming convention"
  management_group_id  = var.policy_management_group_id
  policy_definition_id = azurerm_policy_definition.naming[0].id
  enforce              = var.policy_enforce
  parameters = jsonencode({
    patterns      = { value = var.naming_patterns }
    exemptedTypes = { value = var.naming_exempted_types }
  })

  non_compliance_message {
    content = "Name resources ${join(" or ", var.naming_patterns)}."
  }
}

# Microsoft Defender for Cloud plans for the subscription, as inputs (plan => tier, optional
# subplan): a subscription-wide decision the platform team may own elsewhere, so none by default.
resource "azurerm_security_center_subscription_pricing" "this" {
  #checkov:skip=CKV_AZURE_19:The tier comes from var.defender_plans (Standard for every plan in prod, asserted by tests/infra); with no plans (dev) checkov still judges the unexpanded resource.
  for_each = var.defender_plans

  resource_type = each.key
  tier          = each.value.tier
  subplan       = each.value.subplan
}

resource "azurerm_management_lock" "this" {
  for_each = var.locked_resource_ids

  name       = "${var.name}-${each.key}-nodelete"
  scope      = each.value
  lock_level = "CanNotDelete"
  notes      = "Stateful service of chatref: remove this lock deliberately before deleting."
}

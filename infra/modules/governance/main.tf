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
  for_each = toset(var.required_tags)

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
  for_each = var.deny_public_network_policy_definitions

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

resource "azurerm_management_lock" "this" {
  for_each = var.locked_resource_ids

  name       = "${var.name}-${each.key}-nodelete"
  scope      = each.value
  lock_level = "CanNotDelete"
  notes      = "Stateful service of chatref: remove this lock deliberately before deleting."
}

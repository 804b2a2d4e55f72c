# Central monitoring: Log Analytics, workspace-based Application Insights, an action group,
# the guide's three proactive alerts and an operations dashboard.

resource "azurerm_log_analytics_workspace" "this" {
  name                         = "${var.name}-log"
  location                     = var.location
  resource_group_name          = var.resource_group_name
  sku                          = "PerGB2018"
  retention_in_days            = var.log_retention_days
  local_authentication_enabled = var.local_authentication_enabled
  tags                         = var.tags
}

resource "azurerm_application_insights" "this" {
  name                         = "${var.name}-appi"
  location                     = var.location
  resource_group_name          = var.resource_group_name
  workspace_id                 = azurerm_log_analytics_workspace.this.id
  application_type             = "web"
  retention_in_days            = var.log_retention_days
  local_authentication_enabled = var.local_authentication_enabled
  tags                         = var.tags
}

resource "azurerm_monitor_action_group" "this" {
  name                = "${var.name}-ag"
  resource_group_name = var.resource_group_name
  short_name          = substr(replace(var.name, "-", ""), 0, 12)
  enabled             = true
  tags                = var.tags

  dynamic "email_receiver" {
    for_each = toset(var.alert_email_addresses)
    content {
      name                    = "email-${email_receiver.key}"
      email_address           = email_receiver.value
      use_common_alert_schema = true
    }
  }
}

resource "azurerm_monitor_metric_alert" "server_exceptions" {
  count = var.enable_basic_alerts ? 1 : 0

  name                = "${var.name}-server-exceptions"
  resource_group_name = var.resource_group_name
  scopes              = [azurerm_application_insights.this.id]
  description         = "More than ${var.server_exceptions_threshold} server exceptions in 5 minutes. Runbook: docs/runbooks/server-errors.md"
  severity            = 1
  frequency           = "PT1M"
  window_size         = "PT5M"
  tags                = var.tags

  criteria {
    metric_namespace = "microsoft.insights/components"
    metric_name      = "exceptions/server"
    aggregation      = "Count"
    operator         = "GreaterThan"
    threshold        = var.server_exceptions_threshold
  }

  action {
    action_group_id = azurerm_monitor_action_group.this.id
  }
}

resource "azurerm_monitor_metric_alert" "failed_requests" {
  count = var.enable_basic_alerts ? 1 : 0

  name                = "${var.name}-failed-requests"
  resource_group_name = var.resource_group_name
  scopes              = [azurerm_application_insights.this.id]
  description         = "More than ${var.failed_requests_threshold} failed requests in 5 minutes. Runbook: docs/runbooks/server-errors.md"
  severity            = 2
  frequency           = "PT1M"
  window_size         = "PT5M"
  tags                = var.tags

  criteria {
    metric_namespace = "microsoft.insights/components"
    metric_name      = "requests/failed"
    aggregation      = "Count"
    operator         = "GreaterThan"
    threshold        = var.failed_requests_threshold
  }

  action {
    action_group_id = azurerm_monitor_action_group.this.id
  }
}

resource "azurerm_monitor_metric_alert" "response_time" {
  count = var.enable_basic_alerts ? 1 : 0

  name                = "${var.name}-response-time"
  resource_group_name = var.resource_group_name
  scopes              = [azurerm_application_insights.this.id]
  description         = "Average server response time above ${var.response_time_threshold} ms over 5 minutes. Runbook: docs/runbooks/latency.md"
  severity            = 2
  frequency           = "PT1M"
  window_size         = "PT5M"
  tags                = var.tags

  criteria {
    metric_namespace = "microsoft.insights/components"
    metric_name      = "requests/duration"
    aggregation      = "Average"
    operator         = "GreaterThan"
    threshold        = var.response_time_threshold
  }

  action {
    action_group_id = azurerm_monitor_action_group.this.id
  }
}

locals {
  # One metrics chart per guide alert, on the Application Insights component.
  dashboard_charts = [
    { title = "Server exceptions", metric = "exceptions/server", aggregation = 7 },
    { title = "Failed requests", metric = "requests/failed", aggregation = 7 },
    { title = "Server response time (ms)", metric = "requests/duration", aggregation = 4 },
    { title = "Requests", metric = "requests/count", aggregation = 7 },
  ]
}

resource "azurerm_portal_dashboard" "this" {
  count = var.create_dashboard ? 1 : 0

  name                = "${var.name}-dashboard"
  location            = var.location
  resource_group_name = var.resource_group_name
  tags                = merge(var.tags, { "hidden-title" = "${var.name} operations" })

  dashboard_properties = jsonencode({
    lenses = {
      "0" = {
        order = 0
        parts = { for i, chart in local.dashboard_charts : tostring(i) => {
          position = { x = (i % 2) * 6, y = floor(i / 2) * 4, colSpan = 6, rowSpan = 4 }
          metadata = {
            type = "Extension/HubsExtension/PartType/MonitorChartPart"
            inputs = [{
              name = "options"
              value = {
                chart = {
                  title = chart.title
                  metrics = [{
                    resourceMetadata = { id = azurerm_application_insights.this.id }
                    name             = chart.metric
                    aggregationType  = chart.aggregation
                    namespace        = "microsoft.insights/components"
                  }]
                  visualization = { chartType = 2 }
                }
              }
            }]
          }
        } }
      }
    }
    metadata = { model = {} }
  })
}

# Operations view of chatref: an Azure Workbook over the app's own metrics (exported by
# OpenTelemetry to Application Insights: chatref.llm.*) and the platform's, and one alert per SLO.
# Every alert names its runbook in docs/runbooks/ (in its description and in the notification's
# custom properties); tests/infra/test_runbooks.py keeps alerts and runbooks one to one.

locals {
  runbook_base = "${trimsuffix(var.runbook_base_url, "/")}/"

  # Log search alerts on the Application Insights component (its classic tables: customMetrics,
  # requests) or on the workspace (AzureDiagnostics). Each query returns rows only when breaching.
  log_alerts = {
    model-region-down = {
      severity    = 1
      scope       = var.application_insights_id
      window      = "PT5M"
      frequency   = "PT1M"
      description = "A chat-model endpoint's circuit is open: the router is failing over (or answering extractively)."
      runbook     = "docs/runbooks/model-region-down.md"
      query       = <<-KQL
        customMetrics
        | where name == "chatref.llm.circuit_state"
        | extend endpoint = tostring(customDimensions.endpoint)
        | summarize state = max(valueMax) by endpoint
        | where state >= 2
      KQL
    }
    throttling = {
      severity    = 2
      scope       = var.application_insights_id
      window      = "PT15M"
      frequency   = "PT5M"
      description = "More than ${var.slo.throttled_percent} % of model attempts answered 429 in 15 minutes."
      runbook     = "docs/runbooks/throttling.md"
      query       = <<-KQL
        customMetrics
        | where name == "chatref.llm.requests"
        | extend outcome = tostring(customDimensions.outcome)
        | summarize total = sum(valueSum), throttled = sumif(valueSum, outcome == "throttled")
        | where total >= 20 and 100.0 * throttled / total > ${var.slo.throttled_percent}
      KQL
    }
    latency = {
      severity    = 2
      scope       = var.application_insights_id
      window      = "PT15M"
      frequency   = "PT5M"
      description = "Average time to first token above ${var.slo.ttft_seconds} s over 15 minutes (the TTFT SLO)."
      runbook     = "docs/runbooks/latency.md"
      query       = <<-KQL
        customMetrics
        | where name == "chatref.llm.time_to_first_token"
        | summarize ttft_s = sum(valueSum) / sum(valueCount), samples = sum(valueCount)
        | where samples >= 10 and ttft_s > ${var.slo.ttft_seconds}
      KQL
    }
    extractive-fallback = {
      severity    = 2
      scope       = var.application_insights_id
      window      = "PT15M"
      frequency   = "PT5M"
      description = "Chats answered extractively because no model endpoint could answer (any in 15 minutes)."
      runbook     = "docs/runbooks/model-region-down.md"
      query       = <<-KQL
        customMetrics
        | where name == "chatref.llm.unavailable"
        | summarize unavailable = sum(valueSum)
        | where unavailable > 0
      KQL
    }
    certificate-expiry = {
      severity    = 2
      scope       = var.log_analytics_workspace_id
      window      = "P1D"
      frequency   = "PT6H"
      description = "A Key Vault certificate (the gateway's TLS certificate) is within its near-expiry window."
      runbook     = "docs/runbooks/certificate-expiry.md"
      query       = <<-KQL
        AzureDiagnostics
        | where ResourceProvider == "MICROSOFT.KEYVAULT"
        | where OperationName in ("CertificateNearExpiryEventGridNotification", "CertificateExpiredEventGridNotification")
        | project TimeGenerated, Resource, id_s
      KQL
    }
  }

  # Metric alerts on the platform's own metrics.
  metric_alerts = merge(
    {
      search-latency = {
        severity    = 2
        scope       = var.search_service_id
        namespace   = "Microsoft.Search/searchServices"
        metric      = "SearchLatency"
        aggregation = "Average"
        threshold   = var.slo.search_latency_seconds
        window      = "PT15M"
        frequency   = "PT5M"
        dimension   = null
        description = "AI Search query latency above ${var.slo.search_latency_seconds} s on average over 15 minutes."
        runbook     = "docs/runbooks/search-degraded.md"
      }
      search-throttled = {
        severity    = 2
        scope       = var.search_service_id
        namespace   = "Microsoft.Search/searchServices"
        metric      = "ThrottledSearchQueriesPercentage"
        aggregation = "Average"
        threshold   = var.slo.search_throttled_percent
        window      = "PT15M"
        frequency   = "PT5M"
        dimension   = null
        description = "More than ${var.slo.search_throttled_percent} % of AI Search queries throttled over 15 minutes."
        runbook     = "docs/runbooks/search-degraded.md"
      }
    },
    { for key, alert in {
      ingest-failures = {
        severity    = 2
        scope       = var.sync_job_id
        namespace   = "Microsoft.App/jobs"
        metric      = "Executions"
        aggregation = "Total"
        threshold   = 0
        window      = "PT6H"
        frequency   = "PT1H"
        dimension   = { name = "state", values = ["Failed"] }
        description = "A run of the scheduled document sync (chatref ingest --prune) failed."
        runbook     = "docs/runbooks/ingest-failures.md"
      }
    } : key => alert if var.sync_job_id != null },
  )
}

resource "azurerm_monitor_scheduled_query_rules_alert_v2" "slo" {
  for_each = local.log_alerts

  name                 = "${var.name}-${each.key}"
  location             = var.location
  resource_group_name  = var.resource_group_name
  scopes               = [each.value.scope]
  severity             = each.value.severity
  window_duration      = each.value.window
  evaluation_frequency = each.value.frequency
  description          = "${each.value.description} Runbook: ${each.value.runbook}"
  tags                 = var.tags

  criteria {
    query                   = each.value.query
    time_aggregation_method = "Count"
    operator                = "GreaterThan"
    threshold               = 0

    failing_periods {
      minimum_failing_periods_to_trigger_alert = 1
      number_of_evaluation_periods             = 1
    }
  }

  action {
    action_groups     = [var.action_group_id]
    custom_properties = { runbook = "${local.runbook_base}${each.value.runbook}" }
  }
}

resource "azurerm_monitor_metric_alert" "slo" {
  for_each = local.metric_alerts

  name                = "${var.name}-${each.key}"
  resource_group_name = var.resource_group_name
  scopes              = [each.value.scope]
  severity            = each.value.severity
  window_size         = each.value.window
  frequency           = each.value.frequency
  description         = "${each.value.description} Runbook: ${each.value.runbook}"
  tags                = var.tags

  criteria {
    metric_namespace = each.value.namespace
    metric_name      = each.value.metric
    aggregation      = each.value.aggregation
    operator         = "GreaterThan"
    threshold        = each.value.threshold

    dynamic "dimension" {
      for_each = each.value.dimension == null ? [] : [each.value.dimension]
      content {
        name     = dimension.value.name
        operator = "Include"
        values   = dimension.value.values
      }
    }
  }

  action {
    action_group_id    = var.action_group_id
    webhook_properties = { runbook = "${local.runbook_base}${each.value.runbook}" }
  }
}

# ---------------------------------------------------------------- the workbook

locals {
  # App Insights queries (the app's own metrics) and platform metric charts, in reading order.
  workbook_queries = [
    { title = "Time to first token by endpoint (s, average and max)", chart = "timechart", query = <<-KQL
        customMetrics | where name == "chatref.llm.time_to_first_token"
        | extend endpoint = tostring(customDimensions.endpoint)
        | summarize avg_s = sum(valueSum) / sum(valueCount), max_s = max(valueMax) by endpoint, bin(timestamp, 5m)
      KQL
    },
    { title = "Tokens in and out", chart = "timechart", query = <<-KQL
        customMetrics | where name == "chatref.llm.tokens"
        | extend direction = tostring(customDimensions.direction)
        | summarize tokens = sum(valueSum) by direction, bin(timestamp, 5m)
      KQL
    },
    { title = "Failovers by reason", chart = "barchart", query = <<-KQL
        customMetrics | where name == "chatref.llm.failovers"
        | extend reason = tostring(customDimensions.reason), endpoint = tostring(customDimensions.endpoint)
        | summarize failovers = sum(valueSum) by reason, bin(timestamp, 15m)
      KQL
    },
    { title = "Circuit state by endpoint (0 closed, 1 half-open, 2 open)", chart = "timechart", query = <<-KQL
        customMetrics | where name == "chatref.llm.circuit_state"
        | extend endpoint = tostring(customDimensions.endpoint)
        | summarize state = max(valueMax) by endpoint, bin(timestamp, 1m)
      KQL
    },
    { title = "Model attempts by outcome (429: throttled)", chart = "timechart", query = <<-KQL
        customMetrics | where name == "chatref.llm.requests"
        | extend outcome = tostring(customDimensions.outcome)
        | summarize attempts = sum(valueSum) by outcome, bin(timestamp, 5m)
      KQL
    },
    { title = "Users refused with 429 (rate limit, quota, concurrency)", chart = "timechart", query = <<-KQL
        requests | where resultCode == "429"
        | summarize refused = count() by name, bin(timestamp, 5m)
      KQL
    },
    { title = "Extractive-fallback rate (% of chat requests no model could answer)", chart = "timechart", query = <<-KQL
        let chats = requests | where name has "chat" | summarize chats = count() by bin(timestamp, 15m);
        customMetrics | where name == "chatref.llm.unavailable"
        | summarize unavailable = sum(valueSum) by bin(timestamp, 15m)
        | join kind=rightouter chats on timestamp
        | project timestamp = coalesce(timestamp, timestamp1), fallback_percent = 100.0 * coalesce(unavailable, 0.0) / chats
      KQL
    },
    { title = "Requests: rate, failures, duration p95 (platform)", chart = "timechart", query = <<-KQL
        requests
        | summarize requests = count(), failed = countif(success == false), p95_ms = percentile(duration, 95) by bin(timestamp, 5m)
      KQL
    },
  ]
  workbook_metrics = [
    for chart in [
      { title = "AI Search latency (s) and throttled queries (%)", resource = var.search_service_id, namespace = "microsoft.search/searchservices", metrics = ["SearchLatency", "ThrottledSearchQueriesPercentage"] },
      { title = "Sync job executions by state (ingest failures)", resource = var.sync_job_id, namespace = "microsoft.app/jobs", metrics = ["Executions"] },
    ] : chart if chart.resource != null
  ]

  workbook = {
    version = "Notebook/1.0"
    items = concat(
      [{ type = 1, name = "intro", content = { json = "## chatref operations\nSLOs and their alerts: docs/operations.md; each alert names its runbook in docs/runbooks/." } }],
      [for i, q in local.workbook_queries : {
        type = 3
        name = "query-${i}"
        content = {
          version       = "KqlItem/1.0"
          title         = q.title
          query         = q.query
          size          = 0
          timeContext   = { durationMs = 86400000 }
          queryType     = 0
          resourceType  = "microsoft.insights/components"
          visualization = q.chart
        }
      }],
      [for i, m in local.workbook_metrics : {
        type = 10
        name = "metric-${i}"
        content = {
          version      = "MetricsItem/2.0"
          title        = m.title
          size         = 0
          chartType    = 2
          resourceType = m.namespace
          resourceIds  = [m.resource]
          timeContext  = { durationMs = 86400000 }
          metrics      = [for name in m.metrics : { namespace = m.namespace, metric = "${m.namespace}--${name}", aggregation = 4 }]
        }
      }],
    )
    fallbackResourceIds = [var.application_insights_id]
    "$schema"           = "https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json"
  }
}

resource "azurerm_application_insights_workbook" "this" {
  name                = uuidv5("url", "https://chatref/${var.name}/operations-workbook")
  location            = var.location
  resource_group_name = var.resource_group_name
  display_name        = "${var.name} operations"
  description         = "chatref: TTFT, tokens, failovers, circuit states, 429s, extractive fallback, ingest failures, and the platform's requests and search."
  source_id           = lower(var.application_insights_id)
  category            = "workbook"
  data_json           = jsonencode(local.workbook)
  tags                = var.tags
}

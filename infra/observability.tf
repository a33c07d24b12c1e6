# SLOs with burn-rate alerts, and the alerts that page (issue 24). Pages go to the pager as well as
# to e-mail; monitoring.tf holds the first alerts (5xx ratio, p99, dead letters, outbox, uptime).

variable "pagerduty_service_key" {
  type        = string
  sensitive   = true
  description = "integration key of the on-call PagerDuty service (Cloud Build passes it from Secret Manager as TF_VAR_pagerduty_service_key)"
}

resource "google_monitoring_notification_channel" "pager" {
  display_name = "e-Registration pager (${var.environment})"
  type         = "pagerduty"
  sensitive_labels {
    service_key = var.pagerduty_service_key
  }
  depends_on = [google_project_service.api]
}

locals {
  page_channels = [google_monitoring_notification_channel.pager.id, google_monitoring_notification_channel.email.id]

  # The three journeys people feel: their function, the availability goal and a latency bound.
  slos = {
    login   = { function = "login", availability = 0.999, latency_ms = 1000, latency_goal = 0.99 }
    search  = { function = "slots", availability = 0.999, latency_ms = 500, latency_goal = 0.99 }
    booking = { function = "visits", availability = 0.999, latency_ms = 1000, latency_goal = 0.99 }
  }
  slo_kinds = merge(
    { for name, s in local.slos : "${name}-availability" => merge(s, { journey = name, kind = "availability" }) },
    { for name, s in local.slos : "${name}-latency" => merge(s, { journey = name, kind = "latency" }) },
  )
  # Multi-window burn rates over a 28-day budget: 2 % of it in an hour pages, 5 % in six hours too.
  burn_rates = {
    fast = { window = "3600s", threshold = 14.4 }
    slow = { window = "21600s", threshold = 6 }
  }
  slo_burn_alerts = {
    for pair in setproduct(keys(local.slo_kinds), keys(local.burn_rates)) : "${pair[0]}-${pair[1]}" => {
      slo = pair[0], window = local.burn_rates[pair[1]].window, threshold = local.burn_rates[pair[1]].threshold
    }
  }
}

resource "google_monitoring_custom_service" "journey" {
  for_each     = local.slos
  service_id   = "ereg-${each.key}"
  display_name = "e-Registration ${each.key} (${each.value.function})"
}

resource "google_monitoring_slo" "journey" {
  for_each            = local.slo_kinds
  service             = google_monitoring_custom_service.journey[each.value.journey].service_id
  slo_id              = each.key
  display_name        = "${each.key}: ${each.value.kind == "availability" ? "${each.value.availability * 100} % without 5xx" : "${each.value.latency_goal * 100} % under ${each.value.latency_ms} ms"} over 28 days"
  goal                = each.value.kind == "availability" ? each.value.availability : each.value.latency_goal
  rolling_period_days = 28

  request_based_sli {
    dynamic "good_total_ratio" {
      for_each = each.value.kind == "availability" ? [1] : []
      content {
        total_service_filter = "metric.type=\"run.googleapis.com/request_count\" resource.type=\"cloud_run_revision\" resource.label.\"service_name\"=\"${local.functions[each.value.function].service_name}\""
        bad_service_filter   = "metric.type=\"run.googleapis.com/request_count\" resource.type=\"cloud_run_revision\" resource.label.\"service_name\"=\"${local.functions[each.value.function].service_name}\" metric.label.\"response_code_class\"=\"5xx\""
      }
    }
    dynamic "distribution_cut" {
      for_each = each.value.kind == "latency" ? [1] : []
      content {
        distribution_filter = "metric.type=\"run.googleapis.com/request_latencies\" resource.type=\"cloud_run_revision\" resource.label.\"service_name\"=\"${local.functions[each.value.function].service_name}\""
        range {
          max = each.value.latency_ms
        }
      }
    }
  }
}

resource "google_monitoring_alert_policy" "slo_burn" {
  for_each              = local.slo_burn_alerts
  display_name          = "e-Registration SLO ${each.key} burning its error budget (${var.environment})"
  combiner              = "OR"
  notification_channels = local.page_channels
  conditions {
    display_name = "burn rate over ${each.value.window} above ${each.value.threshold}"
    condition_threshold {
      filter          = "select_slo_burn_rate(\"${google_monitoring_slo.journey[each.value.slo].name}\", \"${each.value.window}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "0s"
    }
  }
}

# A push subscription whose oldest message waits for more than 10 minutes: a consumer is failing
# or too slow (reminders, the BigQuery feed, SMS).
resource "google_monitoring_alert_policy" "oldest_unacked" {
  display_name          = "e-Registration: a push subscription's oldest message older than 10 min (${var.environment})"
  combiner              = "OR"
  notification_channels = local.page_channels
  conditions {
    display_name = "oldest_unacked_message_age of the push subscriptions"
    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND metric.type = \"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND resource.label.subscription_id = one_of(${join(", ", [for name in keys(local.subscriptions) : "\"${name}\""])})"
      comparison      = "COMPARISON_GT"
      threshold_value = 600
      duration        = "300s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }
}

# The capacity plan (docs/capacity.md) assumes Spanner's high-priority CPU under 65 %.
resource "google_monitoring_alert_policy" "spanner_cpu" {
  display_name          = "e-Registration: Spanner high-priority CPU above 65 % (${var.environment})"
  combiner              = "OR"
  notification_channels = local.page_channels
  conditions {
    display_name = "instance/cpu/utilization_by_priority, high, over 10 minutes"
    condition_threshold {
      filter          = "resource.type = \"spanner_instance\" AND resource.label.instance_id = \"${google_spanner_instance.ereg.name}\" AND metric.type = \"spanner.googleapis.com/instance/cpu/utilization_by_priority\" AND metric.label.priority = \"high\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0.65
      duration        = "600s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_MEAN"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }
}

resource "google_monitoring_alert_policy" "redis_memory" {
  display_name          = "e-Registration: Memorystore memory above 80 % (${var.environment})"
  combiner              = "OR"
  notification_channels = local.page_channels
  conditions {
    display_name = "stats/memory/usage_ratio over 5 minutes"
    condition_threshold {
      filter          = "resource.type = \"redis_instance\" AND metric.type = \"redis.googleapis.com/stats/memory/usage_ratio\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0.8
      duration        = "300s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }
}

# A function at 90 % of its max_instances turns requests away next (429/503 from Cloud Run).
resource "google_monitoring_alert_policy" "max_instances" {
  for_each              = local.functions
  display_name          = "e-Registration: ${each.value.service_name} near its maximum instances (${var.environment})"
  combiner              = "OR"
  notification_channels = local.page_channels
  conditions {
    display_name = "instance_count of ${each.value.service_name} at 90 % of ${ceil(each.value.max_instances * var.instance_scale)}"
    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND resource.label.service_name = \"${each.value.service_name}\" AND metric.type = \"run.googleapis.com/container/instance_count\""
      comparison      = "COMPARISON_GT"
      threshold_value = max(1, floor(0.9 * ceil(each.value.max_instances * var.instance_scale))) # not 0: a one-instance staging function
      duration        = "180s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_MAX"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }
}

# Cloud Armor's rate-based bans, as the load balancer logs them.
resource "google_logging_metric" "armor_bans" {
  name   = "ereg/armor_bans"
  filter = "resource.type = \"http_load_balancer\" AND jsonPayload.enforcedSecurityPolicy.name = \"${google_compute_security_policy.edge.name}\" AND jsonPayload.enforcedSecurityPolicy.configuredAction = \"RATE_BASED_BAN\" AND jsonPayload.enforcedSecurityPolicy.outcome = \"DENY\""
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
  }
}

resource "google_monitoring_alert_policy" "armor_bans" {
  display_name          = "e-Registration: Cloud Armor banning clients (${var.environment})"
  combiner              = "OR"
  notification_channels = local.page_channels
  conditions {
    display_name = "more than 1,000 banned requests in 5 minutes"
    condition_threshold {
      filter          = "resource.type = \"http_load_balancer\" AND metric.type = \"logging.googleapis.com/user/${google_logging_metric.armor_bans.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 1000
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }
}

# Alerts (error ratio, p99 latency, dead letters, outbox age) and an uptime check of /api/v1/health.

resource "google_monitoring_notification_channel" "email" {
  display_name = "e-Registration on-call (${var.environment})"
  type         = "email"
  labels = {
    email_address = var.alert_email
  }
  depends_on = [google_project_service.api]
}

locals {
  service_names = [for f in local.functions : f.service_name]
  service_regex = join("|", local.service_names)
}

resource "google_monitoring_alert_policy" "error_ratio" {
  display_name          = "e-Registration: 5xx ratio above 1% (${var.environment})"
  combiner              = "OR"
  notification_channels = local.page_channels
  conditions {
    display_name = "5xx / all requests, per function, over 5 minutes"
    condition_prometheus_query_language {
      query               = <<-PROMQL
        sum by (service_name) (rate(run_googleapis_com:request_count{monitored_resource="cloud_run_revision", service_name=~"${local.service_regex}", response_code_class="5xx"}[5m]))
          / sum by (service_name) (rate(run_googleapis_com:request_count{monitored_resource="cloud_run_revision", service_name=~"${local.service_regex}"}[5m]))
          > 0.01
      PROMQL
      duration            = "300s"
      evaluation_interval = "60s"
    }
  }
}

resource "google_monitoring_alert_policy" "latency_p99" {
  display_name          = "e-Registration: p99 latency above 1 s (${var.environment})"
  combiner              = "OR"
  notification_channels = local.page_channels
  conditions {
    display_name = "p99 request latency of the HTTP functions, over 5 minutes"
    condition_prometheus_query_language {
      query               = <<-PROMQL
        histogram_quantile(0.99, sum by (service_name, le) (rate(run_googleapis_com:request_latencies_bucket{monitored_resource="cloud_run_revision", service_name=~"${join("|", [for f in local.http_functions : f.service_name])}"}[5m]))) > 1000
      PROMQL
      duration            = "300s"
      evaluation_interval = "60s"
    }
  }
}

resource "google_monitoring_alert_policy" "dead_letters" {
  display_name          = "e-Registration: messages in a dead-letter hold (${var.environment})"
  combiner              = "OR"
  notification_channels = local.page_channels
  conditions {
    display_name = "undelivered messages in *-dead-letter-hold"
    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.label.subscription_id = ends_with(\"${local.dead_letter_suffix}-hold\")"
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "60s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }
}

# The outbox relay's sweep publishes only events older than 30 s that the fast path missed, and says
# so in its log; any such event means the outbox aged past 30 s.
resource "google_logging_metric" "outbox_swept" {
  name   = "ereg/outbox_swept"
  filter = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"relay-outbox\" AND (jsonPayload.message =~ \"^outbox sweep published\" OR jsonPayload.message =~ \"^outbox sweep stopped\")"
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
  }
}

resource "google_monitoring_alert_policy" "outbox_age" {
  display_name          = "e-Registration: outbox events older than 30 s (${var.environment})"
  combiner              = "OR"
  notification_channels = local.page_channels
  conditions {
    display_name = "the sweep published missed events for 5 minutes"
    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND metric.type = \"logging.googleapis.com/user/${google_logging_metric.outbox_swept.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "300s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }
}

resource "google_monitoring_uptime_check_config" "health" {
  display_name = "e-Registration /api/v1/health (${var.environment})"
  timeout      = "10s"
  period       = "60s"
  http_check {
    path         = "/api/v1/health"
    port         = 443
    use_ssl      = true
    validate_ssl = true
    accepted_response_status_codes {
      status_value = 200
    }
  }
  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = var.domain
    }
  }
}

resource "google_monitoring_alert_policy" "uptime" {
  display_name          = "e-Registration: health check failing (${var.environment})"
  combiner              = "OR"
  notification_channels = local.page_channels
  conditions {
    display_name = "uptime check of /api/v1/health"
    condition_threshold {
      filter          = "metric.type = \"monitoring.googleapis.com/uptime_check/check_passed\" AND resource.type = \"uptime_url\" AND metric.label.check_id = \"${google_monitoring_uptime_check_config.health.uptime_check_id}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 1
      duration        = "120s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_NEXT_OLDER"
        cross_series_reducer = "REDUCE_COUNT_FALSE"
        group_by_fields      = ["resource.label.host"]
      }
    }
  }
}

# Issue 21: unusual lookup volume per staff member. The agent function logs "staff action" (staff id,
# action, status; never the patient) for every audited action; a person far above a normal shift's
# lookups is an alert, as is anyone stopped by a per-person rate limit.
variable "lookups_per_staff_hour_alert" {
  type        = number
  default     = 300
  description = "Patient lookups by one staff member in an hour above which the on-call is alerted"
}

resource "google_logging_metric" "staff_lookups" {
  name   = "ereg/staff_lookups"
  filter = "resource.type = \"cloud_run_revision\" AND jsonPayload.message = \"staff action\" AND jsonPayload.action = \"read_patient\""
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    labels {
      key        = "staff_id"
      value_type = "STRING"
    }
  }
  label_extractors = {
    staff_id = "EXTRACT(jsonPayload.staff_id)"
  }
}

resource "google_monitoring_alert_policy" "staff_lookups" {
  display_name          = "e-Registration: unusual patient lookups by one staff member (${var.environment})"
  combiner              = "OR"
  notification_channels = local.page_channels
  conditions {
    display_name = "lookups by one staff member over an hour"
    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND metric.type = \"logging.googleapis.com/user/${google_logging_metric.staff_lookups.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.lookups_per_staff_hour_alert
      duration        = "0s"
      aggregations {
        alignment_period     = "3600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.staff_id"]
      }
    }
  }
}

resource "google_logging_metric" "person_rate_limited" {
  name   = "ereg/person_rate_limited"
  filter = "resource.type = \"cloud_run_revision\" AND jsonPayload.message = \"person rate limited\""
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    labels {
      key        = "scope"
      value_type = "STRING"
    }
  }
  label_extractors = {
    scope = "EXTRACT(jsonPayload.scope)"
  }
}

resource "google_monitoring_alert_policy" "person_rate_limited" {
  display_name          = "e-Registration: a signed-in person hit a rate limit (${var.environment})"
  combiner              = "OR"
  notification_channels = local.page_channels
  conditions {
    display_name = "per-person limits refusing requests, by scope, over 10 minutes"
    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND metric.type = \"logging.googleapis.com/user/${google_logging_metric.person_rate_limited.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 20
      duration        = "0s"
      aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.scope"]
      }
    }
  }
}

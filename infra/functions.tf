# Every function deploys from the repository root (main.py re-exports the entry points), so shared/
# ships with each; each still deploys and scales on its own.

variable "source_bucket" {
  type        = string
  description = "bucket holding the zipped repository for Cloud Functions builds"
}

variable "source_object" {
  type        = string
  description = "object name of the zipped repository (built by Cloud Build)"
}

variable "login_node_jwks_url" {
  type        = string
  description = "JWKS of the national login node (Identity Platform)"
}

locals {
  http_functions = {
    login       = { memory = "512Mi", max_instances = 200 }
    slots       = { memory = "512Mi", max_instances = 200 }
    visits      = { memory = "512Mi", max_instances = 200 }
    agent       = { memory = "512Mi", max_instances = 50 }
    point       = { memory = "512Mi", max_instances = 50 }
    health      = { memory = "256Mi", max_instances = 5 }
    sms_reports = { memory = "256Mi", max_instances = 20 }
    admin       = { memory = "512Mi", max_instances = 10 }
    interest    = { memory = "512Mi", max_instances = 100 }
  }
  event_functions = {
    notify          = { topic = "visit-events", subscription = "visit-events-notify" }
    stream_events   = { topic = "visit-events", subscription = "visit-events-bigquery" }
    send_sms        = { topic = "sms-requests", subscription = "sms-requests-send" }
    relay_outbox    = { topic = "outbox-sweep-ticks", subscription = "outbox-sweep-ticks-relay" }
    send_reminders  = { topic = "reminder-ticks", subscription = "reminder-ticks-send" }
    issue_referrals = { topic = "referral-chunks", subscription = "referral-chunks-issue" }
    programme_tick  = { topic = "programme-ticks", subscription = "programme-ticks-run" }
  }
  # HTTP functions sit behind the load balancer; event functions are reached by Pub/Sub push only.
  functions = merge(
    { for name, f in local.http_functions : name => merge(f, { ingress = "ALLOW_INTERNAL_AND_GCLB" }) },
    { for name, f in local.event_functions : name => { memory = "512Mi", max_instances = 100, ingress = "ALLOW_INTERNAL_ONLY" } },
  )
  function_environment = {
    EREG_DEPLOYMENT                  = "cloud"
    GOOGLE_CLOUD_PROJECT             = var.project_id
    EREG_LOGIN_NODE_JWKS_URL         = var.login_node_jwks_url
    EREG_TRUSTED_PROXY_HOPS          = "1"
    EREG_SPANNER_MAX_RW_TRANSACTIONS = "16"
  }
}

resource "google_service_account" "functions" {
  account_id   = "ereg-functions"
  display_name = "e-Registration functions"
}

resource "google_secret_manager_secret" "sms" {
  for_each  = toset(["sms-provider-token", "sms-report-token"])
  secret_id = each.key
  replication {
    auto {}
  }
}

resource "google_cloudfunctions2_function" "fn" {
  for_each = local.functions
  name     = replace(each.key, "_", "-")
  location = var.region

  build_config {
    runtime     = "python311"
    entry_point = each.key
    source {
      storage_source {
        bucket = var.source_bucket
        object = var.source_object
      }
    }
  }

  service_config {
    available_memory      = each.value.memory
    max_instance_count    = each.value.max_instances
    service_account_email = google_service_account.functions.email
    ingress_settings      = each.value.ingress
    environment_variables = local.function_environment

    dynamic "secret_environment_variables" {
      for_each = google_secret_manager_secret.sms
      content {
        key        = upper("EREG_${replace(secret_environment_variables.key, "-", "_")}")
        project_id = var.project_id
        secret     = secret_environment_variables.value.secret_id
        version    = "latest"
      }
    }
  }
}

# Explicit push subscriptions (rather than Eventarc triggers) so that each has its retry policy and
# dead-letter topic, exactly as the local bootstrap creates them. The push path ends in
# /projects/P/topics/T, from which functions-framework fills in the CloudEvent's source.
resource "google_pubsub_subscription" "push" {
  for_each             = local.event_functions
  name                 = each.value.subscription
  topic                = google_pubsub_topic.topic[each.value.topic].id
  ack_deadline_seconds = 60

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.fn[each.key].service_config[0].uri}/projects/${var.project_id}/topics/${each.value.topic}"
    oidc_token {
      service_account_email = google_service_account.functions.email
    }
  }

  retry_policy {
    minimum_backoff = "1s"
    maximum_backoff = "60s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.value.topic].id
    max_delivery_attempts = 5
  }
}

# Cloud Scheduler stands behind the ticks: outbox sweeps every minute, reminders every evening.
resource "google_cloud_scheduler_job" "outbox_sweep" {
  name     = "outbox-sweep"
  schedule = "* * * * *"
  region   = var.region
  pubsub_target {
    topic_name = google_pubsub_topic.topic["outbox-sweep-ticks"].id
    data       = base64encode("{}")
  }
}

resource "google_cloud_scheduler_job" "reminders" {
  name      = "day-before-reminders"
  schedule  = "0 17 * * *"
  time_zone = "Europe/Warsaw"
  region    = var.region
  pubsub_target {
    topic_name = google_pubsub_topic.topic["reminder-ticks"].id
    data       = base64encode("{}")
  }
}

# Cohort openings: the minute tick starts each cohort's bulk e-referral job at its opening minute and
# paces the "your cohort is open" SMS.
resource "google_cloud_scheduler_job" "programme_tick" {
  name     = "programme-tick"
  schedule = "* * * * *"
  region   = var.region
  pubsub_target {
    topic_name = google_pubsub_topic.topic["programme-ticks"].id
    data       = base64encode("{}")
  }
}

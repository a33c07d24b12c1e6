# Every function of infra/functions.yaml, deployed from the repository root (main.py re-exports the
# entry points, so shared/ ships with each); each deploys and scales on its own, under its own
# service account (infra/iam.tf). Cloud Build later redeploys the code of each with
# infra/deploy_functions.py; Terraform owns everything else about a function.

variable "source_bucket" {
  type        = string
  description = "bucket holding the zipped repository for the first build of each function"
}

variable "source_object" {
  type        = string
  description = "object name of the zipped repository (Cloud Build uploads source-<commit>.zip)"
}

variable "login_node_jwks_url" {
  type        = string
  description = "JWKS of the national login node (Identity Platform)"
}

variable "login_node_issuer" {
  type        = string
  description = "issuer (iss) of the login node's assertions"
}

variable "assertion_audience" {
  type        = string
  description = "audience (aud) the assertions are issued for"
}

variable "sms_provider_url" {
  type        = string
  description = "base URL of the SMS provider's HTTP API"
}

variable "settings" {
  type        = map(string)
  default     = {}
  description = "EREG_* settings that override local.function_environment for one environment"
}

locals {
  functions = {
    for name, f in local.declarations.functions : name => merge(f, {
      service_name = replace(name, "_", "-")
      entry_point  = lookup(f, "entry_point", name)
      http         = f.trigger == "http"
      cdn          = lookup(f, "cdn", false)
      redis        = lookup(f, "redis", false)
      secrets      = lookup(f, "secrets", [])
      access       = lookup(f, "access", {})
    })
  }
  http_functions = { for name, f in local.functions : name => f if f.http }

  # Every setting of shared/config.py is set here explicitly, or secret (functions.yaml `secrets`),
  # or listed in functions.yaml `local_only_settings`; tests/unit/test_infra.py checks that.
  function_environment = merge({
    EREG_DEPLOYMENT                   = "cloud"
    GOOGLE_CLOUD_PROJECT              = var.project_id
    EREG_SPANNER_INSTANCE             = google_spanner_instance.ereg.name
    EREG_SPANNER_DATABASE             = google_spanner_database.ereg.name
    EREG_SPANNER_MAX_RW_TRANSACTIONS  = "16"
    EREG_SPANNER_SEARCH_STALENESS_S   = "5"
    EREG_SEARCH_CACHE_S               = "3"
    EREG_FIRESTORE_DATABASE           = google_firestore_database.default.name
    EREG_PUBSUB_PREFIX                = ""
    EREG_BIGQUERY_DATASET             = google_bigquery_dataset.reporting.dataset_id
    EREG_BIGQUERY_LOCATION            = google_bigquery_dataset.reporting.location
    EREG_ASSERTION_AUDIENCE           = var.assertion_audience
    EREG_LOGIN_NODE_ISSUER            = var.login_node_issuer
    EREG_LOGIN_NODE_JWKS_URL          = var.login_node_jwks_url
    EREG_ASSERTION_LEEWAY_S           = "30"
    EREG_PATIENT_SESSION_ABSOLUTE_MIN = "120"
    EREG_PATIENT_SESSION_IDLE_MIN     = "30"
    EREG_STAFF_SESSION_ABSOLUTE_MIN   = "600"
    EREG_STAFF_SESSION_IDLE_MIN       = "60"
    EREG_PROGRAMME_CACHE_S            = "15" # an admin's change is live everywhere within 30 s
    EREG_RATE_LIMITS = jsonencode({
      "login:ip"     = [10, 30]
      "search:ip"    = [50, 100]
      "booking:ip"   = [10, 30]
      "booking:user" = [1, 5]
      "lookup:ip"    = [5, 30]
      "lookup:user"  = [0.5, 20]
      "api:ip"       = [20, 100]
    })
    EREG_POST_COMMIT_PUBLISH_WAIT_S = "0.25"
    EREG_REDIS_KEY_PREFIX           = ""
    EREG_REDIS_TIMEOUT_S            = "0.2"
    EREG_SESSION_STORE              = "firestore" # "redis" is ready (every function checking a session has redis: true)
    EREG_REDIS_SESSION_TIMEOUT_S    = "1"
    EREG_TRUSTED_PROXY_HOPS         = "1" # the external load balancer appends the client address
    EREG_SMS_PROVIDER_URL           = var.sms_provider_url
    EREG_SMS_TRANSLITERATE          = "true"
    EREG_SMS_TIMEOUT_S              = "5"
    EREG_HEALTH_TIMEOUT_S           = "2"
    EREG_LOG_LEVEL                  = "INFO"
    # Bulk e-referrals: 256 chunks (patient key ranges), commits of 2,000 rows; opening SMS a minute.
    EREG_REFERRAL_CHUNK_PREFIX_LENGTH = "2"
    EREG_REFERRAL_WRITE_BATCH         = "2000"
    EREG_INTEREST_SMS_PER_TICK        = "6000"
    EREG_IDENTITY_CHECKS_PER_DAY      = "20" # vaccinations without the SMS code, per staff member and day
  }, var.settings)

  secret_environment = { for id, _ in local.declarations.secrets : id => upper("EREG_${replace(id, "-", "_")}") }
}

resource "google_cloudfunctions2_function" "fn" {
  for_each = local.functions
  name     = each.value.service_name
  location = var.region

  build_config {
    runtime     = "python311"
    entry_point = each.value.entry_point
    source {
      storage_source {
        bucket = var.source_bucket
        object = var.source_object
      }
    }
  }

  service_config {
    available_memory                 = each.value.memory
    available_cpu                    = each.value.cpu
    max_instance_request_concurrency = each.value.concurrency
    min_instance_count               = var.instance_scale >= 1 ? lookup(each.value, "min_instances", 0) : 0
    max_instance_count               = ceil(each.value.max_instances * var.instance_scale)
    timeout_seconds                  = lookup(each.value, "timeout_s", 60)
    service_account_email            = google_service_account.fn[each.key].email
    # HTTP functions are reached through the load balancer only; event functions by Pub/Sub push only.
    ingress_settings              = each.value.http ? "ALLOW_INTERNAL_AND_GCLB" : "ALLOW_INTERNAL_ONLY"
    vpc_connector                 = each.value.redis ? google_vpc_access_connector.functions.id : null
    vpc_connector_egress_settings = each.value.redis ? "PRIVATE_RANGES_ONLY" : null

    # A secret is checked where it is used (shared/config.py Settings.secret): a function that is not
    # granted one never reads it, so it needs no value for it.
    environment_variables = local.function_environment

    dynamic "secret_environment_variables" {
      for_each = toset(each.value.secrets)
      content {
        key        = local.secret_environment[secret_environment_variables.key]
        project_id = var.project_id
        secret     = google_secret_manager_secret.secret[secret_environment_variables.key].secret_id
        version    = "latest"
      }
    }

    dynamic "secret_environment_variables" {
      for_each = each.value.redis ? toset(["redis-url"]) : toset([])
      content {
        key        = "EREG_REDIS_URL"
        project_id = var.project_id
        secret     = google_secret_manager_secret.redis_url.secret_id
        version    = "latest"
      }
    }
  }

  # checkov:skip=CKV_GCP_124:ingress is ALLOW_INTERNAL_AND_GCLB or ALLOW_INTERNAL_ONLY, chosen per function (checkov cannot evaluate the conditional; tests/unit/test_infra.py checks it)

  lifecycle {
    # Cloud Build deploys new code (infra/deploy_functions.py); Terraform keeps the configuration.
    ignore_changes = [build_config[0].source, build_config[0].docker_repository]
  }

  depends_on = [
    google_project_service.api,
    google_secret_manager_secret_iam_member.reader,
    google_secret_manager_secret_iam_member.redis_url_reader,
  ]
}

# Push subscriptions (rather than Eventarc triggers) so that each has exactly the retry policy and
# dead-letter topic of topology.yaml, as the local bootstrap creates them. The push path ends in
# /projects/P/topics/T, from which functions-framework fills in the CloudEvent's source.
resource "google_pubsub_subscription" "push" {
  for_each             = local.subscriptions
  name                 = each.key
  topic                = google_pubsub_topic.topic[each.value.topic].id
  ack_deadline_seconds = each.value.ack_deadline_s

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.fn[each.value.function].service_config[0].uri}/projects/${var.project_id}/topics/${each.value.topic}"
    oidc_token {
      service_account_email = google_service_account.push.email
    }
  }

  retry_policy {
    minimum_backoff = "${each.value.min_backoff_s}s"
    maximum_backoff = "${each.value.max_backoff_s}s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.value.topic].id
    max_delivery_attempts = each.value.max_delivery_attempts
  }
}

resource "google_cloud_scheduler_job" "tick" {
  for_each  = { for s in local.topology.schedules : s.name => s }
  name      = each.key
  schedule  = each.value.cron
  time_zone = each.value.time_zone
  region    = var.region
  pubsub_target {
    topic_name = google_pubsub_topic.topic[each.value.topic].id
    data       = base64encode("{}")
  }
  depends_on = [google_project_service.api]
}

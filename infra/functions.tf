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

variable "sms_provider_url" {
  type        = string
  description = "base URL of the SMS provider's HTTP API"
}

variable "fhir_base_url" {
  type        = string
  description = "FHIR R4 base URL of the national e-health platform (Immunization records)"
}

variable "settings" {
  type        = map(string)
  default     = {}
  description = "EREG_* settings that override local.function_environment for one environment"
}

variable "bigquery_max_bytes_billed" {
  type        = string
  default     = "34359738368"
  description = "Every BigQuery query of a function fails rather than bill more bytes (bench/report_scan.py)"
}

variable "programme_first_day" {
  type        = string
  default     = "2026-01-01"
  description = "The programme's first day (Warsaw): open data covers it to today"
}

variable "staff_accepted_acr" {
  type        = list(string)
  default     = ["http://eidas.europa.eu/LoA/substantial", "http://eidas.europa.eu/LoA/high"]
  description = "The login node's authentication levels (acr) accepted for staff and admin sign-ins"
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
    EREG_FIRESTORE_SESSIONS_DATABASE  = google_firestore_database.sessions.name
    EREG_FIRESTORE_AUDIT_DATABASE     = google_firestore_database.audit.name
    EREG_PUBSUB_PREFIX                = ""
    EREG_BIGQUERY_DATASET             = google_bigquery_dataset.reporting.dataset_id
    EREG_BIGQUERY_LOCATION            = google_bigquery_dataset.reporting.location
    EREG_BIGQUERY_MAX_BYTES_BILLED    = var.bigquery_max_bytes_billed
    EREG_PROGRAMME_FIRST_DAY          = var.programme_first_day
    EREG_ASSERTION_AUDIENCE           = var.project_id # Identity Platform's ID tokens (identity.tf)
    EREG_LOGIN_NODE_ISSUER            = local.identity_platform_issuer
    EREG_LOGIN_NODE_JWKS_URL          = local.identity_platform_jwks_url
    EREG_IDENTITY_PROVIDERS           = var.saml_provider_id
    EREG_ASSERTION_LEEWAY_S           = "30"
    EREG_STAFF_ACCEPTED_ACR           = jsonencode(var.staff_accepted_acr)
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
      "open_data:ip" = [1, 20]
      "admin:ip"     = [20, 100]
      "admin:user"   = [2, 30]
    })
    # Anonymous search's address limit shared by every instance is Cloud Armor's (edge_limit).
    EREG_RATE_LIMITS_PER_PROCESS    = jsonencode(["search:ip"])
    EREG_POST_COMMIT_PUBLISH_WAIT_S = "0.25"
    EREG_PUBSUB_BATCH_LATENCY_S     = "0.001" # a booking waits for its publish; 10 ms (the default) was most of it
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
    # Registration by SMS: offers up to 42 days ahead; a sender gets 10 replies, then one per 6 s.
    EREG_SMS_OFFER_HORIZON_DAYS = "42"
    EREG_SMS_SENDER_BURST       = "10"
    EREG_SMS_SENDER_EVERY_S     = "6"
    # After the jab: the DCC signer's KMS key version (infra/kms.tf) and the e-health platform.
    EREG_DCC_KMS_KEY_VERSION = "${google_kms_crypto_key.dcc_signer.id}/cryptoKeyVersions/1"
    EREG_FHIR_BASE_URL       = var.fhir_base_url
    EREG_FHIR_TIMEOUT_S      = "5"
    # Nightly jobs (reminders, no-shows) run 240 s, then checkpoint and publish a tick that goes on.
    EREG_NIGHT_JOB_BUDGET_S = "240"
    # gcloud functions deploy (Cloud Build's redeploys) sets it on every gen2 function; set here too
    # so that a plan after a deploy shows no diff.
    LOG_EXECUTION_ID             = "true"
    EREG_IDENTITY_CHECKS_PER_DAY = "20" # vaccinations without the SMS code, per staff member and day
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
    # Projects created since mid-2024 give Cloud Build's default account no build rights (build.tf).
    service_account = google_service_account.build.id
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
    # The first revision fails when a mounted secret has no version yet (Memorystore takes minutes).
    google_secret_manager_secret_version.redis_url,
    google_project_iam_member.build,
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
      # Cloud Run accepts a token whose audience is the service's URL; by default Pub/Sub would put
      # the whole push endpoint (with its path) there, and every push would get 401.
      audience = google_cloudfunctions2_function.fn[each.value.function].service_config[0].uri
    }
  }

  # An idle subscription (staging, bulk referrals) would be deleted after 31 days; "" never expires.
  expiration_policy {
    ttl = ""
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

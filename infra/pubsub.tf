# Topics, dead-letter topics and their hold subscriptions, from topology.yaml (the file the local
# bootstrap reads too). Push subscriptions are in functions.tf, beside the functions they call.

locals {
  subscriptions = {
    for s in local.topology.subscriptions : s.name => merge(local.topology.subscription_defaults, s)
  }
  dead_letter_suffix = local.topology.dead_letter.suffix
}

resource "google_pubsub_topic" "topic" {
  for_each = toset(local.topology.topics)
  name     = each.key
  # checkov:skip=CKV_GCP_83:Google-managed encryption at rest; CMEK is an operator's policy choice (docs/deploy.md)
  depends_on = [google_project_service.api]
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = toset(local.topology.topics)
  name     = "${each.key}${local.dead_letter_suffix}"
  # checkov:skip=CKV_GCP_83:Google-managed encryption at rest; CMEK is an operator's policy choice (docs/deploy.md)
  depends_on = [google_project_service.api]
}

# Dead letters are kept where an operator can read and replay them (alerted on in monitoring.tf).
resource "google_pubsub_subscription" "dead_letter_hold" {
  for_each                   = toset(local.topology.topics)
  name                       = "${each.key}${local.dead_letter_suffix}-hold"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  message_retention_duration = "${local.topology.dead_letter.hold_retention_s}s"
  expiration_policy {
    ttl = "" # never expires, even when nobody reads it for a month
  }
}

# Pub/Sub's service agent exists only once Google creates it (lazily, on first use of the API); a
# binding to it on a fresh project could fail. Creating it as a service identity makes it exist first.
resource "google_project_service_identity" "pubsub" {
  provider   = google-beta
  service    = "pubsub.googleapis.com"
  depends_on = [google_project_service.api]
}

# Pub/Sub's own service agent moves undeliverable messages: it publishes to the dead-letter topic and
# acknowledges on the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = google_pubsub_topic.dead_letter
  topic    = each.value.id
  role     = "roles/pubsub.publisher"
  member   = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each     = google_pubsub_subscription.push
  subscription = each.value.id
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

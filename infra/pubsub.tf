resource "google_pubsub_topic" "topic" {
  for_each = toset(local.topics)
  name     = each.key
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = toset(local.topics)
  name     = "${each.key}-dead-letter"
}

# Dead letters are kept where an operator can read and replay them.
resource "google_pubsub_subscription" "dead_letter_hold" {
  for_each                   = toset(local.topics)
  name                       = "${each.key}-dead-letter-hold"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  message_retention_duration = "604800s"
}

resource "google_firestore_database" "default" {
  name                              = "(default)"
  location_id                       = var.region
  type                              = "FIRESTORE_NATIVE"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED" # 7 days
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "ABANDON" # terraform destroy never deletes the data
}

# Issue 21: sessions (with staff profiles and the session guard) and the audit trail in databases of
# their own, so a function's grant names only the databases it uses (infra/iam.tf).
resource "google_firestore_database" "sessions" {
  name                              = "sessions"
  location_id                       = var.region
  type                              = "FIRESTORE_NATIVE"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
}

resource "google_firestore_database" "audit" {
  name                              = "audit"
  location_id                       = var.region
  type                              = "FIRESTORE_NATIVE"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
}

# Sessions go once neither the session nor the assertion that opened it can be used.
resource "google_firestore_field" "session_ttl" {
  database   = google_firestore_database.sessions.name
  collection = "sessions"
  field      = "retain_until"
  ttl_config {}
  index_config {} # firestore.yaml: unindexed
}

# Index exemptions of firestore.yaml: an empty index_config switches every single-field index of the
# field off. The TTL field's exemption sits on session_ttl (one resource per field).
locals {
  firestore_settings = yamldecode(file("${path.module}/firestore.yaml")).collections
  firestore_unindexed = { for pair in flatten([
    for collection, spec in local.firestore_settings : [
      for f in spec.unindexed : { collection = collection, field = f } if f != lookup(spec, "ttl_field", "")
    ]
  ]) : "${pair.collection}/${pair.field}" => pair }
}

resource "google_firestore_field" "unindexed" {
  for_each   = local.firestore_unindexed
  database   = google_firestore_database.default.name
  collection = each.value.collection
  field      = each.value.field
  index_config {}
}

# SMS conversations (issue 22): dialogues, handled incoming messages, reminder windows. The service
# forgets a dialogue after 15 minutes of silence by itself; the TTL sweep only clears the documents.
resource "google_firestore_field" "sms_ttl" {
  for_each   = toset(["sms_dialogues", "sms_inbound", "sms_reminded"])
  database   = google_firestore_database.default.name
  collection = each.key
  field      = "expire_at"
  ttl_config {}
}

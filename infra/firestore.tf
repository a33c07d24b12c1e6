resource "google_firestore_database" "default" {
  name                              = "(default)"
  location_id                       = var.region
  type                              = "FIRESTORE_NATIVE"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
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

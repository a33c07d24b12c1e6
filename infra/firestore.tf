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

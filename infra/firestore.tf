resource "google_firestore_database" "default" {
  name                              = "(default)"
  location_id                       = var.region
  type                              = "FIRESTORE_NATIVE"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
}

# Sessions go once neither the session nor the assertion that opened it can be used.
resource "google_firestore_field" "session_ttl" {
  database   = google_firestore_database.default.name
  collection = "sessions"
  field      = "retain_until"
  ttl_config {}
}

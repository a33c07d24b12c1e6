# Backups (issue 24): daily, kept 30 days, for both databases; point-in-time recovery covers the
# last 7 days (Spanner version_retention_period, Firestore PITR). Restoring is scripted in
# docs/runbook.md ("Restore from backup"), and drilled on staging.

locals {
  backup_retention = "2592000s" # 30 days
}

resource "google_spanner_backup_schedule" "daily" {
  instance           = google_spanner_instance.ereg.name
  database           = google_spanner_database.ereg.name
  name               = "daily"
  retention_duration = local.backup_retention
  spec {
    cron_spec {
      text = "0 1 * * *" # 01:00 UTC, before the morning's bookings
    }
  }
  full_backup_spec {}
}

resource "google_firestore_backup_schedule" "daily" {
  database  = google_firestore_database.default.name
  retention = local.backup_retention
  daily_recurrence {}
}

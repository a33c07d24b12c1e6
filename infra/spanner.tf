resource "google_spanner_instance" "ereg" {
  name             = "ereg"
  config           = "regional-${var.region}"
  display_name     = "e-Registration"
  processing_units = var.spanner_processing_units
  labels           = { environment = var.environment }
  depends_on       = [google_project_service.api]
}

resource "google_spanner_database" "ereg" {
  instance                 = google_spanner_instance.ereg.name
  name                     = "ereg"
  ddl                      = local.spanner_ddl
  version_retention_period = "7d" # point-in-time recovery over 7 days (the maximum)
  deletion_protection      = true
  enable_drop_protection   = true
  lifecycle {
    # A plan that would replace the database (a DDL statement edited or removed, e.g. when applying
    # an older commit's infra/) fails here instead of reaching Spanner's drop protection.
    prevent_destroy = true
  }
  # checkov:skip=CKV_GCP_93:Google-managed encryption at rest; CMEK is an operator's policy choice (docs/deploy.md)
}

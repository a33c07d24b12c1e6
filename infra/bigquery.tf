resource "google_bigquery_dataset" "reporting" {
  dataset_id = "reporting"
  location   = "EU"
  # checkov:skip=CKV_GCP_81:Google-managed encryption at rest; CMEK is an operator's policy choice (docs/deploy.md)
  depends_on = [google_project_service.api]
}

resource "google_bigquery_table" "table" {
  for_each            = local.bigquery_tables
  dataset_id          = google_bigquery_dataset.reporting.dataset_id
  table_id            = each.key
  description         = lookup(each.value, "description", null)
  schema              = jsonencode(each.value.schema)
  clustering          = lookup(each.value, "clustering", null)
  deletion_protection = true
  # Event tables: a query that names no partitions fails instead of scanning (and billing) them all.
  require_partition_filter = lookup(each.value, "require_partition_filter", false)
  # checkov:skip=CKV_GCP_80:Google-managed encryption at rest; CMEK is an operator's policy choice (docs/deploy.md)

  time_partitioning {
    type  = each.value.time_partitioning.type
    field = each.value.time_partitioning.field
  }
}

resource "google_bigquery_table" "view" {
  for_each            = local.bigquery_views_on_tables
  dataset_id          = google_bigquery_dataset.reporting.dataset_id
  table_id            = each.key
  deletion_protection = false
  # checkov:skip=CKV_GCP_121:a view holds no data and is recreated from schema/bigquery/*.view.sql
  # checkov:skip=CKV_GCP_80:a view holds no data to encrypt

  view {
    query          = replace(replace(each.value, "{project}", var.project_id), "{dataset}", "reporting")
    use_legacy_sql = false
  }

  depends_on = [google_bigquery_table.table]
}

resource "google_bigquery_table" "view_on_views" {
  for_each            = local.bigquery_views_on_views
  dataset_id          = google_bigquery_dataset.reporting.dataset_id
  table_id            = each.key
  deletion_protection = false
  # checkov:skip=CKV_GCP_121:a view holds no data and is recreated from schema/bigquery/*.view.sql
  # checkov:skip=CKV_GCP_80:a view holds no data to encrypt

  view {
    query          = replace(replace(each.value, "{project}", var.project_id), "{dataset}", "reporting")
    use_legacy_sql = false
  }

  depends_on = [google_bigquery_table.view]
}

resource "google_bigquery_table" "view_on_derived" {
  for_each            = local.bigquery_views_on_derived
  dataset_id          = google_bigquery_dataset.reporting.dataset_id
  table_id            = each.key
  deletion_protection = false
  # checkov:skip=CKV_GCP_121:a view holds no data and is recreated from schema/bigquery/*.view.sql
  # checkov:skip=CKV_GCP_80:a view holds no data to encrypt

  view {
    query          = replace(replace(each.value, "{project}", var.project_id), "{dataset}", "reporting")
    use_legacy_sql = false
  }

  depends_on = [google_bigquery_table.view_on_views]
}

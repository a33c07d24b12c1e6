resource "google_bigquery_dataset" "reporting" {
  dataset_id = "reporting"
  location   = "EU"
}

resource "google_bigquery_table" "table" {
  for_each            = local.bigquery_tables
  dataset_id          = google_bigquery_dataset.reporting.dataset_id
  table_id            = each.key
  description         = lookup(each.value, "description", null)
  schema              = jsonencode(each.value.schema)
  clustering          = lookup(each.value, "clustering", null)
  deletion_protection = true

  time_partitioning {
    type  = each.value.time_partitioning.type
    field = each.value.time_partitioning.field
  }
}

resource "google_bigquery_table" "view" {
  for_each            = local.bigquery_views
  dataset_id          = google_bigquery_dataset.reporting.dataset_id
  table_id            = each.key
  deletion_protection = false

  view {
    query          = replace(replace(each.value, "{project}", var.project_id), "{dataset}", "reporting")
    use_legacy_sql = false
  }

  depends_on = [google_bigquery_table.table]
}

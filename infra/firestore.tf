resource "google_firestore_database" "default" {
  name                              = "(default)"
  location_id                       = var.region
  type                              = "FIRESTORE_NATIVE"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED" # 7 days
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "ABANDON" # terraform destroy never deletes the data
}

# Sessions go once neither the session nor the assertion that opened it can be used.
resource "google_firestore_field" "session_ttl" {
  database   = google_firestore_database.default.name
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

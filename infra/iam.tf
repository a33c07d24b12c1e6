# One service account per function, holding only what functions.yaml says the function touches.
# No primitive role (owner, editor, viewer) is granted anywhere; bindings are on the resource
# (database, dataset, topic, secret) wherever the service allows it.

locals {
  # The vocabulary of functions.yaml `access`: what a function touches -> the narrowest role.
  access_roles = {
    spanner   = { read = "roles/spanner.databaseReader", write = "ereg.spannerDataWriter" } # custom: no DDL (roles.tf)
    firestore = { read = "roles/datastore.viewer", write = "roles/datastore.user" }
    # each on its own database (issue 21); audit entries are created, never changed, by a function
    firestore_sessions = { read = "roles/datastore.viewer", write = "roles/datastore.user" }
    firestore_audit    = { append = "ereg.auditAppender", read = "roles/datastore.viewer" }
    bigquery           = { metadata = "roles/bigquery.metadataViewer", read = "roles/bigquery.dataViewer", write = "roles/bigquery.dataEditor" }
    # daily_aggregates only (open data's figures, written once per closed day): never the event tables
    bigquery_aggregates = { write = "roles/bigquery.dataEditor" }
    publish             = "roles/pubsub.publisher"
    view                = "roles/pubsub.viewer"
    kms                 = { sign = "roles/cloudkms.signerVerifier", public_key = "roles/cloudkms.publicKeyViewer" }
  }

  spanner_grants = {
    for name, f in local.functions : name => local.access_roles.spanner[f.access.spanner]
    if contains(keys(f.access), "spanner")
  }
  firestore_grants = {
    for name, f in local.functions : name => local.access_roles.firestore[f.access.firestore]
    if contains(keys(f.access), "firestore")
  }
  bigquery_grants = {
    for name, f in local.functions : name => local.access_roles.bigquery[f.access.bigquery]
    if contains(keys(f.access), "bigquery")
  }
  # function/part -> {role, database}: one conditioned binding per Firestore database a function uses
  firestore_part_grants = merge([
    for part, database in { firestore_sessions = "sessions", firestore_audit = "audit" } : {
      for name, f in local.functions : "${name}/${part}" => {
        function = name
        role     = local.access_roles[part][f.access[part]]
        database = database
      } if contains(keys(f.access), part)
    }
  ]...)
  bigquery_aggregate_grants = {
    for name, f in local.functions : name => local.access_roles.bigquery_aggregates[f.access.bigquery_aggregates]
    if contains(keys(f.access), "bigquery_aggregates")
  }
  topic_grants = merge(
    { for pair in flatten([
      for name, f in local.functions : [for t in lookup(f.access, "publish", []) : { key = "${name}/publish/${t}", function = name, topic = t, role = local.access_roles.publish }]
    ]) : pair.key => pair },
    { for pair in flatten([
      for name, f in local.functions : [for t in lookup(f.access, "view_topics", []) : { key = "${name}/view/${t}", function = name, topic = t, role = local.access_roles.view }]
    ]) : pair.key => pair },
  )
  secret_grants = { for pair in flatten([
    for name, f in local.functions : [for s in f.secrets : { key = "${name}/${s}", function = name, secret = s }]
  ]) : pair.key => pair }
}

resource "google_service_account" "fn" {
  for_each     = local.functions
  account_id   = "ereg-${each.value.service_name}"
  display_name = "e-Registration function ${each.key}"
}

# The identity Pub/Sub push requests carry (OIDC); it may invoke the event functions and nothing else.
resource "google_service_account" "push" {
  account_id   = "ereg-pubsub-push"
  display_name = "e-Registration Pub/Sub push"
}

resource "google_service_account_iam_member" "push_token_creator" {
  service_account_id = google_service_account.push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

resource "google_spanner_database_iam_member" "fn" {
  for_each = local.spanner_grants
  instance = google_spanner_instance.ereg.name
  database = google_spanner_database.ereg.name
  role     = lookup(local.custom_roles, each.value, each.value)
  member   = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# Firestore has no per-database binding; the condition limits the role to the one database.
resource "google_project_iam_member" "firestore" {
  for_each = local.firestore_grants
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${google_service_account.fn[each.key].email}"
  condition {
    title      = "ereg-firestore-only"
    expression = "resource.name == \"projects/${var.project_id}/databases/${google_firestore_database.default.name}\""
  }
}

resource "google_bigquery_dataset_iam_member" "fn" {
  for_each   = local.bigquery_grants
  dataset_id = google_bigquery_dataset.reporting.dataset_id
  role       = each.value
  member     = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# Create and read entities, nothing else: no update, no delete (the audit database's functions).
resource "google_project_iam_custom_role" "audit_appender" {
  role_id     = "ereg.auditAppender"
  title       = "e-Registration audit appender"
  description = "Appends audit entries; cannot change or delete one"
  permissions = ["datastore.databases.getMetadata", "datastore.entities.create"]
}

resource "google_project_iam_member" "firestore_part" {
  for_each = local.firestore_part_grants
  project  = var.project_id
  # a custom role (no "roles/" prefix) is the project's
  role   = startswith(each.value.role, "roles/") ? each.value.role : "projects/${var.project_id}/roles/${each.value.role}"
  member = "serviceAccount:${google_service_account.fn[each.value.function].email}"
  condition {
    title      = "ereg-firestore-${each.value.database}-only"
    expression = "resource.name == \"projects/${var.project_id}/databases/${each.value.database}\""
  }
  depends_on = [google_project_iam_custom_role.audit_appender, google_firestore_database.sessions, google_firestore_database.audit]
}

resource "google_bigquery_table_iam_member" "aggregates" {
  for_each   = local.bigquery_aggregate_grants
  dataset_id = google_bigquery_dataset.reporting.dataset_id
  table_id   = google_bigquery_table.table["daily_aggregates"].table_id
  role       = each.value
  member     = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# Queries run as jobs billed to the project: only functions that read rows need to start one.
resource "google_project_iam_member" "bigquery_jobs" {
  for_each = { for name, role in local.bigquery_grants : name => role if role == local.access_roles.bigquery.read }
  project  = var.project_id
  role     = "roles/bigquery.jobUser"
  member   = "serviceAccount:${google_service_account.fn[each.key].email}"
}

resource "google_pubsub_topic_iam_member" "fn" {
  for_each = local.topic_grants
  topic    = google_pubsub_topic.topic[each.value.topic].id
  role     = each.value.role
  member   = "serviceAccount:${google_service_account.fn[each.value.function].email}"
}

resource "google_secret_manager_secret_iam_member" "reader" {
  for_each  = local.secret_grants
  secret_id = google_secret_manager_secret.secret[each.value.secret].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.fn[each.value.function].email}"
}

resource "google_secret_manager_secret_iam_member" "redis_url_reader" {
  for_each  = { for name, f in local.functions : name => f if f.redis }
  secret_id = google_secret_manager_secret.redis_url.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# HTTP functions: public through the load balancer (their ingress admits nothing else).
resource "google_cloud_run_v2_service_iam_member" "public" {
  for_each = local.http_functions
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# Event functions: only Pub/Sub push, as the push identity.
resource "google_cloud_run_v2_service_iam_member" "push" {
  for_each = { for name, f in local.functions : name => f if !f.http }
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.push.email}"
}

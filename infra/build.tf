# The account Cloud Functions builds each function's container as. Since mid-2024 Cloud Build's
# default account in a new project has no rights to build a function, so the first apply failed
# without one. Cloud Build's redeploys (infra/deploy_functions.py) pass the same account.

resource "google_service_account" "build" {
  account_id   = "ereg-functions-build"
  display_name = "e-Registration function builds"
}

# What the documentation for a user-specified build account lists: write build logs, push the
# image to Artifact Registry, read the source archive.
resource "google_project_iam_member" "build" {
  for_each = toset(["roles/logging.logWriter", "roles/artifactregistry.writer", "roles/storage.objectViewer"])
  project  = var.project_id
  role     = each.key
  member   = "serviceAccount:${google_service_account.build.email}"
}

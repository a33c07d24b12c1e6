# Secret Manager secrets of functions.yaml `secrets`. Terraform creates them empty; an operator adds
# the first version (docs/deploy.md), so no secret value ever sits in Terraform state or in the repo.
resource "google_secret_manager_secret" "secret" {
  for_each  = local.declarations.secrets
  secret_id = each.key
  labels    = { environment = var.environment }
  annotations = {
    purpose = each.value
  }
  replication {
    user_managed {
      replicas {
        location = var.region
      }
    }
  }
  depends_on = [google_project_service.api]
}

# Cloud Build triggers (docs/deploy.md): staging builds every push and takes main through staging
# (cloudbuild.yaml); production promotes a tagged release, only after someone approves the build
# (cloudbuild-promote.yaml). Both run as the deployer account of docs/deploy.md step 1.

variable "github_owner" {
  type        = string
  description = "owner of the GitHub repository (connected to Cloud Build once, docs/deploy.md)"
}

variable "github_repo" {
  type        = string
  description = "name of the GitHub repository"
}

variable "release_bucket" {
  type        = string
  default     = ""
  description = "production only: staging's release bucket (<staging project>-ereg-releases)"
}

variable "release_readers" {
  type        = list(string)
  default     = []
  description = "staging only: members that may read the releases (production's deployer)"
}

locals {
  deployer = "projects/${var.project_id}/serviceAccounts/ereg-deployer@${var.project_id}.iam.gserviceaccount.com"
}

locals {
  # Staging: every push checked, main taken through staging. Production: a tag, once approved.
  triggers = {
    staging    = { name = "ereg-build", filename = "cloudbuild.yaml", branch = ".*", tag = null, approval = false }
    production = { name = "ereg-promote", filename = "cloudbuild-promote.yaml", branch = null, tag = "^v[0-9]+\\.[0-9]+\\.[0-9]+$", approval = true }
  }
}

resource "google_cloudbuild_trigger" "release" {
  for_each        = { for env, trigger in local.triggers : env => trigger if env == var.environment }
  name            = each.value.name
  location        = var.region
  filename        = each.value.filename
  service_account = local.deployer
  github {
    owner = var.github_owner
    name  = var.github_repo
    push {
      branch = each.value.branch
      tag    = each.value.tag
    }
  }
  # On production a person approves each promotion (roles/cloudbuild.builds.approver, docs/runbook.md).
  approval_config {
    approval_required = each.value.approval
  }
  substitutions = {
    _ENV       = each.key
    _REGION    = var.region
    _DOMAIN    = var.domain
    _LOGIN_URL = var.login_url
    # Releases are kept in staging's bucket; staging's own build writes there.
    _RELEASE_BUCKET = var.release_bucket != "" ? var.release_bucket : "${var.project_id}-ereg-releases"
  }
  depends_on = [google_project_service.api]
}

variable "login_url" {
  type        = string
  description = "the national login node's authorisation address the web apps send people to"
}

# Releases (staging only): each main build's source archive and web bundle, kept per commit and
# never overwritten; production's promotion reads them.
resource "google_storage_bucket" "releases" {
  count                       = var.environment == "staging" ? 1 : 0
  name                        = "${var.project_id}-ereg-releases"
  location                    = "EU"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  versioning {
    enabled = true
  }
  logging {
    log_bucket = google_storage_bucket.access_logs.name
  }
  lifecycle_rule {
    condition {
      age = 400 # a year of releases to roll back to, and some
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_storage_bucket_iam_member" "release_readers" {
  for_each = var.environment == "staging" ? toset(var.release_readers) : toset([])
  bucket   = google_storage_bucket.releases[0].name
  role     = "roles/storage.objectViewer"
  member   = each.key
}

# e-Registration cloud resources, one root module for every environment: staging and production differ
# only in their variables (environments/<env>.tfvars) and their state prefix (environments/<env>.backend).
#
# Declarations shared with the local stack are data files read here and by the Python code:
#   schema/         Spanner DDL and BigQuery tables/views (emulators/provision.py applies the same files)
#   topology.yaml   Pub/Sub topics, push subscriptions, retry and dead-letter policies, schedules
#   functions.yaml  every Cloud Function: trigger, routes, sizing, access (IAM), secrets

terraform {
  required_version = ">= 1.11" # write-only arguments (redis.tf)
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.23" # secret_data_wo
    }
    # google_project_service_identity only (pubsub.tf): the Pub/Sub service agent, created before it is bound.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 6.23"
    }
  }
  # Bucket and prefix come from environments/<env>.backend (terraform init -backend-config=...).
  backend "gcs" {}
}

variable "project_id" {
  type        = string
  description = "Google Cloud project"
}

variable "environment" {
  type        = string
  description = "staging or production"
  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production"
  }
}

variable "region" {
  type    = string
  default = "europe-central2"
}

variable "domain" {
  type        = string
  description = "public host name of the API and web apps (managed TLS certificate)"
}

variable "spanner_processing_units" {
  type    = number
  default = 1000
}

variable "redis_memory_gb" {
  type    = number
  default = 5
}

variable "instance_scale" {
  type        = number
  default     = 1
  description = "multiplies every function's max_instances (staging runs a fraction of production)"
}

variable "alert_email" {
  type        = string
  description = "where alerts go"
}

provider "google" {
  project = var.project_id
  region  = var.region
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
}

data "google_project" "this" {}

locals {
  spanner_ddl = flatten([
    for file in sort(fileset("${path.module}/schema/spanner", "*.sql")) : [
      for statement in split(";", replace(file("${path.module}/schema/spanner/${file}"), "/--[^\\n]*/", "")) :
      trimspace(statement) if trimspace(statement) != ""
    ]
  ])
  bigquery_tables = {
    for file in fileset("${path.module}/schema/bigquery", "*.json") :
    trimsuffix(file, ".json") => jsondecode(file("${path.module}/schema/bigquery/${file}"))
  }
  bigquery_views = {
    for file in fileset("${path.module}/schema/bigquery", "*.view.sql") :
    trimsuffix(file, ".view.sql") => file("${path.module}/schema/bigquery/${file}")
  }
  # BigQuery checks what a view reads when the view is created, so views are created in layers: over
  # tables only, over those, over those (tests/unit/test_infra.py fails when a view needs a fourth).
  bigquery_view_reads = {
    for name, query in local.bigquery_views :
    name => [for other in keys(local.bigquery_views) : other if strcontains(query, ".{dataset}.${other}`")]
  }
  bigquery_views_on_tables = {
    for name, query in local.bigquery_views : name => query if length(local.bigquery_view_reads[name]) == 0
  }
  bigquery_views_on_views = {
    for name, query in local.bigquery_views : name => query
    if length(local.bigquery_view_reads[name]) > 0
    && alltrue([for read in local.bigquery_view_reads[name] : contains(keys(local.bigquery_views_on_tables), read)])
  }
  bigquery_views_on_derived = {
    for name, query in local.bigquery_views : name => query
    if !contains(keys(merge(local.bigquery_views_on_tables, local.bigquery_views_on_views)), name)
  }

  topology     = yamldecode(file("${path.module}/topology.yaml"))
  declarations = yamldecode(file("${path.module}/functions.yaml"))

  pubsub_service_agent = "serviceAccount:${google_project_service_identity.pubsub.email}"
}

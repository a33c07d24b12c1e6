# e-Registration cloud resources. The schema files in schema/ are the same ones the local bootstrap
# (emulators/provision.py) applies to the emulators.

terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
  }
}

variable "project_id" {
  type        = string
  description = "Google Cloud project"
}

variable "region" {
  type    = string
  default = "europe-central2"
}

variable "spanner_processing_units" {
  type    = number
  default = 1000
}

provider "google" {
  project = var.project_id
  region  = var.region
}

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
  topics = [
    "visit-events", "sms-requests", "outbox-sweep-ticks", "reminder-ticks", "referral-chunks", "referral-events",
    "programme-ticks",
  ]
}

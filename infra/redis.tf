# Memorystore for Redis: the live availability projection and the shared rate-limit buckets
# (issue 10). Functions with `redis: true` in functions.yaml reach it through the Serverless VPC
# connector and read its address, with the AUTH string, from the redis-url secret (EREG_REDIS_URL).

resource "google_compute_network" "ereg" {
  name                    = "ereg"
  auto_create_subnetworks = false
  depends_on              = [google_project_service.api]
}

# Nothing outside reaches into the network; the connector's own health-check rules (created by
# Google at priority 1000) come first.
resource "google_compute_firewall" "deny_ingress" {
  name      = "ereg-deny-ingress"
  network   = google_compute_network.ereg.name
  direction = "INGRESS"
  priority  = 65534
  deny {
    protocol = "all"
  }
  source_ranges = ["0.0.0.0/0"]
  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_vpc_access_connector" "functions" {
  name          = "ereg-functions"
  region        = var.region
  network       = google_compute_network.ereg.name
  ip_cidr_range = "10.8.0.0/28"
  min_instances = 2
  max_instances = var.environment == "production" ? 10 : 3
  machine_type  = var.environment == "production" ? "e2-standard-4" : "e2-micro"
  depends_on    = [google_project_service.api]
}

resource "google_redis_instance" "ereg" {
  name               = "ereg"
  region             = var.region
  tier               = "STANDARD_HA"
  memory_size_gb     = var.redis_memory_gb
  redis_version      = "REDIS_7_2"
  authorized_network = google_compute_network.ereg.id
  connect_mode       = "DIRECT_PEERING"
  auth_enabled       = true
  # TLS on the wire (port 6378); the clients check the instance's own CA (the redis-ca secret).
  transit_encryption_mode = "SERVER_AUTHENTICATION"
  maintenance_policy {
    weekly_maintenance_window {
      day = "TUESDAY"
      start_time {
        hours   = 2
        minutes = 0
      }
    }
  }
  depends_on = [google_project_service.api]
}

resource "google_secret_manager_secret" "redis_url" {
  secret_id = "redis-url"
  labels    = { environment = var.environment }
  replication {
    user_managed {
      replicas {
        location = var.region
      }
    }
  }
  depends_on = [google_project_service.api]
}

# The AUTH string goes to Secret Manager only: written as a write-only argument (Terraform 1.11+,
# never stored in the state; the instance's own auth_string attribute stays sensitive in the
# private state bucket, see docs/deploy.md). Bump redis_url_version after rotating the AUTH string.
variable "redis_url_version" {
  type        = number
  default     = 1
  description = "raise by one to write the redis-url secret again (after an AUTH rotation or a new instance)"
}

resource "google_secret_manager_secret_version" "redis_url" {
  secret         = google_secret_manager_secret.redis_url.id
  secret_data_wo = "rediss://:${urlencode(google_redis_instance.ereg.auth_string)}@${google_redis_instance.ereg.host}:${google_redis_instance.ereg.port}/0?${local.redis_tls_query}"
  # Terraform cannot see a write-only value change: the version follows a new instance (its creation
  # time and address) by itself, and var.redis_url_version after an AUTH rotation.
  secret_data_wo_version = var.redis_url_version * 16777216 + parseint(substr(sha256("${google_redis_instance.ereg.create_time}|${google_redis_instance.ereg.host}"), 0, 6), 16)
}

locals {
  # redis-py reads TLS settings from the URL's query: the instance's own server CA (public), so the
  # chain proves it is this instance (Memorystore's certificates name no host to check).
  redis_tls_query = "ssl_cert_reqs=required&ssl_check_hostname=false&ssl_ca_data=${urlencode(join("\n", [for ca in google_redis_instance.ereg.server_ca_certs : ca.cert]))}"
}

# Cloud Armor in front of the load balancer: per-client limits at the edge, before the functions'
# own token buckets.

resource "google_compute_security_policy" "edge" {
  name = "ereg-edge"

  rule {
    action   = "throttle"
    priority = 1000
    match {
      expr {
        expression = "request.path.startsWith('/api/v1/login')"
      }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"
      rate_limit_threshold {
        count        = 20
        interval_sec = 60
      }
    }
  }

  rule {
    action   = "throttle"
    priority = 1100
    match {
      expr {
        expression = "request.path.startsWith('/api/v1/slots') || request.path.startsWith('/api/v1/visits')"
      }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"
      rate_limit_threshold {
        count        = 300
        interval_sec = 60
      }
    }
  }

  rule {
    action   = "deny(404)"
    priority = 1200
    match {
      expr {
        expression = "request.path.startsWith('/dev/')"
      }
    }
    description = "the development identity provider never exists in the cloud"
  }

  rule {
    action   = "allow"
    priority = 2147483647
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    description = "default"
  }
}

# The external HTTPS load balancer: one serverless NEG and backend service per HTTP function of
# functions.yaml, routed by the function's path templates; everything else goes to the web apps'
# bucket. Cloud Armor sits on every API backend; Cloud CDN on those marked `cdn: true`.

resource "google_compute_global_address" "edge" {
  name       = "ereg-edge"
  depends_on = [google_project_service.api]
}

resource "google_compute_managed_ssl_certificate" "edge" {
  name = "ereg-edge"
  managed {
    domains = [var.domain]
  }
}

resource "google_compute_ssl_policy" "edge" {
  name            = "ereg-edge"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_region_network_endpoint_group" "fn" {
  for_each              = local.http_functions
  name                  = "ereg-${each.value.service_name}"
  region                = var.region
  network_endpoint_type = "SERVERLESS"
  cloud_run {
    # The short service name (a gen2 function's Cloud Run service is named as the function);
    # service_config[0].service is the full resource path, which the NEG does not accept.
    service = google_cloudfunctions2_function.fn[each.key].name
  }
}

resource "google_compute_backend_service" "fn" {
  for_each              = local.http_functions
  name                  = "ereg-${each.value.service_name}"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = "HTTPS"
  security_policy       = google_compute_security_policy.edge.id
  enable_cdn            = each.value.cdn
  # HSTS on every API answer too (the web apps' bucket sends all of web/headers.json)
  custom_response_headers = ["Strict-Transport-Security: ${jsondecode(file("${path.module}/../web/headers.json"))["Strict-Transport-Security"]}"]

  backend {
    group = google_compute_region_network_endpoint_group.fn[each.key].id
  }

  dynamic "cdn_policy" {
    for_each = each.value.cdn ? [1] : []
    content {
      # Only what the function marks Cache-Control: public is cached (anonymous searches, open data);
      # answers to signed-in users are private and pass through.
      cache_mode = "USE_ORIGIN_HEADERS" # TTLs come from the origin's max-age (5 s for searches)
      cache_key_policy {
        include_host         = true
        include_protocol     = true
        include_query_string = true
      }
      negative_caching = false
    }
  }

  log_config {
    enable      = true
    sample_rate = 1
  }
}

# The static web apps (patient, agent, point, dashboard, admin; issue 14).
resource "google_storage_bucket" "web" {
  name                        = "${var.project_id}-ereg-web"
  location                    = "EU"
  uniform_bucket_level_access = true
  public_access_prevention    = "inherited"
  versioning {
    enabled = true
  }
  logging {
    log_bucket = google_storage_bucket.access_logs.name
  }
  # "/agent/" serves agent/index.html, as the local host does (emulators/static_site.py); "/" is
  # rewritten to "/patient/" by the URL map (web/aliases.json).
  website {
    main_page_suffix = "index.html"
  }
  # checkov:skip=CKV_GCP_114:the web apps are public static files served through the load balancer
}

resource "google_storage_bucket_iam_member" "web_public" {
  bucket = google_storage_bucket.web.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
  # checkov:skip=CKV_GCP_28:the web apps are public static files; nothing else is stored in this bucket
}

resource "google_storage_bucket" "access_logs" {
  name                        = "${var.project_id}-ereg-access-logs"
  location                    = "EU"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  versioning {
    enabled = true
  }
  lifecycle_rule {
    condition {
      age = 365
    }
    action {
      type = "Delete"
    }
  }
  # checkov:skip=CKV_GCP_62:this is the access-log bucket itself
}

resource "google_compute_backend_bucket" "web" {
  name        = "ereg-web"
  bucket_name = google_storage_bucket.web.name
  enable_cdn  = true
  # The CDN keeps what each object's Cache-Control says: HTML no-cache (revalidated on every load, so
  # a release is live at once), assets 5 minutes (cloudbuild.yaml publish-web).
  cdn_policy {
    cache_mode = "USE_ORIGIN_HEADERS"
  }
  # The same security headers the local host sends: the apps talk to their own origin only.
  custom_response_headers = [for name, value in jsondecode(file("${path.module}/../web/headers.json")) : "${name}: ${value}"]
}

locals {
  # Cloud Armor rate limits: a route template becomes a regular expression ("{x=*}" one segment,
  # "**" the rest); the function's templates are one alternation.
  edge_limits = {
    for index, name in sort([for n, f in local.http_functions : n if lookup(f, "edge_limit", null) != null]) :
    name => merge(local.http_functions[name].edge_limit, {
      priority = 1000 + index
      pattern = "^(${join("|", [
        for t in local.http_functions[name].routes :
        replace(replace(t, "/\\{\\w+=\\*\\}/", "[^/]+"), "**", ".*")
      ])})/?$"
    })
  }

  # URL-map route rules: every (function, path template) pair; templates do not overlap, so the
  # priority only has to be unique.
  routes = flatten([
    for name, f in local.http_functions : [for template in f.routes : { function = name, template = template }]
  ])
}

resource "google_compute_url_map" "edge" {
  name            = "ereg-edge"
  default_service = google_compute_backend_bucket.web.id

  host_rule {
    hosts        = ["*"]
    path_matcher = "ereg"
  }

  path_matcher {
    name            = "ereg"
    default_service = google_compute_backend_bucket.web.id

    # Paths that serve another path's page: "/" is the patient app in patient/ (web/aliases.json, which
    # the local host reads too). Priorities 1.. are the functions' routes; these come after them.
    dynamic "route_rules" {
      for_each = [for from, to in jsondecode(file("${path.module}/../web/aliases.json")) : { path = from, target = to }]
      content {
        priority = length(local.routes) + route_rules.key + 1
        service  = google_compute_backend_bucket.web.id
        match_rules {
          full_path_match = route_rules.value.path
        }
        route_action {
          url_rewrite {
            path_prefix_rewrite = route_rules.value.target
          }
        }
      }
    }

    dynamic "route_rules" {
      for_each = local.routes
      content {
        priority = route_rules.key + 1
        service  = google_compute_backend_service.fn[route_rules.value.function].id
        match_rules {
          path_template_match = route_rules.value.template
        }
      }
    }
  }
}

resource "google_compute_target_https_proxy" "edge" {
  name             = "ereg-edge"
  url_map          = google_compute_url_map.edge.id
  ssl_certificates = [google_compute_managed_ssl_certificate.edge.id]
  ssl_policy       = google_compute_ssl_policy.edge.id
}

resource "google_compute_global_forwarding_rule" "https" {
  name                  = "ereg-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.edge.id
  port_range            = "443"
  target                = google_compute_target_https_proxy.edge.id
}

# Plain HTTP only redirects to HTTPS.
resource "google_compute_url_map" "redirect" {
  name = "ereg-redirect"
  default_url_redirect {
    https_redirect = true
    strip_query    = false
  }
}

resource "google_compute_target_http_proxy" "redirect" {
  name    = "ereg-redirect"
  url_map = google_compute_url_map.redirect.id
}

resource "google_compute_global_forwarding_rule" "http" {
  name                  = "ereg-http"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.edge.id
  port_range            = "80"
  target                = google_compute_target_http_proxy.redirect.id
}

# Cloud Armor: per-client limits and bans at the edge, before the functions' own token buckets;
# preconfigured OWASP rules; the development identity provider's paths never exist in the cloud.
resource "google_compute_security_policy" "edge" {
  name = "ereg-edge"
  type = "CLOUD_ARMOR"

  adaptive_protection_config {
    layer_7_ddos_defense_config {
      enable = true
    }
  }

  advanced_options_config {
    json_parsing = "STANDARD"
    log_level    = "NORMAL"
  }

  rule {
    action      = "deny(404)"
    priority    = 100
    description = "the development identity provider and any /dev/ path never exist in the cloud"
    match {
      expr {
        expression = "request.path.startsWith('/dev/')"
      }
    }
  }

  rule {
    action      = "deny(403)"
    priority    = 200
    description = "Log4j lookups (CVE-2021-44228): no Java here, but probes are refused at the edge"
    match {
      expr {
        expression = "evaluatePreconfiguredWaf('cve-canary')"
      }
    }
  }

  dynamic "rule" {
    for_each = {
      300 = "sqli-v33-stable"
      310 = "xss-v33-stable"
      320 = "lfi-v33-stable"
      330 = "rfi-v33-stable"
      340 = "rce-v33-stable"
      350 = "methodenforcement-v33-stable"
      360 = "scannerdetection-v33-stable"
      370 = "protocolattack-v33-stable"
      380 = "sessionfixation-v33-stable"
    }
    content {
      action      = "deny(403)"
      priority    = rule.key
      description = "OWASP ModSecurity CRS: ${rule.value}"
      match {
        expr {
          expression = "evaluatePreconfiguredWaf('${rule.value}', {'sensitivity': 1})"
        }
      }
    }
  }

  # Per-client rate limits with bans, for each function with `edge_limit` in functions.yaml, on
  # exactly its routes (path templates turned into one RE2 pattern).
  dynamic "rule" {
    for_each = local.edge_limits
    content {
      action      = "rate_based_ban"
      priority    = rule.value.priority
      description = "${rule.key}: ${rule.value.per_minute} a minute per client address, ban for ${rule.value.ban_s} s above ${rule.value.ban_per_5_min} in 5 minutes"
      match {
        expr {
          expression = "request.path.matches('${rule.value.pattern}')"
        }
      }
      rate_limit_options {
        conform_action   = "allow"
        exceed_action    = "deny(429)"
        enforce_on_key   = "IP"
        ban_duration_sec = rule.value.ban_s
        rate_limit_threshold {
          count        = rule.value.per_minute
          interval_sec = 60
        }
        ban_threshold {
          count        = rule.value.ban_per_5_min
          interval_sec = 300
        }
      }
    }
  }

  rule {
    action      = "allow"
    priority    = 2147483647
    description = "default"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }
}

output "edge_ip" {
  value       = google_compute_global_address.edge.address
  description = "point the domain's A record here"
}

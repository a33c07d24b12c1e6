# Identity Platform federates the national login node (SAML) and hands the web apps an ID token,
# which the login function verifies (shared/services/identity.py): issuer
# https://securetoken.google.com/<project>, audience the project, signed with Google's securetoken
# keys, the node's SAML attributes under firebase.sign_in_attributes. Staff roles are custom claims.

variable "login_node_entity_id" {
  type        = string
  description = "the national login node's SAML entity id (from its metadata)"
}

variable "login_node_sso_url" {
  type        = string
  description = "the node's SingleSignOnService URL (from its metadata)"
}

variable "login_node_certificates" {
  type        = list(string)
  description = "the node's X.509 signing certificates, PEM (from its metadata; two during a rotation)"
  validation {
    condition     = length(var.login_node_certificates) > 0
    error_message = "set login_node_certificates from the login node's SAML metadata (docs/deploy.md)"
  }
}

variable "saml_provider_id" {
  type        = string
  default     = "saml.national-login"
  description = "Identity Platform provider id (must start with saml.)"
}

locals {
  identity_platform_issuer   = "https://securetoken.google.com/${var.project_id}"
  identity_platform_jwks_url = "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com"
}

resource "google_identity_platform_config" "this" {
  # Sign-in redirects only to the environment's own domain (and the project's auth handler).
  authorized_domains = [var.domain, "${var.project_id}.firebaseapp.com"]
  depends_on         = [google_project_service.api]
}

resource "google_identity_platform_inbound_saml_config" "login_node" {
  name         = var.saml_provider_id
  display_name = "Krajowy Węzeł Identyfikacji Elektronicznej"
  enabled      = true
  idp_config {
    idp_entity_id = var.login_node_entity_id
    sso_url       = var.login_node_sso_url
    sign_request  = true
    dynamic "idp_certificates" {
      for_each = var.login_node_certificates
      content {
        x509_certificate = idp_certificates.value
      }
    }
  }
  sp_config {
    sp_entity_id = "https://${var.domain}/saml"
    callback_uri = "https://${var.project_id}.firebaseapp.com/__/auth/handler"
  }
  depends_on = [google_identity_platform_config.this]
}

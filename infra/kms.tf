# The EU DCC document signer (issue 23): an asymmetric Cloud KMS key, EC P-256 with SHA-256 (ES256).
# Its private half never leaves KMS; issue_certificates signs through it (roles/cloudkms.signerVerifier)
# and certificates reads its public key for the trust list (roles/cloudkms.publicKeyViewer), as
# functions.yaml `access: {kms: ...}` declares. The public key goes to the EU gateway as Poland's
# document signer certificate; a new signer is a new key version, published before it signs.

resource "google_kms_key_ring" "ereg" {
  name       = "ereg-${var.environment}"
  location   = var.region
  depends_on = [google_project_service.api]
}

resource "google_kms_crypto_key" "dcc_signer" {
  # checkov:skip=CKV_GCP_43:asymmetric signing keys cannot rotate automatically; a new signer is a new version published to the EU gateway first
  name     = "dcc-document-signer"
  key_ring = google_kms_key_ring.ereg.id
  purpose  = "ASYMMETRIC_SIGN"
  labels   = { environment = var.environment }

  version_template {
    algorithm        = "EC_SIGN_P256_SHA256"
    protection_level = "HSM"
  }

  lifecycle {
    prevent_destroy = true
  }
}

locals {
  kms_grants = {
    for name, f in local.functions : name => local.access_roles.kms[f.access.kms]
    if contains(keys(f.access), "kms")
  }
}

resource "google_kms_crypto_key_iam_member" "fn" {
  for_each      = local.kms_grants
  crypto_key_id = google_kms_crypto_key.dcc_signer.id
  role          = each.value
  member        = "serviceAccount:${google_service_account.fn[each.key].email}"
}
